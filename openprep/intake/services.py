"""Intake services: acopio, digitalización and SIN ACTA, the same calls the screens make.

Every call writes one :class:`EventoActa` and updates the acta's cached state in one
transaction. An acta's state only moves forward (a PREP Casilla photo may be
digitalized before its package's acopio); the event keeps what it was and what it became.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from openprep.catalog.models import ActaEsperada, Eleccion
from openprep.catalog.package_spec import zona_horaria
from openprep.core.errors import UserError
from openprep.core.model import MotivoSinActa, parse_clave_acta
from openprep.intake.models import ESTADO_ORDEN, Acta, Estado, EventoActa, Imagen, TipoEvento

MECANISMOS_TRASLADO = {"D", "F", "I"}
ORIGENES = {"CASILLA", "CATD"}
DIGITALIZACIONES = {"MOVIL", "ESCANER", "URNA"}
# TIPO_DOCUMENTO: the document an image shows, with the codes the published databases use
# (the reference file has ACTA PREP, RPP and CC); the labels are what operators read.
TIPOS_DOCUMENTO = {
    "ACTA PREP": "Acta PREP (el ejemplar destinado al PREP)",
    "RPP": "RPP – copia de la representación de un partido político",
    "CC": "CC – otra copia del acta de escrutinio y cómputo",
}
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class IntakeError(UserError):
    """An acopio or digitalización that cannot be recorded as asked."""


class IntakeConflict(IntakeError):
    """The acta's state does not allow it (already acopiada, another image published)."""

    http_status = 409


def registrar_evento(
    acta: Acta,
    *,
    tipo: TipoEvento,
    estado: Estado,
    usuario: AbstractBaseUser,
    catd: str,
    cuando: datetime,
    datos: dict[str, Any] | None = None,
) -> EventoActa:
    """Record one transition and move the cached state forward (never back)."""
    anterior = Estado(acta.estado)
    nuevo = estado if ESTADO_ORDEN[estado] > ESTADO_ORDEN[anterior] else anterior
    acta.estado = nuevo
    acta.save()
    return EventoActa.objects.create(
        acta=acta,
        tipo=tipo,
        estado_anterior=anterior,
        estado_nuevo=nuevo,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos=datos or {},
    )


def acta_para(
    *, eleccion: Eleccion, clave_acta: str, identidad: dict[str, Any] | None = None
) -> Acta:
    """The registered acta for a CLAVE_ACTA, registering it on first sight.

    A key that matches no expected acta is registered as FUERA DE CATÁLOGO, never
    refused: it is published apart and enters no total (DOMAIN.md §4).
    """
    clave_acta = clave_acta.strip().upper()
    if not clave_acta:
        raise IntakeError("falta la CLAVE_ACTA.", hint="Escanee el código QR o escriba la clave.")
    esperada = (
        ActaEsperada.objects.select_for_update()
        .filter(eleccion=eleccion, clave_acta=clave_acta)
        .first()
    )
    # The expected acta's row lock (or SQLite's database lock) serializes first sight; the
    # acta's own lock keeps a capture committing meanwhile from being overwritten when the
    # caller saves it (registrar_evento writes the whole row).
    actas = Acta.objects.select_for_update(of=("self",))
    if esperada is not None:
        acta = actas.filter(esperada=esperada).first()
        return acta or Acta.objects.create(
            eleccion=eleccion, esperada=esperada, clave_acta=clave_acta
        )
    acta = actas.filter(eleccion=eleccion, esperada=None, clave_acta=clave_acta).first()
    return acta or Acta.objects.create(
        eleccion=eleccion,
        clave_acta=clave_acta,
        identidad_capturada=identidad or identity_from_clave(clave_acta),
    )


def eleccion_de_clave(clave_acta: str) -> Eleccion:
    """The election a CLAVE_ACTA belongs to: its expected acta's, or, for an acta fuera de
    catálogo, the election whose TIPO_ACTA the key ends with.

    A key that is not a CLAVE_ACTA, or names a TIPO_ACTA no election uses, is refused:
    there is no election to register it under.
    """
    clave = clave_acta.strip().upper()
    if not clave:
        raise IntakeError("falta la CLAVE_ACTA.", hint="Escanee el código QR o escriba la clave.")
    elecciones = list(Eleccion.objects.filter(actas_esperadas__clave_acta=clave).distinct()[:2])
    if len(elecciones) == 1:
        return elecciones[0]
    if len(elecciones) > 1:
        raise IntakeError(
            f"la CLAVE_ACTA {clave} está en más de una elección del catálogo.",
            hint="Indique la elección; revise el TIPO_ACTA de elecciones.csv.",
        )
    parsed = parse_clave_acta(clave)
    if parsed is None:
        raise IntakeError(
            f"{clave!r} no es una CLAVE_ACTA.",
            hint="Son 13 caracteres: entidad (2), sección (4), tipo de casilla (1), "
            "número (2), extensión contigua (2) y TIPO_ACTA (2), p. ej. 230085B010002.",
        )
    _, tipo_acta = parsed
    por_tipo = [
        e
        for e in Eleccion.objects.all()
        if tipo_acta in {e.tipo_acta.lstrip("0"), e.tipo_acta_especial.lstrip("0")} - {""}
    ]
    if len(por_tipo) != 1:
        raise IntakeError(
            f"la CLAVE_ACTA {clave} termina en TIPO_ACTA {tipo_acta}, que "
            + ("ninguna elección usa." if not por_tipo else "usan varias elecciones."),
            hint="Revise la clave en el acta; si es correcta, avise al coordinador.",
        )
    return por_tipo[0]


def hora_local(cuando: datetime, eleccion: Eleccion) -> datetime:
    """A moment in the institute's time zone (the election's), as operators read it."""
    return cuando.astimezone(_zona(eleccion.zona_horaria))


@functools.lru_cache(maxsize=16)
def _zona(nombre: str) -> tzinfo:
    try:
        return zona_horaria(nombre)
    except UserError:  # validated on import; a broken value must not hide an answer
        return timezone.get_default_timezone()


def identity_from_clave(clave_acta: str) -> dict[str, Any]:
    """What an acta fuera de catálogo's key says about its casilla (empty if nothing)."""
    parsed = parse_clave_acta(clave_acta)
    if parsed is None:
        return {}
    casilla, _ = parsed
    return {
        "id_entidad": casilla.id_entidad,
        "seccion": casilla.seccion,
        "tipo": casilla.tipo,
        "id_casilla": casilla.id_casilla,
        "ext_contigua": casilla.ext_contigua,
    }


@transaction.atomic
def registrar_acopio(
    *,
    eleccion: Eleccion,
    clave_acta: str,
    usuario: AbstractBaseUser,
    catd: str,
    cuando: datetime,
    mecanismo_traslado: str = "",
    identidad: dict[str, Any] | None = None,
) -> Acta:
    """Acopio: the acta arrived at a CATD (time, CATD, how it travelled)."""
    _check_choice(mecanismo_traslado, MECANISMOS_TRASLADO, "MECANISMOS_TRASLADO", allow_empty=True)
    acta = acta_para(eleccion=eleccion, clave_acta=clave_acta, identidad=identidad)
    if acta.fecha_hora_acopio is not None:
        raise IntakeConflict(
            f"el acta {acta.clave_acta} ya tiene acopio registrado "
            f"({hora_local(acta.fecha_hora_acopio, eleccion):%Y-%m-%d %H:%M:%S}).",
            hint="Si fue un error, un coordinador debe registrar la corrección.",
        )
    acta.fecha_hora_acopio = cuando
    acta.mecanismo_traslado = mecanismo_traslado
    registrar_evento(
        acta,
        tipo=TipoEvento.ACOPIO,
        estado=Estado.ACOPIADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={"mecanismo_traslado": mecanismo_traslado},
    )
    return acta


class Digitalizacion(NamedTuple):
    """What :func:`recibir_imagen` did: the acta, the image's SHA-256, whether the image is
    new for the acta (an event was written) and whether it is the acta's published image."""

    acta: Acta
    sha256: str
    nueva: bool
    publicada: bool


def digitalizar(
    *,
    eleccion: Eleccion,
    clave_acta: str,
    usuario: AbstractBaseUser,
    catd: str,
    cuando: datetime,
    origen: str,
    digitalizacion: str,
    tipo_documento: str,
    contenido: bytes | None = None,
    sha256: str = "",
) -> Acta:
    """Digitalización: :func:`recibir_imagen`, answering only the acta."""
    return recibir_imagen(
        eleccion=eleccion,
        clave_acta=clave_acta,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        origen=origen,
        digitalizacion=digitalizacion,
        tipo_documento=tipo_documento,
        contenido=contenido,
        sha256=sha256,
    ).acta


@transaction.atomic
def recibir_imagen(
    *,
    eleccion: Eleccion,
    clave_acta: str,
    usuario: AbstractBaseUser,
    catd: str,
    cuando: datetime,
    origen: str,
    digitalizacion: str,
    tipo_documento: str,
    contenido: bytes | None = None,
    sha256: str = "",
) -> Digitalizacion:
    """Digitalización: the acta's image, hashed on receipt and stored by its SHA-256.

    ``contenido`` is the image as received (already checked by :mod:`openprep.intake.images`
    when it comes from a screen). Only a replay of a published database, which knows the
    hash but not the bytes, passes ``sha256`` alone.

    Every image received for an acta is kept (an :class:`Imagen` row and a DIGITALIZACION
    event with its SHA-256). Which one is *published* (``Acta.imagen`` with its ORIGEN,
    DIGITALIZACION and TIPO_DOCUMENTO, what the corte shows):

    - the CATD scan when there is one (the Acta PREP itself, scanned under controlled
      conditions), otherwise the PREP Casilla photo;
    - a later casilla photo never replaces a CATD scan: it is kept, not published;
    - a second, different image of the same origin replaces the first only while the acta
      has no capture; afterwards it is refused (409): a coordinator must correct.

    The same bytes for the same acta again change nothing (``nueva`` is False, no event);
    the same bytes claimed for another acta are refused (409) naming the acta they belong
    to. A refusal writes nothing, neither rows nor files.
    """
    _check_choice(origen, ORIGENES, "ORIGEN")
    _check_choice(digitalizacion, DIGITALIZACIONES, "DIGITALIZACION")
    if contenido is not None:
        sha256 = hashlib.sha256(contenido).hexdigest()
    if not SHA256_HEX.fullmatch(sha256):
        raise IntakeError(
            f"el SHA-256 {sha256!r} no es válido.",
            hint="Debe tener 64 caracteres hexadecimales en minúsculas.",
        )
    acta = acta_para(eleccion=eleccion, clave_acta=clave_acta)
    imagen = Imagen.objects.filter(sha256=sha256).first()
    # Received bytes belong to one acta only; a replay (hash only) records what a
    # publication says, whatever it says.
    if (
        imagen is not None
        and contenido is not None
        and _dueña_de_la_imagen(imagen, acta) == acta.pk
    ):
        if not imagen.archivo:  # known by its hash only, until now
            _guardar(imagen, contenido)
        return Digitalizacion(
            acta=acta, sha256=sha256, nueva=False, publicada=acta.imagen_id == sha256
        )
    publicada = _se_publica(acta, origen=origen)
    creada = imagen is None
    if imagen is None:  # two CATDs may send the same image at once: the first row wins
        Imagen.objects.bulk_create([Imagen(sha256=sha256)], ignore_conflicts=True)
        imagen = Imagen.objects.get(sha256=sha256)
    if contenido is not None and not imagen.archivo:
        _guardar(imagen, contenido)
    if publicada:
        if acta.fecha_hora_digitalizacion is None:
            acta.fecha_hora_digitalizacion = timezone.now()  # its place in the capture queue
        acta.imagen = imagen
        acta.origen = origen
        acta.digitalizacion = digitalizacion
        acta.tipo_documento = tipo_documento
    registrar_evento(
        acta,
        tipo=TipoEvento.DIGITALIZACION,
        estado=Estado.DIGITALIZADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={
            "sha256": sha256,
            "origen": origen,
            "digitalizacion": digitalizacion,
            "tipo_documento": tipo_documento,
            "imagen_nueva": creada,
            "publicada": publicada,
        },
    )
    return Digitalizacion(acta=acta, sha256=sha256, nueva=True, publicada=publicada)


def _dueña_de_la_imagen(imagen: Imagen, acta: Acta) -> int | None:
    """The acta an already received image belongs to (its pk), refusing another acta's.

    The published image is found by its foreign key; an image kept but not published
    (a casilla photo behind a CATD scan) only through its event, a rarer lookup.
    """
    if acta.imagen_id == imagen.sha256:
        return acta.pk
    otra = Acta.objects.filter(imagen=imagen).exclude(pk=acta.pk).first()
    if otra is None:
        evento = (
            EventoActa.objects.filter(tipo=TipoEvento.DIGITALIZACION, datos__sha256=imagen.sha256)
            .select_related("acta")
            .first()
        )
        if evento is None or evento.acta_id == acta.pk:
            return evento.acta_id if evento else None
        otra = evento.acta
    cual = otra.clave_acta
    if otra.eleccion_id != acta.eleccion_id:
        cual += f" de la elección {otra.eleccion.nombre}"
    raise IntakeConflict(
        f"esta imagen (SHA-256 {imagen.sha256[:12]}…) ya está registrada para el acta "
        f"{cual}; no puede ser también la del acta {acta.clave_acta}.",
        where=f"acta {acta.clave_acta}",
        hint="Revise que la imagen y la clave correspondan al mismo acta.",
    )


def _se_publica(acta: Acta, *, origen: str) -> bool:
    """Whether a new image of ``origen`` becomes the acta's published one (see
    :func:`recibir_imagen`); IntakeConflict when it may not be received at all."""
    if acta.motivo_sin_acta:
        raise IntakeConflict(
            f"el acta {acta.clave_acta} está registrada SIN ACTA "
            f"({acta.motivo_sin_acta}); no se le puede agregar una imagen.",
            hint="Si el acta sí llegó, un coordinador debe registrar la corrección.",
        )
    if acta.imagen_id is None or (acta.origen == "CASILLA" and origen == "CATD"):
        return True
    if acta.origen == "CATD" and origen == "CASILLA":
        return False  # kept, never published over a CATD scan
    capturada = ESTADO_ORDEN[Estado(acta.estado)] >= ESTADO_ORDEN[Estado.CAPTURADA]
    if capturada or acta.capturas.exists():
        raise IntakeConflict(
            f"el acta {acta.clave_acta} ya tiene otra imagen de origen {origen} y ya fue "
            "capturada; la imagen publicada no puede cambiar.",
            hint="Si la imagen publicada es incorrecta, un coordinador debe registrar la "
            "corrección.",
        )
    return True


def _guardar(imagen: Imagen, contenido: bytes) -> None:
    """Store the bytes under their SHA-256, reusing a complete file a rolled-back
    transaction may have left under that name."""
    nombre = f"{imagen.sha256[:2]}/{imagen.sha256}"
    ruta = imagen.archivo.field.generate_filename(imagen, nombre)
    almacen = imagen.archivo.storage
    imagen.tamano = len(contenido)
    if almacen.exists(ruta):
        with almacen.open(ruta, "rb") as previo:
            if hashlib.sha256(previo.read()).hexdigest() == imagen.sha256:
                imagen.archivo.name = ruta
                imagen.save(update_fields=["archivo", "tamano"])
                return
    imagen.archivo.save(nombre, ContentFile(contenido), save=False)
    imagen.save(update_fields=["archivo", "tamano"])


@transaction.atomic
def registrar_sin_acta(
    *,
    eleccion: Eleccion,
    clave_acta: str,
    motivo: MotivoSinActa,
    usuario: AbstractBaseUser,
    catd: str,
    cuando: datetime,
    mecanismo_traslado: str = "",
    origen: str = "CATD",
    digitalizacion: str = "ESCANER",
) -> Acta:
    """SIN ACTA: the package came without its acta, or never came (DOMAIN.md §4, rule 1).

    It is recorded at the capture step (FECHA_HORA_CAPTURA) and, like any capture,
    confirmed by someone else in verification.
    """
    _check_choice(mecanismo_traslado, MECANISMOS_TRASLADO, "MECANISMOS_TRASLADO", allow_empty=True)
    acta = acta_para(eleccion=eleccion, clave_acta=clave_acta)
    if acta.fuera_catalogo:
        raise IntakeError(
            f"el acta {acta.clave_acta} no está en el catálogo; no puede marcarse SIN ACTA.",
            hint="Revise la clave: SIN ACTA se registra para una casilla esperada.",
        )
    if acta.imagen_id or acta.capturas.exists():
        raise IntakeError(
            f"el acta {acta.clave_acta} ya tiene imagen o captura; no puede marcarse SIN ACTA.",
            hint="Si el paquete llegó sin acta, un coordinador debe registrar la corrección.",
        )
    acta.motivo_sin_acta = motivo.value
    acta.mecanismo_traslado = mecanismo_traslado
    acta.origen = origen
    acta.digitalizacion = digitalizacion
    acta.fecha_hora_captura = cuando
    registrar_evento(
        acta,
        tipo=TipoEvento.SIN_ACTA,
        estado=Estado.CAPTURADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={"motivo": motivo.value, "mecanismo_traslado": mecanismo_traslado},
    )
    return acta


def _check_choice(value: str, allowed: set[str], field: str, *, allow_empty: bool = False) -> None:
    if (allow_empty and value == "") or value in allowed:
        return
    raise IntakeError(
        f"valor {value!r} no válido para {field}.",
        hint=f"Valores permitidos: {', '.join(sorted(allowed))}.",
    )
