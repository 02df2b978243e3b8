"""The PREP Casilla API: the phone app at the casilla uploads the acta's photo.

``POST /api/casilla/v1/sesion/`` trades a digitalizador's username and password (HTTP
Basic) for a token (:mod:`openprep.accounts.tokens`); ``POST /api/casilla/v1/actas/``
takes the photo with that token (``Authorization: Bearer …``), or with HTTP Basic as
before (a password check per photo: about 0.2 s of CPU each). No session and no CSRF
token (docs/api.md). Photos are recorded with ORIGEN CASILLA and DIGITALIZACION MOVIL by
the same code as the CATD's digitalización screen. Every answer is JSON, errors included.

Passwords go through ``django.contrib.auth.authenticate`` with the request, so
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
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from openprep.accounts import tokens
from openprep.accounts.access import roles
from openprep.accounts.models import Rol
from openprep.core.errors import UserError
from openprep.intake.views import recibir_digitalizacion, respuesta_json_digitalizacion
from openprep.web import error_payload

REALM = 'Basic realm="openprep"'
REALM_TOKEN = 'Bearer realm="openprep", error="invalid_token"'


class CredencialesNoValidas(UserError):
    http_status = 401


class UsuarioBloqueado(UserError):
    http_status = 429


def autenticada(
    *, token: bool
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Authenticate each request by itself (no session): HTTP Basic, and with ``token``
    also ``Authorization: Bearer``; answer errors as JSON.

    The view carries its role policy (``@roles``); this wrapper keeps that policy visible
    for the startup check (functools.wraps copies it) but tells LoginRequiredMiddleware to
    let anonymous requests through: here they get 401 and a ``WWW-Authenticate`` challenge
    instead of the login page's redirect. It is CSRF-exempt because no cookie authenticates
    it: a browser cannot be tricked into sending credentials it does not have.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def sin_sesion(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                request.user = _autenticar(request, token=token)
                return view(request, *args, **kwargs)
            except (CredencialesNoValidas, tokens.TokenNoValido) as exc:
                respuesta = JsonResponse(error_payload(exc), status=401)
                es_token = isinstance(exc, tokens.TokenNoValido)
                respuesta["WWW-Authenticate"] = REALM_TOKEN if es_token else REALM
                return respuesta
            except UserError as exc:
                return JsonResponse(error_payload(exc), status=getattr(exc, "http_status", 400))
            except PermissionDenied as exc:
                return JsonResponse({"error": str(exc), "mensaje": str(exc)}, status=403)

        sin_sesion.login_required = False  # type: ignore[attr-defined]  # after wraps copied True
        return sin_sesion

    return decorate


def _autenticar(request: HttpRequest, *, token: bool) -> Any:
    esquema, _, valor = request.headers.get("Authorization", "").partition(" ")
    if token and esquema.lower() == tokens.TIPO.lower():
        return tokens.usuario_de(valor.strip())
    credenciales = _credenciales(esquema, valor)
    if credenciales is None:
        raise CredencialesNoValidas(
            "faltan las credenciales del operador.",
            hint=(
                "Envíe el token de la aplicación (Authorization: Bearer …) o el usuario y "
                "la contraseña de un digitalizador con autenticación HTTP Basic."
                if token
                else "Envíe el usuario y la contraseña de un digitalizador con "
                "autenticación HTTP Basic (encabezado Authorization)."
            ),
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


def _credenciales(esquema: str, valor: str) -> tuple[str, str] | None:
    """(usuario, contraseña) from ``Authorization: Basic …`` (RFC 7617, UTF-8), or None."""
    if esquema.lower() != "basic":
        return None
    try:
        texto = base64.b64decode(valor.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    usuario, separador, clave = texto.partition(":")
    return (usuario, clave) if separador and usuario else None


@autenticada(token=False)
@roles(Rol.DIGITALIZADOR)
@require_POST
def sesion(request: HttpRequest) -> HttpResponse:
    """The app's token, for the digitalizador whose password came with the request."""
    emitido = tokens.emitir(request.user)
    return JsonResponse(
        {
            "token": emitido.valor,
            "tipo": tokens.TIPO,
            "expira": timezone.localtime(emitido.expira).isoformat(),
            "usuario": request.user.get_username(),
        },
        status=201,
    )


@autenticada(token=True)
@roles(Rol.DIGITALIZADOR)
@require_POST
def actas(request: HttpRequest) -> HttpResponse:
    """A photo of an acta taken at its casilla: 201 new, 200 the same image again."""
    resultado, por = recibir_digitalizacion(request, origen="CASILLA", digitalizacion="MOVIL")
    return respuesta_json_digitalizacion(resultado, por)
