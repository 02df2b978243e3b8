"""Capture and verification (cotejo) screens and their work queues."""

from __future__ import annotations

from django.urls import path

from openprep.accounts.models import Rol
from openprep.accounts.views import VISTAS_TABLERO

urlpatterns = [
    path("captura/", VISTAS_TABLERO[Rol.CAPTURISTA], name="captura"),
    path("verificacion/", VISTAS_TABLERO[Rol.VERIFICADOR], name="verificacion"),
]
