"""Login, logout and each role's landing page (the screens of later work hang from these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openprep.accounts.access import catds_visibles, operador_de, public, roles
from openprep.accounts.models import Rol

entrar = public(auth_views.LoginView.as_view(redirect_authenticated_user=True))
# Logging out only ends the caller's own session, and it is a CSRF-checked POST: anyone
# may do it, including someone whose session has just expired.
salir = public(auth_views.LogoutView.as_view())


@dataclass(frozen=True)
class Tablero:
    """A role's landing page."""

    rol: Rol
    url_name: str
    titulo: str
    descripcion: str


TABLEROS = {
    t.rol: t
    for t in (
        Tablero(
            Rol.ACOPIADOR,
            "acopio",
            "Acopio",
            "Registre la llegada de cada acta a la CATD escribiendo o escaneando su CLAVE_ACTA.",
        ),
        Tablero(
            Rol.DIGITALIZADOR,
            "digitalizacion",
            "Digitalización",
            "Escanee o cargue la imagen de cada acta y confirme de qué acta se trata.",
        ),
        Tablero(
            Rol.CAPTURISTA,
            "captura",
            "Captura",
            "Capture los datos que muestra la imagen de cada acta que el sistema le asigne.",
        ),
        Tablero(
            Rol.VERIFICADOR,
            "verificacion",
            "Verificación y cotejo",
            "Compare la imagen con las capturas y resuelva los campos en que difieren.",
        ),
        Tablero(
            Rol.COORDINADOR,
            "coordinacion",
            "Coordinación",
            "Supervise el avance de sus CATD, atienda incidentes y registre actas SIN ACTA.",
        ),
        Tablero(
            Rol.ADMINISTRADOR,
            "administracion",
            "Administración",
            "Cargue el catálogo, dé de alta CATD y operadores y configure la publicación.",
        ),
    )
}


@roles(*Rol)
def inicio(request: HttpRequest) -> HttpResponse:
    """``/``: each operator goes to their role's page."""
    operador = operador_de(request.user)
    assert operador is not None  # guaranteed by @roles
    return redirect(TABLEROS[Rol(operador.rol)].url_name)


def _tablero_view(tablero: Tablero) -> Callable[[HttpRequest], HttpResponse]:
    @roles(tablero.rol)
    def view(request: HttpRequest) -> HttpResponse:
        operador = operador_de(request.user)
        return render(
            request,
            "accounts/tablero.html",
            {"tablero": tablero, "operador": operador, "catds": catds_visibles(request.user)},
        )

    view.__name__ = view.__qualname__ = f"tablero_{tablero.url_name}"
    return view


VISTAS_TABLERO = {rol: _tablero_view(tablero) for rol, tablero in TABLEROS.items()}
