"""The difusores' registry: add or update one, suspend or re-enable it (each recorded)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction

from openprep.core.errors import UserError
from openprep.difusion import secretos
from openprep.difusion.models import (
    PUERTO_PREDETERMINADO,
    Difusor,
    Incidente,
    Protocolo,
    TipoIncidente,
)
from openprep.difusion.transporte import FallaDeDifusor
from openprep.difusion.transporte_sftp import leer_clave_privada


class RegistroInvalido(UserError):
    """A difusor that cannot be registered as given."""


def registrar_difusor(
    *,
    nombre: str,
    protocolo: str,
    host: str,
    usuario: str,
    puerto: int | None = None,
    carpeta: str = ".",
    contrasena: str = "",
    clave_ssh: str = "",
    llave_host: str = "",
    contacto: str = "",
    enlace: str = "",
    logo: Path | None = None,
) -> tuple[Difusor, bool]:
    """Add the difusor ``nombre``, or update it if it exists; (difusor, created)."""
    if protocolo not in Protocolo.values:
        raise RegistroInvalido(
            f"protocolo «{protocolo}» desconocido.",
            hint="Use " + ", ".join(Protocolo.values) + ".",
        )
    if not nombre.strip() or not host.strip() or not usuario.strip():
        raise RegistroInvalido("faltan el nombre, el servidor o el usuario del difusor.")
    if protocolo == Protocolo.SFTP and not (contrasena or clave_ssh):
        raise RegistroInvalido(
            f"el difusor {nombre} usa SFTP: dé una llave SSH privada o una contraseña.",
            hint="Por ejemplo --clave-ssh ARCHIVO (recomendado) o --contrasena-archivo ARCHIVO.",
        )
    if protocolo != Protocolo.SFTP and clave_ssh:
        raise RegistroInvalido(f"el difusor {nombre} usa {protocolo}: las llaves SSH no aplican.")
    if protocolo != Protocolo.SFTP and not contrasena:
        raise RegistroInvalido(f"el difusor {nombre} usa {protocolo}: falta la contraseña.")
    if clave_ssh:
        try:
            leer_clave_privada(clave_ssh)
        except FallaDeDifusor as exc:
            raise RegistroInvalido(exc.message, hint=exc.hint) from exc
    if logo is not None and not logo.is_file():
        raise RegistroInvalido(f"no existe el logotipo {logo}.")
    with transaction.atomic():
        difusor, creado = Difusor.objects.select_for_update().get_or_create(
            nombre=nombre.strip(),
            defaults={"protocolo": protocolo, "host": host, "puerto": 0, "usuario": usuario},
        )
        difusor.protocolo = protocolo
        difusor.host = host.strip()
        difusor.puerto = puerto or PUERTO_PREDETERMINADO[Protocolo(protocolo)]
        difusor.usuario = usuario.strip()
        difusor.carpeta = carpeta or "."
        difusor.contrasena_cifrada = secretos.cifrar(contrasena)
        difusor.clave_ssh_cifrada = secretos.cifrar(clave_ssh)
        if llave_host or creado:
            difusor.llave_host = " ".join(llave_host.split()[:2])
        difusor.contacto = contacto
        difusor.enlace = enlace
        if logo is not None:
            with logo.open("rb") as handle:
                difusor.logo.save(f"{difusor.pk}{logo.suffix.lower()}", File(handle), save=False)
        difusor.full_clean(exclude=["logo"])
        difusor.save()
    return difusor, creado


def rehabilitar(difusor: Difusor, *, usuario: AbstractBaseUser | None, motivo: str) -> None:
    """An administrator puts a suspended difusor back: strikes cleared, recorded."""
    with transaction.atomic():
        Difusor.objects.filter(pk=difusor.pk).update(habilitado=True, fallas_consecutivas=0)
        Incidente.objects.create(
            difusor=difusor,
            tipo=TipoIncidente.REHABILITADO,
            descripcion=motivo or "Rehabilitado por un administrador.",
            usuario=usuario,
        )


def inhabilitar(difusor: Difusor, *, usuario: AbstractBaseUser | None, motivo: str) -> None:
    with transaction.atomic():
        Difusor.objects.filter(pk=difusor.pk).update(habilitado=False)
        Incidente.objects.create(
            difusor=difusor,
            tipo=TipoIncidente.INHABILITADO,
            descripcion=motivo or "Inhabilitado por un administrador.",
            usuario=usuario,
        )
