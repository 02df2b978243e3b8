"""The coordinator's dashboard and SIN ACTA."""

from __future__ import annotations

from django.urls import path

from openprep.accounts.models import Rol
from openprep.accounts.views import VISTAS_TABLERO

urlpatterns = [
    path("coordinacion/", VISTAS_TABLERO[Rol.COORDINADOR], name="coordinacion"),
]
