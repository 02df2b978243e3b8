"""Bearer tokens for the PREP Casilla app: one password check per phone, not per photo.

The app of a digitalizador trades its username and password for a token once
(``POST /api/casilla/v1/sesion/``, docs/api.md) and sends the token with every upload
(``Authorization: Bearer …``). Checking a password costs about 0.2 s of CPU on purpose
(PBKDF2 with Django's iterations): per photo, that alone would cap a 2-core server at a
few uploads a second. Checking a token is one HMAC and the user's row.

A token is Django's signing of the user's id and a fingerprint of their password hash
(``TimestampSigner.sign_object``: HMAC-SHA256 under ``SECRET_KEY``, salted for this use).
It expires ``OPENPREP_API_TOKEN_HORAS`` hours after it was issued; a new password, or a
user made inactive or left without a role, invalidates every token issued before; a new
``SECRET_KEY`` invalidates them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from openprep.accounts.backends import OperadorBackend
from openprep.core.errors import UserError

SALT = "openprep.accounts.tokens"
TIPO = "Bearer"


class TokenNoValido(UserError):
    """A token that does not authenticate anybody (answered 401)."""

    http_status = 401


@dataclass(frozen=True)
class Token:
    valor: str
    expira: datetime


def vigencia() -> timedelta:
    return timedelta(hours=settings.OPENPREP_API_TOKEN_HORAS)


def _huella(user: Any) -> str:
    """Changes whenever the user's password does (the hash is salted anew each time)."""
    return salted_hmac(SALT, f"{user.pk}:{user.password}", algorithm="sha256").hexdigest()[:32]


def emitir(user: Any) -> Token:
    """A token for ``user`` (already authenticated with their password)."""
    valor = signing.TimestampSigner(salt=SALT).sign_object({"u": user.pk, "h": _huella(user)})
    return Token(valor=valor, expira=timezone.now() + vigencia())


def usuario_de(valor: str) -> Any:
    """The active user a token was issued to, or :class:`TokenNoValido` saying why not."""
    nuevo = "Pida uno nuevo con el usuario y la contraseña del digitalizador en "
    nuevo += "POST /api/casilla/v1/sesion/."
    try:
        datos = signing.TimestampSigner(salt=SALT).unsign_object(valor, max_age=vigencia())
    except signing.SignatureExpired:
        raise TokenNoValido("el token de la aplicación venció.", hint=nuevo) from None
    except (signing.BadSignature, ValueError):
        raise TokenNoValido(
            "el token de la aplicación no es válido (alterado, incompleto o de otro servidor).",
            hint=nuevo,
        ) from None
    user = None
    if isinstance(datos, dict) and isinstance(datos.get("u"), int):
        user = OperadorBackend().get_user(datos["u"])  # None when inactive or deleted
    if user is None or not constant_time_compare(_huella(user), str(datos.get("h", ""))):
        raise TokenNoValido(
            "el token ya no es válido: la contraseña del usuario cambió o el usuario "
            "fue dado de baja.",
            hint=nuevo,
        )
    return user
