"""Cotejo (a third person decides the fields two captures read differently) and the
coordinator's corrections of a verified acta.

Both write one event holding what each person read and what was decided (TipoEvento.COTEJO,
TipoEvento.CORRECCION); the acta's cached values change in the same transaction, and no
earlier event or capture is ever edited (ARCHITECTURE.md convention 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from openprep.accounts.access import coordinator_can_see, operador_de, require_role
from openprep.accounts.models import Rol
from openprep.capture.models import Captura
from openprep.capture.services import (
    CAPTURAS_REQUERIDAS,
    CaptureError,
    ConflictoDeEstado,
    SeparacionDeFunciones,
    campos_del_acta,
    campos_en_desacuerdo,
    exigir_campos,
    valor_capturado,
)
from openprep.intake.models import Acta, Estado, EventoActa, TipoEvento
from openprep.intake.services import registrar_evento


class FueraDeSuCATD(CaptureError):
    """A coordinator asked about an acta of a CATD they do not supervise."""

    http_status = 403


@dataclass(frozen=True)
class Desacuerdo:
    """What a verificador sees of an acta in cotejo: only the differing fields, in the
    order of the sheet, and what each capture read there."""

    campos: tuple[str, ...]
    capturas: tuple[dict[str, str], ...]


def desacuerdo(acta: Acta, capturas: list[Captura] | None = None) -> Desacuerdo:
    """The differing fields of an acta's two captures (``capturas``, if already read)."""
    if capturas is None:
        capturas = list(acta.capturas.all()[:CAPTURAS_REQUERIDAS])
    if len(capturas) < CAPTURAS_REQUERIDAS:
        return Desacuerdo(campos=(), capturas=())
    primera, segunda = (c.valores for c in capturas[:CAPTURAS_REQUERIDAS])
    difieren = campos_en_desacuerdo(primera, segunda)
    orden = campos_del_acta(acta)
    campos = (*(c for c in orden if c in difieren), *sorted(difieren - set(orden)))
    return Desacuerdo(
        campos=campos,
        capturas=tuple({c: v.get(c, "") for c in campos} for v in (primera, segunda)),
    )


@transaction.atomic
def cotejar(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    decisiones: Mapping[str, str],
    cuando: datetime,
    catd: str = "",
) -> Acta:
    """Decide, from the image, the fields two captures disagree on; the acta is verified.

    Exactly the differing fields must be decided: the agreeing ones are already settled by
    two blind captures, so a value for any other field is refused.
    """
    acta = (
        Acta.objects.select_for_update(of=("self",))
        .select_related("esperada", "eleccion")
        .get(pk=acta.pk)
    )
    if acta.estado == Estado.VERIFICADA:
        raise ConflictoDeEstado(f"el acta {acta.clave_acta} ya está verificada.")
    if acta.motivo_sin_acta:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} está registrada SIN ACTA: no se coteja, se confirma.",
            hint="Envíe confirmar=1.",
        )
    capturas = list(acta.capturas.all())
    if any(c.capturista_id == usuario.pk for c in capturas):
        raise SeparacionDeFunciones(
            f"usted capturó el acta {acta.clave_acta}; no puede cotejarla.",
            hint="El cotejo lo hace una persona que no la capturó.",
        )
    if len(capturas) < CAPTURAS_REQUERIDAS:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} tiene {len(capturas)} de {CAPTURAS_REQUERIDAS} capturas.",
            hint="Se coteja cuando las dos capturas difieren.",
        )
    pendiente = desacuerdo(acta, capturas)
    exigir_campos(
        acta,
        esperados=pendiente.campos,
        recibidos=decisiones,
        faltan=lambda c: f"falta decidir {c}",
        sobran=lambda c: f"{c} no están en desacuerdo",
        hint="En cotejo se deciden solo los campos en que difieren las capturas: "
        + (", ".join(pendiente.campos) or "ninguno")
        + ".",
    )
    decididos = {c: valor_capturado(acta, c, decisiones[c]) for c in pendiente.campos}
    primera, segunda = capturas[:CAPTURAS_REQUERIDAS]
    acta.valores = {**primera.valores, **decididos}
    acta.fecha_hora_verificacion = cuando
    registrar_evento(
        acta,
        tipo=TipoEvento.COTEJO,
        estado=Estado.VERIFICADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={
            "capturas": [primera.pk, segunda.pk],
            "campos": {
                c: {
                    "capturas": [pendiente.capturas[0][c], pendiente.capturas[1][c]],
                    "decision": decididos[c],
                }
                for c in pendiente.campos
            },
            "valores": acta.valores,
        },
    )
    return acta


def catd_del_acta(acta: Acta) -> str | None:
    """The clave of the CATD an acta belongs to: its casilla's, or where its acopio was."""
    if acta.esperada is not None and acta.esperada.casilla.catd_id is not None:
        return acta.esperada.casilla.catd.clave
    return (
        EventoActa.objects.filter(acta=acta, tipo=TipoEvento.ACOPIO)
        .exclude(catd="")
        .values_list("catd", flat=True)
        .first()
    )


def revisar_visibilidad(usuario: AbstractBaseUser, acta: Acta) -> None:
    """Refuse a coordinator an acta of a CATD they do not supervise.

    An acta of no known CATD (no casilla CATD, no acopio) is for the coordinators who
    supervise every CATD.
    """
    clave = catd_del_acta(acta)
    if clave is None:
        operador = operador_de(usuario)
        if operador is not None and operador.todas_las_catd:
            return
        raise FueraDeSuCATD(
            f"el acta {acta.clave_acta} no tiene CATD asignada.",
            hint="La corrige un coordinador que supervise todas las CATD.",
        )
    if not coordinator_can_see(usuario, clave):
        raise FueraDeSuCATD(
            f"el acta {acta.clave_acta} es de la CATD {clave}, que usted no supervisa.",
            hint="La corrige un coordinador de esa CATD.",
        )


def revisar_corregible(acta: Acta) -> None:
    """Only a verified acta with values is corrected (before, cotejo settles them)."""
    if acta.estado != Estado.VERIFICADA:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} no está verificada (estado {acta.estado}).",
            hint="Solo se corrige un acta verificada; antes, sus diferencias se resuelven "
            "en cotejo.",
        )
    if acta.motivo_sin_acta:
        raise ConflictoDeEstado(
            f"el acta {acta.clave_acta} está registrada SIN ACTA; no tiene valores que corregir.",
            hint="Si el acta sí llegó, regístrela como corresponde con el administrador.",
        )


@transaction.atomic
def corregir(
    *,
    acta: Acta,
    usuario: AbstractBaseUser,
    valores: Mapping[str, str],
    motivo: str,
    cuando: datetime,
    catd: str = "",
) -> tuple[Acta, tuple[str, ...]]:
    """A coordinator corrects fields of a verified acta, with a reason.

    The event keeps each changed field before and after; fields given with their current
    value are not changes. Returns the acta and the fields that changed.
    """
    require_role(usuario, Rol.COORDINADOR)
    acta = (
        Acta.objects.select_for_update(of=("self",))
        .select_related("esperada__casilla__catd", "eleccion")
        .get(pk=acta.pk)
    )
    revisar_visibilidad(usuario, acta)
    revisar_corregible(acta)
    motivo = motivo.strip()
    if not motivo:
        raise CaptureError(
            f"acta {acta.clave_acta}: falta el motivo de la corrección.",
            hint="Escriba por qué se corrige (p. ej., qué se leyó mal en la imagen).",
        )
    campos = campos_del_acta(acta)
    sobran = [c for c in valores if c not in campos]
    if sobran:
        raise CaptureError(
            f"acta {acta.clave_acta}: {', '.join(sobran)} no corresponden a esta acta.",
            hint=f"Los campos del acta son: {', '.join(campos)}.",
        )
    nuevos = {c: valor_capturado(acta, c, valores[c]) for c in campos if c in valores}
    cambios = {
        c: {"antes": acta.valores.get(c), "despues": v}
        for c, v in nuevos.items()
        if acta.valores.get(c) != v
    }
    if not cambios:
        raise CaptureError(
            f"acta {acta.clave_acta}: la corrección no cambia ningún valor.",
            hint="Escriba el valor correcto en los campos que deben cambiar.",
        )
    acta.valores = {**acta.valores, **{c: cambio["despues"] for c, cambio in cambios.items()}}
    registrar_evento(
        acta,
        tipo=TipoEvento.CORRECCION,
        estado=Estado.VERIFICADA,
        usuario=usuario,
        catd=catd,
        cuando=cuando,
        datos={"motivo": motivo, "campos": cambios},
    )
    return acta, tuple(cambios)
