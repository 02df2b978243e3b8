"""Capture services: blind double capture and verification (DOMAIN.md §3).

Values are kept as the text an operator typed: a non-negative integer, ``ILEGIBLE`` or
``SIN DATO``, one per field of the acta (control figures, the contenders on its ballot,
NO_REGISTRADOS, NULOS, TOTAL_VOTOS_ASENTADO).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from openprep.capture.models import Captura
from openprep.core.errors import UserError
from openprep.core.model import CONTROL_FIELDS, Marca
from openprep.intake.models import Acta, Estado, TipoEvento
from openprep.intake.services import registrar_evento

CAPTURAS_REQUERIDAS = 2
TAIL_FIELDS = ("NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
_MARCAS = {Marca.ILEGIBLE.value, Marca.SIN_DATO.value}


class CaptureError(UserError):
    """A capture or verification that cannot be recorded as asked."""


def campos_del_acta(acta: Acta) -> tuple[str, ...]:
    """The fields an operator captures for this acta, in the order of the sheet."""
    no_aplica = set(acta.esperada.no_aplica) if acta.esperada else set()
    contendientes = [
        c.clave for c in acta.eleccion.contendientes.order_by("orden") if c.clave not in no_aplica
    ]
    return (*CONTROL_FIELDS, *contendientes, *TAIL_FIELDS)


def validar_valores(acta: Acta, valores: Mapping[str, str]) -> dict[str, str]:
    """Check every field is present and holds a number, ILEGIBLE or SIN DATO."""
    campos = campos_del_acta(acta)
    faltan = [c for c in campos if c not in valores]
    sobran = [c for c in valores if c not in campos]
    if faltan or sobran:
        detalle = []
        if faltan:
            detalle.append(f"faltan {', '.join(faltan)}")
        if sobran:
            detalle.append(f"no corresponden a esta acta {', '.join(sobran)}")
        raise CaptureError(
            f"acta {acta.clave_acta}: {'; '.join(detalle)}.",
            hint="Capture exactamente los campos del acta.",
        )
    limpios: dict[str, str] = {}
    for campo in campos:
        texto = str(valores[campo]).strip().upper()
        if not (texto in _MARCAS or (texto.isascii() and texto.isdigit())):
            raise CaptureError(
                f"acta {acta.clave_acta}, campo {campo}: {valores[campo]!r} no es válido.",
                hint="Escriba un número entero no negativo, ILEGIBLE o SIN DATO.",
            )
        limpios[campo] = texto if texto in _MARCAS else str(int(texto))
    return limpios


@transaction.atomic
def capturar(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    valores: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> Captura:
    """One operator's blind capture of an acta's numbers."""
    acta = (
        Acta.objects.select_for_update(of=("self",))
        .select_related("esperada", "eleccion")
        .get(pk=acta.pk)
    )
    if acta.motivo_sin_acta:
        raise CaptureError(
            f"el acta {acta.clave_acta} está registrada SIN ACTA; no hay valores que capturar.",
            hint="Si el acta sí llegó, un coordinador debe registrar la corrección.",
        )
    if acta.imagen_id is None:
        raise CaptureError(
            f"el acta {acta.clave_acta} aún no tiene imagen.",
            hint="Se captura sobre la imagen digitalizada del acta.",
        )
    if acta.estado == Estado.VERIFICADA:
        raise CaptureError(
            f"el acta {acta.clave_acta} ya está verificada.",
            hint="Una corrección requiere a un coordinador y un motivo.",
        )
    if acta.capturas.filter(capturista=usuario).exists():
        raise CaptureError(
            f"usted ya capturó el acta {acta.clave_acta}.",
            hint="La segunda captura debe hacerla otra persona.",
        )
    limpios = validar_valores(acta, valores)
    captura = Captura.objects.create(acta=acta, capturista=usuario, valores=limpios, cuando=cuando)
    if acta.fecha_hora_captura is None:
        acta.fecha_hora_captura = cuando
    registrar_evento(
        acta,
        tipo=TipoEvento.CAPTURA,
        estado=Estado.CAPTURADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={"captura": captura.pk},
    )
    return captura


@transaction.atomic
def verificar(*, acta: Acta, usuario: AbstractBaseUser, cuando: datetime, catd: str = "") -> Acta:
    """Verification: two independent captures agree (or a SIN ACTA is confirmed).

    The verifier cannot be one of the capturistas. Disagreeing captures are refused here:
    they go to cotejo, where only the differing fields are decided.
    """
    acta = Acta.objects.select_for_update().get(pk=acta.pk)
    if acta.estado == Estado.VERIFICADA:
        raise CaptureError(f"el acta {acta.clave_acta} ya está verificada.")
    capturas = list(acta.capturas.all())
    if any(c.capturista_id == usuario.pk for c in capturas):
        raise CaptureError(
            f"usted capturó el acta {acta.clave_acta}; no puede verificarla.",
            hint="La verificación la hace otra persona.",
        )
    datos: dict[str, object]
    if acta.motivo_sin_acta:
        datos = {"sin_acta": acta.motivo_sin_acta}
    else:
        if len(capturas) < CAPTURAS_REQUERIDAS:
            raise CaptureError(
                f"el acta {acta.clave_acta} tiene {len(capturas)} de "
                f"{CAPTURAS_REQUERIDAS} capturas.",
                hint="Espere la segunda captura.",
            )
        first = capturas[0].valores
        differing = sorted(
            {c for captura in capturas[1:] for c in first if captura.valores.get(c) != first[c]}
        )
        if differing:
            raise CaptureError(
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
