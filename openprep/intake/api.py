"""The PREP Casilla API: the phone app at the casilla uploads the acta's photo.

``POST /api/casilla/v1/actas/`` (docs/api.md): HTTP Basic authentication of an operator
with the role digitalizador, no session and no CSRF token; recorded with ORIGEN CASILLA and
DIGITALIZACION MOVIL by the same code as the CATD's digitalización screen. Every answer is
JSON, errors included.

Credentials go through ``django.contrib.auth.authenticate`` with the request, so
django-axes counts failures and locks a username out exactly as on the login page.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from openprep.accounts.access import roles
from openprep.accounts.models import Rol
from openprep.core.errors import UserError
from openprep.intake.views import recibir_digitalizacion, respuesta_json_digitalizacion
from openprep.web import error_payload

REALM = 'Basic realm="openprep"'


class CredencialesNoValidas(UserError):
    http_status = 401


class UsuarioBloqueado(UserError):
    http_status = 429


def basic_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate each request with HTTP Basic (no session); answer errors as JSON.

    ``view`` carries its role policy (``@roles``); this wrapper keeps that policy visible
    for the startup check (functools.wraps copies it) but tells LoginRequiredMiddleware to
    let anonymous requests through: here they get 401 and a ``WWW-Authenticate`` challenge
    instead of the login page's redirect. It is CSRF-exempt because no cookie authenticates
    it: a browser cannot be tricked into sending Basic credentials it does not have.
    """

    @csrf_exempt
    @functools.wraps(view)
    def con_basic(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            request.user = _autenticar(request)
            return view(request, *args, **kwargs)
        except CredencialesNoValidas as exc:
            respuesta = JsonResponse(error_payload(exc), status=401)
            respuesta["WWW-Authenticate"] = REALM
            return respuesta
        except UserError as exc:
            return JsonResponse(error_payload(exc), status=getattr(exc, "http_status", 400))
        except PermissionDenied as exc:
            return JsonResponse({"error": str(exc), "mensaje": str(exc)}, status=403)

    con_basic.login_required = False  # type: ignore[attr-defined]  # after wraps copied True
    return con_basic


def _autenticar(request: HttpRequest) -> Any:
    credenciales = _credenciales(request)
    if credenciales is None:
        raise CredencialesNoValidas(
            "faltan las credenciales del operador.",
            hint="Envíe el usuario y la contraseña de un digitalizador con autenticación "
            "HTTP Basic (encabezado Authorization).",
        )
    usuario, clave = credenciales
    user = authenticate(request=request, username=usuario, password=clave)
    if user is not None:
        return user
    if getattr(request, "axes_locked_out", False):
        # Answered here, as JSON, instead of by AxesMiddleware's lockout page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        minutos = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise UsuarioBloqueado(
            f"el usuario {usuario} está bloqueado por demasiados intentos fallidos.",
            hint=f"Espere {minutos} minutos e intente de nuevo, o pida a un administrador "
            "que lo desbloquee.",
        )
    raise CredencialesNoValidas(
        f"usuario o contraseña incorrectos para {usuario!r}.",
        hint="Revise el usuario y la contraseña configurados en la aplicación; tras varios "
        "intentos fallidos el usuario se bloquea.",
    )


def _credenciales(request: HttpRequest) -> tuple[str, str] | None:
    """(usuario, contraseña) from ``Authorization: Basic …`` (RFC 7617, UTF-8), or None."""
    esquema, _, valor = request.headers.get("Authorization", "").partition(" ")
    if esquema.lower() != "basic":
        return None
    try:
        texto = base64.b64decode(valor.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    usuario, separador, clave = texto.partition(":")
    return (usuario, clave) if separador and usuario else None


@basic_auth
@roles(Rol.DIGITALIZADOR)
@require_POST
def actas(request: HttpRequest) -> HttpResponse:
    """A photo of an acta taken at its casilla: 201 new, 200 the same image again."""
    resultado, por = recibir_digitalizacion(request, origen="CASILLA", digitalizacion="MOVIL")
    return respuesta_json_digitalizacion(resultado, por)
