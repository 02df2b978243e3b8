"""Acopio and digitalización screens, the operators' image view and the PREP Casilla API."""

from __future__ import annotations

from django.urls import path

from openprep.accounts.models import Rol
from openprep.accounts.views import VISTAS_TABLERO

urlpatterns = [
    path("acopio/", VISTAS_TABLERO[Rol.ACOPIADOR], name="acopio"),
    path("digitalizacion/", VISTAS_TABLERO[Rol.DIGITALIZADOR], name="digitalizacion"),
]
