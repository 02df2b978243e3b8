"""Registering CATDs and operators: the calls the commands (and later screens) make."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from openprep.accounts.models import CATD, ROLES_CON_CATD, Operador, Rol
from openprep.core.errors import UserError

_CLAVE_CATD = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,19}")
_USUARIO = re.compile(r"[\w.@+-]{1,150}")  # Django's own username rule


class CuentaError(UserError):
    """A CATD or operator that cannot be registered as asked."""


def normalizar_clave_catd(clave: str) -> str:
    limpia = clave.strip().upper()
    if not _CLAVE_CATD.fullmatch(limpia):
        raise CuentaError(
            f"la clave de CATD {clave!r} no es válida.",
            hint="Use de 1 a 20 letras sin acento, dígitos, guiones o guiones bajos, "
            "p. ej. CATD-01.",
        )
    return limpia


@transaction.atomic
def registrar_catd(*, clave: str, nombre: str) -> CATD:
    clave = normalizar_clave_catd(clave)
    nombre = " ".join(nombre.split())
    if not nombre or len(nombre) > 200:
        raise CuentaError(
            "el nombre de la CATD no puede estar vacío ni tener más de 200 caracteres.",
            hint="Escriba el nombre con que el personal conoce el centro.",
        )
    if CATD.objects.filter(clave=clave).exists():
        raise CuentaError(
            f"ya existe la CATD {clave}.", hint="Use otra clave o conserve la existente."
        )
    return CATD.objects.create(clave=clave, nombre=nombre)


def buscar_catd(clave: str) -> CATD:
    catd = CATD.objects.filter(clave=normalizar_clave_catd(clave)).first()
    if catd is None:
        raise CuentaError(
            f"no existe la CATD {clave.strip().upper()}.",
            hint="Regístrela antes con «openprep catd add --clave C --nombre N».",
        )
    return catd


def rol_desde_texto(texto: str) -> Rol:
    try:
        return Rol(texto.strip().lower())
    except ValueError:
        raise CuentaError(
            f"el rol {texto!r} no existe.",
            hint=f"Roles: {', '.join(r.value for r in Rol)}.",
        ) from None


@transaction.atomic
def registrar_operador(
    *,
    usuario: str,
    rol: Rol,
    clave: str,
    catd: CATD | None,
    catds_adicionales: Sequence[CATD] = (),
    todas_las_catd: bool = False,
) -> Operador:
    """Create a user with a hashed password and their role at a CATD."""
    if not _USUARIO.fullmatch(usuario):
        raise CuentaError(
            f"el nombre de usuario {usuario!r} no es válido.",
            hint="Use hasta 150 letras, dígitos y los signos @ . + - _ (sin espacios).",
        )
    if rol in ROLES_CON_CATD and catd is None:
        raise CuentaError(
            f"el rol {rol.label.lower()} debe asignarse a una CATD.", hint="Indique --catd."
        )
    if (catds_adicionales or todas_las_catd) and rol != Rol.COORDINADOR:
        raise CuentaError(
            "solo a un coordinador se le pueden otorgar más CATD.",
            hint="Quite --catd-adicional y --todas-las-catd, o use --rol coordinador.",
        )
    User = get_user_model()
    if User.objects.filter(**{User.USERNAME_FIELD: usuario}).exists():
        raise CuentaError(
            f"ya existe el usuario {usuario}.",
            hint="Elija otro nombre; cada persona tiene su propia cuenta.",
        )
    user = User(**{User.USERNAME_FIELD: usuario})
    try:
        password_validation.validate_password(clave, user)
    except ValidationError as exc:
        raise CuentaError(
            "la contraseña no es aceptable: " + " ".join(exc.messages),
            hint="Elija una contraseña larga que no se parezca al nombre de usuario.",
        ) from None
    user.set_password(clave)
    user.save()
    operador = Operador.objects.create(user=user, rol=rol, catd=catd, todas_las_catd=todas_las_catd)
    if catds_adicionales:
        operador.catds_adicionales.set(catds_adicionales)
    return operador
