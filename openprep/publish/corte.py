"""The corte: one consistent read of the verified actas, decided by the core, written out.

A corte at time T holds every acta verified at or before T (by its recorded
FECHA_HORA_VERIFICACION), in catalog order, fuera de catálogo last.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import IO

from django.db import transaction
from django.db.models import F

from openprep.catalog.models import Eleccion
from openprep.catalog.services import election_of, to_core_casilla, zona_horaria
from openprep.core import model as core
from openprep.core.prepdb import write_prepdb
from openprep.core.rules import Decision, Participacion, RuleSettings, contabilizar
from openprep.core.tally import Summary
from openprep.intake.models import Acta, Estado

_MARCAS = {m.value: m for m in (core.Marca.ILEGIBLE, core.Marca.SIN_DATO)}


def field_value(text: str | None) -> core.FieldValue:
    """A stored capture value as the core's field value; a field never captured is 0."""
    if text is None or text == "":
        return 0
    marca = _MARCAS.get(text)
    return marca if marca is not None else int(text)


def to_acta_record(acta: Acta, *, columns: tuple[str, ...], tz: tzinfo) -> core.ActaRecord:
    """A registered acta as the core sees it.

    Columns off this acta's ballot are ``-``; an acta SIN ACTA publishes zeros.
    """
    esperada = acta.esperada
    valores = acta.valores
    if esperada is not None:
        casilla = to_core_casilla(esperada.casilla)
        lista_nominal = esperada.casilla.lista_nominal
        representantes = esperada.representantes_pp_ci
        no_aplica = set(esperada.no_aplica)
        tipo_acta = esperada.tipo_acta
    else:
        identidad = acta.identidad_capturada
        casilla = core.Casilla(
            id_entidad=int(identidad.get("id_entidad", 0)),
            entidad=str(identidad.get("entidad", "")),
            id_distrito=int(identidad.get("id_distrito", 0)),
            distrito=str(identidad.get("distrito", "")),
            seccion=int(identidad.get("seccion", 0)),
            tipo=str(identidad.get("tipo", "")),
            id_casilla=int(identidad.get("id_casilla", 0)),
            ext_contigua=int(identidad.get("ext_contigua", 0)),
            ubicacion=int(identidad.get("ubicacion", 0)),
        )
        lista_nominal = int(identidad.get("lista_nominal", 0))
        representantes = 0
        no_aplica = set(identidad.get("no_aplica", ()))
        tipo_acta = ""
    return core.ActaRecord(
        casilla=casilla,
        tipo_acta=tipo_acta,
        control=tuple(field_value(valores.get(name)) for name in core.CONTROL_FIELDS),
        votos=tuple(
            core.Marca.NO_APLICA if column in no_aplica else field_value(valores.get(column))
            for column in columns
        ),
        no_registrados=field_value(valores.get("NO_REGISTRADOS")),
        nulos=field_value(valores.get("NULOS")),
        total_votos_asentado=field_value(valores.get("TOTAL_VOTOS_ASENTADO")),
        lista_nominal=lista_nominal,
        representantes_pp_ci=representantes,
        sin_acta=core.MotivoSinActa(acta.motivo_sin_acta) if acta.motivo_sin_acta else None,
        fuera_catalogo=esperada is None,
        mecanismo_traslado=acta.mecanismo_traslado,
        sha=acta.imagen_id or "",
        fecha_hora_acopio=core.local_timestamp(acta.fecha_hora_acopio, tz=tz),
        fecha_hora_captura=core.local_timestamp(acta.fecha_hora_captura, tz=tz),
        fecha_hora_verificacion=core.local_timestamp(acta.fecha_hora_verificacion, tz=tz),
        origen=acta.origen,
        digitalizacion=acta.digitalizacion,
        tipo_documento=acta.tipo_documento,
        clave_acta_capturada=acta.clave_acta if esperada is None else "",
    )


@dataclass(frozen=True, slots=True)
class CorteDatabase:
    """What a corte's database holds, as written."""

    corte: str
    actas: int
    summary: dict[str, str]


def rule_settings_de(eleccion: Eleccion, *, hasta: datetime) -> RuleSettings:
    """The rule settings of an election's process for a corte at ``hasta``.

    Participation counts casillas especiales only from the end of the publication on
    (DOMAIN.md §5: operation versus final corte). A replayed election has no process:
    the defaults.
    """
    proceso = eleccion.proceso
    if proceso is None:
        return RuleSettings()
    participacion = (
        Participacion.FINAL if hasta >= proceso.fin_publicacion else Participacion.OPERACION
    )
    return replace(proceso.rule_settings(), participacion=participacion)


def nombre_base(eleccion: Eleccion) -> str:
    """The file name of an election's PREP database: ``<CLAVE_ELECCION>.csv``, or its name."""
    nombre = eleccion.clave or eleccion.nombre
    return nombre.replace("/", "-").replace("\\", "-") + ".csv"


def verified_actas(eleccion: Eleccion, *, hasta: datetime) -> Iterator[Acta]:
    return (
        Acta.objects.filter(
            eleccion=eleccion, estado=Estado.VERIFICADA, fecha_hora_verificacion__lte=hasta
        )
        .select_related("esperada__casilla")
        .order_by(F("esperada__orden").asc(nulls_last=True), "id")
        .iterator(chunk_size=2000)
    )


@dataclass(frozen=True, slots=True)
class DecidedCorte:
    """One election at one corte: every verified acta decided by the core, and the summary."""

    election: core.Election
    corte: str
    summary: dict[str, str]
    rows: list[tuple[core.ActaRecord, Decision]]


def decide_corte(eleccion: Eleccion, *, hasta: datetime, settings: RuleSettings) -> DecidedCorte:
    """Read the election's verified actas as of ``hasta`` and decide each with the core.

    One transaction gives one consistent read (the corte builder opens a REPEATABLE READ
    one around every election; a corte only reads rows that, once verified, never change).
    """
    tz = zona_horaria(eleccion.zona_horaria)
    election = election_of(eleccion)
    columns = election.columns
    with transaction.atomic():
        decided: list[tuple[core.ActaRecord, Decision]] = []
        summary = Summary(actas_esperadas=eleccion.actas_esperadas.count())
        for acta in verified_actas(eleccion, hasta=hasta):
            record = to_acta_record(acta, columns=columns, tz=tz)
            decision = contabilizar(record, election=election, settings=settings)
            summary.add(record, decision)
            decided.append((record, decision))
    return DecidedCorte(
        election=election,
        corte=core.format_corte(hasta, tz=tz),
        summary=summary.fields(participacion=settings.participacion),
        rows=decided,
    )


def write_decided(decided: DecidedCorte, *, out: IO[str], settings: RuleSettings) -> CorteDatabase:
    """Write a decided corte as the PREP database (reference layout)."""
    count = write_prepdb(
        out,
        election=decided.election,
        corte=decided.corte,
        summary=decided.summary,
        rows=decided.rows,
        settings=settings,
    )
    return CorteDatabase(corte=decided.corte, actas=count, summary=decided.summary)


def write_corte_database(
    eleccion: Eleccion, *, hasta: datetime, out: IO[str], settings: RuleSettings
) -> CorteDatabase:
    """Write the election's PREP database (reference layout) as of ``hasta``."""
    decided = decide_corte(eleccion, hasta=hasta, settings=settings)
    return write_decided(decided, out=out, settings=settings)
