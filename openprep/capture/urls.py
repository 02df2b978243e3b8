"""Capture and verification (cotejo) screens, their work queues, and corrections."""

from __future__ import annotations

from django.urls import path

from openprep.capture import views

urlpatterns = [
    path("captura/", views.captura, name="captura"),
    path("captura/siguiente/", views.captura_siguiente, name="captura_siguiente"),
    path("captura/<str:clave_acta>/", views.capturar, name="capturar"),
    path("captura/<str:clave_acta>/liberar/", views.liberar_captura, name="liberar_captura"),
    path("verificacion/", views.verificacion, name="verificacion"),
    path("verificacion/siguiente/", views.verificacion_siguiente, name="verificacion_siguiente"),
    path("verificacion/<str:clave_acta>/", views.verificar, name="verificar"),
    path(
        "verificacion/<str:clave_acta>/liberar/",
        views.liberar_verificacion,
        name="liberar_verificacion",
    ),
    path("coordinacion/correccion/<str:clave_acta>/", views.correccion, name="correccion"),
]
