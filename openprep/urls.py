"""The operator console's URLs. Every view declares its access policy (openprep.accounts.access);
the startup check refuses to run if one does not. Each app owns the URLs of its screens."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from openprep.accounts import views as accounts
from openprep.accounts.models import Rol

urlpatterns = [
    path("", accounts.inicio, name="inicio"),
    path("entrar/", accounts.entrar, name="entrar"),
    path("salir/", accounts.salir, name="salir"),
    path("administracion/", accounts.VISTAS_TABLERO[Rol.ADMINISTRADOR], name="administracion"),
    path("", include("openprep.intake.urls")),
    path("", include("openprep.capture.urls")),
    path("", include("openprep.coordinacion.urls")),
    path("", include("openprep.difusion.urls")),
    path("admin/", admin.site.urls),
]
