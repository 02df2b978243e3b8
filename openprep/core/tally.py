"""Aggregation: totals per contender and the corte summary (DOMAIN.md §5) at any level."""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from openprep.core.model import ActaRecord, Casilla, Election, Marca
from openprep.core.rules import Decision, Participacion

_MARCAS = frozenset(Marca)

SUMMARY_FIELDS = (
    "ACTAS_ESPERADAS",
    "ACTAS_REGISTRADAS",
    "ACTAS_FUERA_CATALOGO",
    "ACTAS_CAPTURADAS",
    "PORCENTAJE_ACTAS_CAPTURADAS",
    "ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_CONTABILIZADAS",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS",
    "ACTAS_NO_CONTABILIZADAS",
    "LISTA_NOMINAL_ACTAS_CONTABILIZADAS",
    "TOTAL_VOTOS_C_CS",
    "TOTAL_VOTOS_S_CS",
    "PORCENTAJE_PARTICIPACION_CIUDADANA",
)
"""The summary block's fields, spelled and ordered as in the reference database."""


def truncated_percentage(numerator: int, denominator: int) -> str:
    """``numerator / denominator × 100`` with 4 decimals, truncated, never rounded.

    Exact integer arithmetic: 95.08426… gives ``95.0842``; a zero denominator ``0.0000``.
    """
    if denominator <= 0:
        return "0.0000"
    scaled = numerator * 1_000_000 // denominator
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"


@dataclass(slots=True)
class Summary:
    """The counts behind a corte's summary; :meth:`fields` formats them as published."""

    actas_esperadas: int = 0
    actas_registradas: int = 0
    actas_fuera_catalogo: int = 0
    actas_contabilizadas: int = 0
    actas_inconsistencias: int = 0
    lista_nominal_contabilizadas: int = 0
    total_votos_c_cs: int = 0
    total_votos_s_cs: int = 0

    @property
    def actas_capturadas(self) -> int:
        return self.actas_registradas - self.actas_fuera_catalogo

    @property
    def actas_no_contabilizadas(self) -> int:
        return self.actas_capturadas - self.actas_contabilizadas

    def add(self, acta: ActaRecord, decision: Decision) -> None:
        self.actas_registradas += 1
        if acta.fuera_catalogo:
            self.actas_fuera_catalogo += 1
            return
        if decision.observacion is not None and decision.observacion.es_inconsistencia:
            self.actas_inconsistencias += 1
        if decision.contabilizada:
            self.actas_contabilizadas += 1
            self.lista_nominal_contabilizadas += acta.lista_nominal
            self.total_votos_c_cs += decision.total_votos_calculado
            if not acta.casilla.especial:
                self.total_votos_s_cs += decision.total_votos_calculado

    def merge(self, other: Summary) -> None:
        self.actas_esperadas += other.actas_esperadas
        self.actas_registradas += other.actas_registradas
        self.actas_fuera_catalogo += other.actas_fuera_catalogo
        self.actas_contabilizadas += other.actas_contabilizadas
        self.actas_inconsistencias += other.actas_inconsistencias
        self.lista_nominal_contabilizadas += other.lista_nominal_contabilizadas
        self.total_votos_c_cs += other.total_votos_c_cs
        self.total_votos_s_cs += other.total_votos_s_cs

    def fields(self, *, participacion: Participacion) -> dict[str, str]:
        """The 13 summary values, in order, formatted as the database writes them."""
        votos = (
            self.total_votos_c_cs if participacion is Participacion.FINAL else self.total_votos_s_cs
        )
        esperadas = self.actas_esperadas
        values = (
            esperadas,
            self.actas_registradas,
            self.actas_fuera_catalogo,
            self.actas_capturadas,
            truncated_percentage(self.actas_capturadas, esperadas),
            self.actas_contabilizadas,
            truncated_percentage(self.actas_contabilizadas, esperadas),
            truncated_percentage(self.actas_inconsistencias, esperadas),
            self.actas_no_contabilizadas,
            self.lista_nominal_contabilizadas,
            self.total_votos_c_cs,
            self.total_votos_s_cs,
            truncated_percentage(votos, self.lista_nominal_contabilizadas),
        )
        return dict(zip(SUMMARY_FIELDS, (str(v) for v in values), strict=True))


@dataclass(slots=True)
class TerritoryTally:
    """Votes per contender column (ballot order) and the summary of one territory."""

    votos: list[int]
    no_registrados: int = 0
    nulos: int = 0
    summary: Summary = field(default_factory=Summary)

    def add(self, acta: ActaRecord, decision: Decision) -> None:
        self.summary.add(acta, decision)
        if not decision.contabilizada:
            return
        votos = acta.votos
        if _MARCAS.isdisjoint(votos) and len(votos) == len(self.votos):
            try:
                self.votos = list(map(operator.add, self.votos, votos))  # numbers: one step
                votos = ()
            except TypeError:  # a value that is not a FieldValue: added as below
                pass
        for i, value in enumerate(votos):  # marks are not added
            if type(value) is int:
                self.votos[i] += value
        if type(acta.no_registrados) is int:
            self.no_registrados += acta.no_registrados
        if type(acta.nulos) is int:
            self.nulos += acta.nulos

    @property
    def total_votos(self) -> int:
        return sum(self.votos) + self.no_registrados + self.nulos


class Nivel(StrEnum):
    """Territorial levels of the drill-down."""

    ENTIDAD = "entidad"
    DISTRITO = "distrito"
    MUNICIPIO = "municipio"
    SECCION = "seccion"
    CASILLA = "casilla"


TerritoryKey = tuple[Hashable, ...]

_KEY_OF: Mapping[Nivel, Callable[[Casilla], TerritoryKey]] = {
    Nivel.ENTIDAD: lambda c: (c.id_entidad,),
    Nivel.DISTRITO: lambda c: (c.id_entidad, c.id_distrito),
    Nivel.MUNICIPIO: lambda c: (c.id_entidad, c.id_municipio),
    Nivel.SECCION: lambda c: (c.id_entidad, c.seccion),
    Nivel.CASILLA: lambda c: (c.id_entidad, c.seccion, c.tipo, c.id_casilla, c.ext_contigua),
}


def territory_key(casilla: Casilla, *, nivel: Nivel) -> TerritoryKey:
    """The group key of a casilla at a level: a tuple, never a glued string."""
    return _KEY_OF[nivel](casilla)


def tally(
    actas: Iterable[tuple[ActaRecord, Decision]],
    *,
    election: Election,
    nivel: Nivel,
    esperadas: Iterable[Casilla] = (),
) -> dict[TerritoryKey, TerritoryTally]:
    """Totals and summary per territory at ``nivel``.

    ``esperadas`` lists the casilla of every expected acta (one entry per acta), so
    each territory knows its ACTAS_ESPERADAS. Fuera de catálogo actas only count as
    registered where their captured identity places them.
    """
    width = len(election.contenders)
    result: dict[TerritoryKey, TerritoryTally] = {}

    key_of = _KEY_OF[nivel]

    def slot(casilla: Casilla) -> TerritoryTally:
        key = key_of(casilla)
        found = result.get(key)
        if found is None:
            found = result[key] = TerritoryTally(votos=[0] * width)
        return found

    for casilla in esperadas:
        slot(casilla).summary.actas_esperadas += 1
    last: tuple[TerritoryKey, TerritoryTally] | None = None  # actas come grouped: reuse
    for acta, decision in actas:
        key = key_of(acta.casilla)
        if last is not None and last[0] == key:
            found = last[1]
        else:
            found = slot(acta.casilla)
            last = (key, found)
        found.add(acta, decision)
    return result
