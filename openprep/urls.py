"""The operator console's URLs. Every view declares its access policy (openprep.accounts.access);
the startup check refuses to run if one does not."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path

from openprep.accounts import views as accounts

urlpatterns = [
    path("", accounts.inicio, name="inicio"),
    path("entrar/", accounts.entrar, name="entrar"),
    path("salir/", accounts.salir, name="salir"),
    *(
        path(f"{tablero.url_name}/", accounts.VISTAS_TABLERO[rol], name=tablero.url_name)
        for rol, tablero in accounts.TABLEROS.items()
    ),
    path("admin/", admin.site.urls),
]
