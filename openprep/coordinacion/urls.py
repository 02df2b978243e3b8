"""The coordinator's dashboard, SIN ACTA, and the current PREP database of an election."""

from __future__ import annotations

from django.urls import path

from openprep.coordinacion import views

urlpatterns = [
    path("coordinacion/", views.tablero, name="coordinacion"),
    path("coordinacion/sin-acta/", views.sin_acta, name="coordinacion_sin_acta"),
    path("coordinacion/base/<str:clave_eleccion>.csv", views.base_csv, name="coordinacion_base"),
]
