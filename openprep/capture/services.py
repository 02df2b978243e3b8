"""Capture services: blind double capture and verification (DOMAIN.md §3).

Values are kept as the text an operator typed: a non-negative integer, ``ILEGIBLE`` or
``SIN DATO``, one per field of the acta (control figures, the contenders on its ballot,
NO_REGISTRADOS, NULOS, TOTAL_VOTOS_ASENTADO).

Two ways an acta becomes VERIFICADA here:

- on election night (:func:`capturar_y_verificar`, what the capture screen calls), two
  blind captures by different people that agree on every field *are* the verification,
  as in INE's PREP: the acta is verified at the second capture's time, with a
  VERIFICACION event marked ``"automatica": true``. Captures that disagree wait for
  cotejo (:mod:`openprep.capture.cotejo`), where a third person decides only the
  differing fields;
- :func:`verificar`, a third person's explicit verification at a stated time, which is
  how a replayed publication records its FECHA_HORA_VERIFICACION, and how a SIN ACTA
  is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from openprep.capture.models import Captura
from openprep.core.errors import UserError
from openprep.core.model import CONTROL_FIELDS, Marca
from openprep.intake.models import Acta, Estado, EventoActa, TipoEvento
from openprep.intake.services import registrar_evento

CAPTURAS_REQUERIDAS = 2
TAIL_FIELDS = ("NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
# No casilla has 10,000 voters (a casilla básica serves at most 750; the largest value in
# the QROO 2019 publication is 769), so a five-digit number is a typing slip, refused at
# capture. Values above the lista nominal are NOT refused: the sheet may say so, and the
# rules publish such an acta as EXCEDE LISTA NOMINAL (DOMAIN.md §4, rule 3).
VALOR_MAXIMO = 9_999
_MARCAS = {Marca.ILEGIBLE.value, Marca.SIN_DATO.value}


class CaptureError(UserError):
    """A capture or verification that cannot be recorded as asked (bad input: 400)."""


class ConflictoDeEstado(CaptureError):
    """The acta's state (or its claim) does not allow what was asked."""

    http_status = 409


class SeparacionDeFunciones(CaptureError):
    """The same person may not capture and verify (or register and confirm) an acta."""

    http_status = 403


class ActaNoEncontrada(CaptureError):
    http_status = 404


def asignacion_perdida(acta: Acta) -> ConflictoDeEstado:
    """The refusal of work done under a claim that expired and someone else took over."""
    return ConflictoDeEstado(
        f"su asignación del acta {acta.clave_acta} venció y otra persona la tomó; "
        "no se guardó nada.",
        hint="Pida la siguiente acta.",
    )


class Resultado(StrEnum):
    """What a capture led to, as the capture endpoint answers it."""

    PRIMERA_CAPTURA = "PRIMERA_CAPTURA"
    VERIFICADA = "VERIFICADA"
    COTEJO = "COTEJO"


def campos_del_acta(acta: Acta) -> tuple[str, ...]:
    """The fields an operator captures for this acta, in the order of the sheet.

    The election's contenders are read through ``.all()``, so a caller that already read
    them (the PostgreSQL capture path reads them in its claim statement) hands them over
    as Django's prefetch cache and no query is made here.
    """
    no_aplica = set(acta.esperada.no_aplica) if acta.esperada else set()
    contendientes = sorted(acta.eleccion.contendientes.all(), key=lambda c: c.orden)
    return (
        *CONTROL_FIELDS,
        *(c.clave for c in contendientes if c.clave not in no_aplica),
        *TAIL_FIELDS,
    )


def validar_valores(acta: Acta, valores: Mapping[str, str]) -> dict[str, str]:
    """Check every field is present and holds a plausible number, ILEGIBLE or SIN DATO."""
    campos = campos_del_acta(acta)
    exigir_campos(
        acta,
        esperados=campos,
        recibidos=valores,
        faltan=lambda c: f"faltan {c}",
        sobran=lambda c: f"no corresponden a esta acta {c}",
        hint="Capture exactamente los campos del acta.",
    )
    return {campo: valor_capturado(acta, campo, valores[campo]) for campo in campos}


def exigir_campos(
    acta: Acta,
    *,
    esperados: Sequence[str],
    recibidos: Mapping[str, object],
    faltan: Callable[[str], str],
    sobran: Callable[[str], str],
    hint: str,
) -> None:
    """Refuse a form that lacks any of ``esperados`` or brings other fields, naming both."""
    ausentes = [c for c in esperados if c not in recibidos]
    ajenos = [c for c in recibidos if c not in esperados]
    detalle = [
        texto(", ".join(lista)) for texto, lista in ((faltan, ausentes), (sobran, ajenos)) if lista
    ]
    if detalle:
        raise CaptureError(f"acta {acta.clave_acta}: {'; '.join(detalle)}.", hint=hint)


def valor_capturado(acta: Acta, campo: str, valor: object) -> str:
    """One field as stored: a number without leading zeros, ILEGIBLE or SIN DATO."""
    texto = str(valor).strip().upper()
    if texto in _MARCAS:
        return texto
    if not (texto.isascii() and texto.isdigit()):
        raise CaptureError(
            f"acta {acta.clave_acta}, campo {campo}: {valor!r} no es válido.",
            hint="Escriba un número entero no negativo, ILEGIBLE o SIN DATO.",
        )
    if int(texto) > VALOR_MAXIMO:
        raise CaptureError(
            f"acta {acta.clave_acta}, campo {campo}: {int(texto)} no es un valor posible "
            f"en una casilla (el máximo es {VALOR_MAXIMO}).",
            hint="Revise el número en la imagen; si no se puede leer, capture ILEGIBLE.",
        )
    return str(int(texto))


def campos_en_desacuerdo(primera: Mapping[str, str], segunda: Mapping[str, str]) -> set[str]:
    """The fields two captures of one acta read differently."""
    return {c for c in primera.keys() | segunda.keys() if primera.get(c) != segunda.get(c)}


@transaction.atomic
def capturar(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> Captura:
    """One operator's blind capture of an acta's numbers (never verifies by itself)."""
    _, _, captura = _registrar_captura(
        acta=acta, usuario=usuario, valores=valores, cuando=cuando, catd=catd
    )
    return captura


@transaction.atomic
def capturar_y_verificar(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> Resultado:
    """A blind capture on election night; the second one verifies the acta if both agree."""
    acta, previas, captura = _registrar_captura(
        acta=acta, usuario=usuario, valores=valores, cuando=cuando, catd=catd
    )
    if not previas:
        return Resultado.PRIMERA_CAPTURA
    primera = previas[0]
    if campos_en_desacuerdo(primera.valores, captura.valores):
        return Resultado.COTEJO
    acta.valores = dict(captura.valores)
    acta.fecha_hora_verificacion = cuando
    registrar_evento(
        acta,
        tipo=TipoEvento.VERIFICACION,
        estado=Estado.VERIFICADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={
            "automatica": True,
            "capturas": [primera.pk, captura.pk],
            "valores": acta.valores,
        },
    )
    return Resultado.VERIFICADA


def _registrar_captura(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str,
) -> tuple[Acta, list[Captura], Captura]:
    """Record one capture under the acta's row lock: the locked acta, the captures it
    already had, and the new one."""
    acta = (
        Acta.objects.select_for_update(of=("self",))
        .select_related("esperada", "eleccion")
        .get(pk=acta.pk)
    )
    previas = list(acta.capturas.all())
    revisar_capturable(acta, previas=previas, usuario=usuario)
    limpios = validar_valores(acta, valores)
    captura = Captura.objects.create(acta=acta, capturista=usuario, valores=limpios, cuando=cuando)
    if acta.fecha_hora_captura is None:
        acta.fecha_hora_captura = cuando
    acta.num_capturas = len(previas) + 1
    registrar_evento(
        acta,
        tipo=TipoEvento.CAPTURA,
        estado=Estado.CAPTURADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={"captura": captura.pk},
    )
    return acta, previas, captura


def revisar_capturable(
    acta: Acta, *, previas: Sequence[Captura], usuario: AbstractBaseUser
) -> None:
    """Refuse a capture of this acta (read under its row lock, with the captures it already
    has) by this person: SIN ACTA, no image, verified, theirs already, or two already."""
    if acta.motivo_sin_acta:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} está registrada SIN ACTA; no hay valores que capturar.",
            hint="Si el acta sí llegó, un coordinador debe registrar la corrección.",
        )
    if acta.imagen_id is None:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} aún no tiene imagen.",
            hint="Se captura sobre la imagen digitalizada del acta.",
        )
    if acta.estado == Estado.VERIFICADA:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} ya está verificada.",
            hint="Una corrección requiere a un coordinador y un motivo.",
        )
    if any(c.capturista_id == usuario.pk for c in previas):
        raise ConflictoDeEstado(
            f"usted ya capturó el acta {acta.clave_acta}.",
            hint="La segunda captura debe hacerla otra persona.",
        )
    if len(previas) >= CAPTURAS_REQUERIDAS:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} ya tiene {len(previas)} capturas.",
            hint="Sus diferencias se resuelven en cotejo.",
        )


def registro_sin_acta(acta: Acta) -> int | None:
    """The id of the person who registered this acta SIN ACTA (None if nobody did)."""
    return (
        EventoActa.objects.filter(acta=acta, tipo=TipoEvento.SIN_ACTA)
        .order_by("-id")
        .values_list("usuario_id", flat=True)
        .first()
    )


@transaction.atomic
def verificar(*, acta: Acta, usuario: AbstractBaseUser, cuando: datetime, catd: str = "") -> Acta:
    """Verification by a third person: two independent captures agree (or a SIN ACTA is
    confirmed by someone other than who registered it).

    The verifier cannot be one of the capturistas. Disagreeing captures are refused here:
    they go to cotejo, where only the differing fields are decided.
    """
    acta = Acta.objects.select_for_update().get(pk=acta.pk)
    if acta.estado == Estado.VERIFICADA:
        raise ConflictoDeEstado(f"el acta {acta.clave_acta} ya está verificada.")
    capturas = list(acta.capturas.all())
    if any(c.capturista_id == usuario.pk for c in capturas):
        raise SeparacionDeFunciones(
            f"usted capturó el acta {acta.clave_acta}; no puede verificarla.",
            hint="La verificación la hace otra persona.",
        )
    datos: dict[str, object]
    if acta.motivo_sin_acta:
        if registro_sin_acta(acta) == usuario.pk:
            raise SeparacionDeFunciones(
                f"usted registró el acta {acta.clave_acta} SIN ACTA; no puede confirmarla.",
                hint="La confirmación la hace otra persona.",
            )
        datos = {"sin_acta": acta.motivo_sin_acta}
    else:
        if len(capturas) < CAPTURAS_REQUERIDAS:
            raise ConflictoDeEstado(
                f"el acta {acta.clave_acta} tiene {len(capturas)} de "
                f"{CAPTURAS_REQUERIDAS} capturas.",
                hint="Espere la segunda captura.",
            )
        first = capturas[0].valores
        differing = sorted(
            {c for captura in capturas[1:] for c in campos_en_desacuerdo(first, captura.valores)}
        )
        if differing:
            raise ConflictoDeEstado(
                f"las capturas del acta {acta.clave_acta} difieren en {', '.join(differing)}.",
                hint="El acta pasa a cotejo para decidir esos campos.",
            )
        acta.valores = dict(first)
        datos = {"valores": acta.valores}
    acta.fecha_hora_verificacion = cuando
    registrar_evento(
        acta,
        tipo=TipoEvento.VERIFICACION,
        estado=Estado.VERIFICADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos=datos,
    )
    return acta
