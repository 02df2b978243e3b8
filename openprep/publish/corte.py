"""The corte: one consistent read of the verified actas, decided by the core, written out.

A corte at time T holds every acta verified at or before T (by its recorded
FECHA_HORA_VERIFICACION), in catalog order, fuera de catálogo last.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import IO, TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import CharField, F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast

from openprep.catalog.models import Casilla, Eleccion
from openprep.catalog.services import election_of, to_core_casilla, zona_horaria
from openprep.core import model as core
from openprep.core.model import field_value
from openprep.core.prepdb import write_prepdb
from openprep.core.rules import Decision, Participacion, RuleSettings, contabilizar
from openprep.core.tally import Summary
from openprep.intake.models import Acta, Estado

if TYPE_CHECKING:
    import polars as pl


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


def verified_actas(eleccion: Eleccion, *, hasta: datetime) -> QuerySet[Acta]:
    """The election's actas verified by ``hasta``, unordered."""
    return Acta.objects.filter(
        eleccion=eleccion, estado=Estado.VERIFICADA, fecha_hora_verificacion__lte=hasta
    )


CASILLA_COLUMNS = (
    *("id", "id_entidad", "entidad", "id_distrito", "distrito", "seccion", "tipo"),
    *("id_casilla", "ext_contigua", "ubicacion", "id_municipio", "municipio", "lista_nominal"),
)


class UtcText(Func):
    """A timestamp column as UTC text to the second, ``YYYY-MM-DD HH:MM:SS`` (NULL stays
    NULL): far cheaper to read than a datetime, and free of the server's time zone data."""

    output_field = CharField()
    template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"

    def __init__(self, column: str) -> None:
        super().__init__(F(column))

    def as_sqlite(self, compiler, connection, **extra):  # type: ignore[no-untyped-def]
        fecha = Func(Value("%Y-%m-%d %H:%M:%S"), *self.source_expressions, function="strftime")
        return compiler.compile(fecha)


class LocalText(dict):
    """UTC text (:class:`UtcText`) as :func:`core.local_timestamp` publishes it, by lookup:
    each distinct second once (a national election has a few tens of thousands), and
    one time zone conversion per minute of UTC; a minute in which the offset changes, or
    an offset that is not whole minutes, is converted second by second."""

    def __init__(self, tz: tzinfo) -> None:
        super().__init__()
        self.tz = tz
        self.minutes: dict[str, str] = {}

    def _minute(self, minute: str) -> str:
        tz = self.tz
        start = datetime.fromisoformat(minute).replace(tzinfo=UTC)
        offset = start.astimezone(tz).utcoffset()
        whole = offset is not None and not offset % timedelta(minutes=1)
        if not whole or (start + timedelta(seconds=59)).astimezone(tz).utcoffset() != offset:
            return ""
        return core.local_timestamp(start, tz=tz)[:16]

    def __missing__(self, utc: str | None) -> str:
        if utc is None:
            local = ""
        else:
            minute = self.minutes.get(utc[:16])
            if minute is None:
                minute = self.minutes[utc[:16]] = self._minute(utc[:16])
            if minute:
                local = minute + utc[16:]
            else:
                moment = datetime.fromisoformat(utc).replace(tzinfo=UTC)
                local = core.local_timestamp(moment, tz=self.tz)
        self[utc] = local
        return local


CasillaCatalogo = Mapping[int, tuple[core.Casilla, int]]
"""Casillas by id: each as the core sees it, with its LISTA_NOMINAL."""


def casillas_por_id(
    casillas: QuerySet[Casilla] | None = None,
) -> dict[int, tuple[core.Casilla, int]]:
    """The casillas (every one of the catalog by default) read once, without model instances."""
    rows = (Casilla.objects.all() if casillas is None else casillas).values_list(*CASILLA_COLUMNS)
    return {
        pk: (core.Casilla(*identity), lista_nominal)
        for pk, *identity, lista_nominal in rows.iterator(chunk_size=5000)
    }


_RECORD_FIELDS = (
    *("casilla", "tipo_acta", "control", "votos", "no_registrados", "nulos"),
    *("total_votos_asentado", "lista_nominal", "representantes_pp_ci", "sin_acta"),
    *("fuera_catalogo", "mecanismo_traslado", "sha", "fecha_hora_acopio"),
    *("fecha_hora_captura", "fecha_hora_verificacion", "origen", "digitalizacion"),
    *("tipo_documento", "clave_acta_capturada"),
)
assert core.ActaRecord._fields == _RECORD_FIELDS, "catalog_records builds them positionally"


class _FieldValues(dict):
    """:func:`field_value` of each stored text, computed once per distinct text."""

    def __missing__(self, text: str | None) -> core.FieldValue:
        value = self[text] = field_value(text)
        return value


CATALOG_COLUMNS = (
    "esperada__casilla_id",
    "esperada__tipo_acta",
    "esperada__representantes_pp_ci",
    Cast("esperada__no_aplica", TextField()),
    Cast("valores", TextField()),
    "motivo_sin_acta",
    "mecanismo_traslado",
    "imagen_id",
    UtcText("fecha_hora_acopio"),
    UtcText("fecha_hora_captura"),
    UtcText("fecha_hora_verificacion"),
    "origen",
    "digitalizacion",
    "tipo_documento",
)
"""What an acta of the catalog is read as (``values_list`` of an Acta query):
:func:`catalog_records` turns such rows into the core's records."""


def catalog_records(
    rows: Iterable[tuple[Any, ...]],
    *,
    columns: tuple[str, ...],
    tz: tzinfo,
    casillas: CasillaCatalogo,
) -> Iterator[core.ActaRecord]:
    """Rows of :data:`CATALOG_COLUMNS` as the core's records, one each, in their order.

    Gives what :func:`to_acta_record` gives for each; ``no_aplica`` is decoded once per
    distinct value, a casilla is shared by every acta of it.
    """
    fuera_de_boleta: dict[str, tuple[int, ...]] = {}  # no_aplica → indexes in ``columns``
    value_of = _FieldValues().__getitem__
    local = LocalText(tz).__getitem__
    control = core.CONTROL_FIELDS
    no_aplica_marca = core.Marca.NO_APLICA
    motivos: dict[str, core.MotivoSinActa | None] = {"": None}
    make = core.ActaRecord._make  # positional, in the record's field order
    for (
        casilla_id, tipo_acta, representantes, no_aplica_text, valores_text, motivo, mecanismo,
        sha, acopio, captura, verificacion, origen, digitalizacion, tipo_documento,
    ) in rows:  # fmt: skip
        no_aplica = fuera_de_boleta.get(no_aplica_text)
        if no_aplica is None:
            fuera = set(json.loads(no_aplica_text))
            no_aplica = tuple(i for i, column in enumerate(columns) if column in fuera)
            fuera_de_boleta[no_aplica_text] = no_aplica
        valores = json.loads(valores_text).get
        if no_aplica:
            listed = list(map(value_of, map(valores, columns)))
            for i in no_aplica:
                listed[i] = no_aplica_marca
            votos = tuple(listed)
        else:
            votos = tuple(map(value_of, map(valores, columns)))
        sin_acta = motivos.get(motivo) if motivo is not None else None
        if sin_acta is None and motivo:
            sin_acta = motivos[motivo] = core.MotivoSinActa(motivo)
        casilla, lista_nominal = casillas[casilla_id]
        yield make(
            (
                casilla,
                tipo_acta,
                tuple(map(value_of, map(valores, control))),
                votos,
                value_of(valores("NO_REGISTRADOS")),
                value_of(valores("NULOS")),
                value_of(valores("TOTAL_VOTOS_ASENTADO")),
                lista_nominal,
                representantes,
                sin_acta,
                False,  # fuera_catalogo
                mecanismo,
                sha or "",
                local(acopio),
                local(captura),
                local(verificacion),
                origen,
                digitalizacion,
                tipo_documento,
                "",  # clave_acta_capturada
            )
        )


def fuera_de_catalogo(
    eleccion: Eleccion, *, hasta: datetime, columns: tuple[str, ...], tz: tzinfo
) -> Iterator[core.ActaRecord]:
    """The election's actas fuera de catálogo verified by ``hasta`` (few: read as models)."""
    fuera = verified_actas(eleccion, hasta=hasta).filter(esperada__isnull=True).order_by("id")
    for acta in fuera.iterator(chunk_size=2000):
        yield to_acta_record(acta, columns=columns, tz=tz)


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a corte piles up its records (tuples without
    cycles) and writes from them: its full passes over them cost a fifth of a national
    decide."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class DecidedCorte:
    """One election at one corte: every verified acta decided by the core, and the summary."""

    election: core.Election
    corte: str
    summary: dict[str, str]
    tabla: pl.DataFrame
    """The actas of the catalog, in catalog order, as :func:`openprep.core.tabla.decidir`
    gives them."""
    fuera: list[tuple[core.ActaRecord, Decision]]
    """The actas fuera de catálogo (published after the others)."""


def decide_corte(
    eleccion: Eleccion,
    *,
    hasta: datetime,
    settings: RuleSettings,
    esperadas: pl.DataFrame | None = None,
) -> DecidedCorte:
    """Read the election's verified actas as of ``hasta`` and decide each with the core.

    One transaction gives one consistent read (the corte builder opens a REPEATABLE READ
    one around every election; a corte only reads rows that, once verified, never change).
    ``esperadas``: the election's expected actas (:func:`lectura.esperadas`), when the
    caller has read them.
    """
    from openprep.core.tabla import decidir, resumen
    from openprep.publish import lectura  # polars: loaded by the cortes, not by every process

    tz = zona_horaria(eleccion.zona_horaria)
    election = election_of(eleccion)
    with transaction.atomic():
        if esperadas is None:
            casillas = Casilla.objects.filter(actas_esperadas__eleccion=eleccion).distinct()
            esperadas = lectura.esperadas(eleccion, casillas=lectura.casillas(casillas))
        cruda = lectura.catalogo(
            eleccion, hasta=hasta, election=election, tz=tz, esperadas=esperadas
        )
        tabla = decidir(cruda, election=election, settings=settings)
        summary = Summary(actas_esperadas=esperadas.height)
        resumen(tabla, summary=summary)
        fuera: list[tuple[core.ActaRecord, Decision]] = []
        for record in fuera_de_catalogo(eleccion, hasta=hasta, columns=election.columns, tz=tz):
            decision = contabilizar(record, election=election, settings=settings)
            summary.add(record, decision)
            fuera.append((record, decision))
    return DecidedCorte(
        election=election,
        corte=core.format_corte(hasta, tz=tz),
        summary=summary.fields(participacion=settings.participacion),
        tabla=tabla,
        fuera=fuera,
    )


def write_decided(decided: DecidedCorte, *, out: IO[str], settings: RuleSettings) -> CorteDatabase:
    """Write a decided corte as the PREP database (reference layout)."""
    from openprep.core.tabla import celdas

    count = write_prepdb(
        out,
        election=decided.election,
        corte=decided.corte,
        summary=decided.summary,
        catalogo=celdas(decided.tabla, election=decided.election, settings=settings),
        rows=decided.fuera,
        settings=settings,
    )
    return CorteDatabase(corte=decided.corte, actas=count, summary=decided.summary)


def write_corte_database(
    eleccion: Eleccion, *, hasta: datetime, out: IO[str], settings: RuleSettings
) -> CorteDatabase:
    """Write the election's PREP database (reference layout) as of ``hasta``."""
    decided = decide_corte(eleccion, hasta=hasta, settings=settings)
    return write_decided(decided, out=out, settings=settings)
