"""The difusores' status board in the operator console."""

from __future__ import annotations

from django.urls import path

from openprep.difusion import views

urlpatterns = [
    path("difusion/", views.tablero, name="difusion_tablero"),
]
