"""Acopio and digitalización screens, the operators' image view and the PREP Casilla API
(its token and its uploads)."""

from __future__ import annotations

from django.urls import path

from openprep.intake import api, views

urlpatterns = [
    path("acopio/", views.acopio, name="acopio"),
    path("digitalizacion/", views.digitalizacion, name="digitalizacion"),
    path("imagenes/<str:sha256>/", views.imagen, name="imagen"),
    path("api/casilla/v1/sesion/", api.sesion, name="api_casilla_sesion"),
    path("api/casilla/v1/actas/", api.actas, name="api_casilla_actas"),
]
