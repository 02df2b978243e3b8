"""Contabilización: which actas count (DOMAIN.md §4), one named function per rule.

Rules are applied in the order the law gives; the first that fires decides. Each
returns an :class:`Observacion` code (stable, for programs) or ``None``; the label a
person reads comes from the settings' label table, so an institute can publish INE's
spellings or its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from openprep.core.model import ActaRecord, Election, FieldValue, Marca, MotivoSinActa


class Observacion(StrEnum):
    SIN_ACTA_PAQUETE_NO_ENTREGADO = "SIN_ACTA_PAQUETE_NO_ENTREGADO"
    SIN_ACTA_CASILLA_NO_INSTALADA = "SIN_ACTA_CASILLA_NO_INSTALADA"
    SIN_ACTA_PAQUETE_SIN_SOBRE = "SIN_ACTA_PAQUETE_SIN_SOBRE"
    SIN_ACTA_CONTINGENCIA = "SIN_ACTA_CONTINGENCIA"
    TODOS_ILEGIBLES_O_SIN_DATO = "TODOS_ILEGIBLES_O_SIN_DATO"
    EXCEDE_LISTA_NOMINAL = "EXCEDE_LISTA_NOMINAL"
    ALGUN_DATO_ILEGIBLE_O_SIN_DATO = "ALGUN_DATO_ILEGIBLE_O_SIN_DATO"

    @property
    def es_sin_acta(self) -> bool:
        return self in _SIN_ACTA_BY_MOTIVO.values()

    @property
    def es_inconsistencia(self) -> bool:
        """Counted in PORCENTAJE_ACTAS_INCONSISTENCIAS (rules 2–4, not sin acta)."""
        return not self.es_sin_acta


_SIN_ACTA_BY_MOTIVO = {
    MotivoSinActa.PAQUETE_NO_ENTREGADO: Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO,
    MotivoSinActa.CASILLA_NO_INSTALADA: Observacion.SIN_ACTA_CASILLA_NO_INSTALADA,
    MotivoSinActa.PAQUETE_SIN_SOBRE: Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE,
    MotivoSinActa.CONTINGENCIA: Observacion.SIN_ACTA_CONTINGENCIA,
}


def motivo_de_observacion(observacion: Observacion) -> MotivoSinActa | None:
    """The sin-acta reason an observation records, if it is one."""
    for motivo, obs in _SIN_ACTA_BY_MOTIVO.items():
        if obs is observacion:
            return motivo
    return None


REFERENCE_LABELS: Mapping[Observacion, str] = MappingProxyType(
    {
        Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO: "SIN ACTA POR PAQUETE NO ENTREGADO",
        Observacion.SIN_ACTA_CASILLA_NO_INSTALADA: "SIN ACTA POR CASILLA NO INSTALADA",
        Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE: "SIN ACTA POR PAQUETE ENTREGADO SIN SOBRE",
        Observacion.SIN_ACTA_CONTINGENCIA: "SIN ACTA POR CONTINGENCIA",
        Observacion.TODOS_ILEGIBLES_O_SIN_DATO: "TODOS ILEGIBLES O SIN DATO",
        Observacion.EXCEDE_LISTA_NOMINAL: "EXCEDE LISTA NOMINAL",
        Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO: "ALGUN DATO ILEGIBLE O SIN DATO",
    }
)
"""Labels as the reference database (IEQROO 2019) publishes them."""

INE_LABELS: Mapping[Observacion, str] = MappingProxyType(
    {
        Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO: "Sin acta por paquete no entregado",
        Observacion.SIN_ACTA_CASILLA_NO_INSTALADA: "Sin acta por casilla no instalada",
        Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE: "Sin acta por paquete entregado sin sobre",
        Observacion.SIN_ACTA_CONTINGENCIA: "Sin acta por contingencia",
        Observacion.TODOS_ILEGIBLES_O_SIN_DATO: "Todos ilegibles o sin dato",
        Observacion.EXCEDE_LISTA_NOMINAL: "Excede lista nominal",
        Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO: "Ilegible o sin dato",
    }
)
"""Labels in the spelling of INE's federal databases."""

LABEL_TABLES: Mapping[str, Mapping[Observacion, str]] = MappingProxyType(
    {"referencia": REFERENCE_LABELS, "ine": INE_LABELS}
)


class Representantes(StrEnum):
    """How many party and independent representatives may vote beyond the lista nominal."""

    CONTENDIENTES = "contendientes"
    """2 × (parties + independent candidacies on the ballot): reproduces IEQROO 2019."""
    COLUMNA = "columna"
    """The accredited number loaded per casilla (REPRESENTANTES_PP_CI)."""


class Participacion(StrEnum):
    """Which total the participation figure uses (DOMAIN.md §5)."""

    OPERACION = "operacion"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Everything the rules depend on, stated explicitly."""

    representantes: Representantes = Representantes.CONTENDIENTES
    boletas_especial: int = 750
    participacion: Participacion = Participacion.FINAL
    labels: Mapping[Observacion, str] = field(default_factory=lambda: REFERENCE_LABELS)

    def label(self, observacion: Observacion | None) -> str:
        return "" if observacion is None else self.labels[observacion]

    def observacion_de_label(self, label: str) -> Observacion | None:
        """Read a published label back into its code (``None`` for an empty cell)."""
        if not label:
            return None
        for code, text in self.labels.items():
            if text == label:
                return code
        for table in LABEL_TABLES.values():
            for code, text in table.items():
                if text.upper() == label.upper():
                    return code
        raise KeyError(label)


class Decision(NamedTuple):
    """What the rules decided for one acta (a NamedTuple: built once per acta, fast)."""

    contabilizada: bool
    observacion: Observacion | None
    total_votos_calculado: int


def vote_fields(acta: ActaRecord) -> tuple[FieldValue, ...]:
    """Every vote field: contenders and coalition columns, NO_REGISTRADOS, NULOS."""
    return (*acta.votos, acta.no_registrados, acta.nulos)


def _has_blank(fields: tuple[FieldValue, ...]) -> bool:
    return Marca.ILEGIBLE in fields or Marca.SIN_DATO in fields


def total_votos_calculado(acta: ActaRecord) -> int:
    """Sum of the legible vote fields; ILEGIBLE, SIN DATO and ``-`` add nothing (§4)."""
    return sum([v for v in vote_fields(acta) if type(v) is int])


def regla_sin_acta(acta: ActaRecord) -> Observacion | None:
    """Rule 1 (DOMAIN.md §4): the acta did not arrive with its package; not counted."""
    return None if acta.sin_acta is None else _SIN_ACTA_BY_MOTIVO[acta.sin_acta]


def regla_todos_ilegibles_o_sin_dato(acta: ActaRecord) -> Observacion | None:
    """Rule 2 (DOMAIN.md §4): every applicable vote field is ILEGIBLE or SIN DATO."""
    fields = vote_fields(acta)
    if not _has_blank(fields):
        return None
    if any(type(v) is int for v in fields):
        return None
    return Observacion.TODOS_ILEGIBLES_O_SIN_DATO


def representatives_allowance(
    acta: ActaRecord, *, election: Election, settings: RuleSettings
) -> int:
    """Votes representatives may add beyond the lista nominal or the especial's ballots.

    ``contendientes``: one propietario and one suplente per party or independent
    candidacy on this ballot (a ``-`` column is not on it). ``columna``: the number the
    institute loaded for the casilla (REPRESENTANTES_PP_CI).
    """
    if settings.representantes is Representantes.COLUMNA:
        return acta.representantes_pp_ci
    votos = acta.votos
    on_ballot = sum(1 for i in election.representative_positions if votos[i] is not Marca.NO_APLICA)
    return 2 * on_ballot


def vote_base(acta: ActaRecord, *, settings: RuleSettings) -> int:
    """Lista nominal, or for a casilla especial the approved number of ballots."""
    return settings.boletas_especial if acta.casilla.especial else acta.lista_nominal


def vote_limit(acta: ActaRecord, *, election: Election, settings: RuleSettings) -> int:
    """The most votes an acta may hold: lista nominal (or the especial's ballots) + allowance."""
    return vote_base(acta, settings=settings) + representatives_allowance(
        acta, election=election, settings=settings
    )


def regla_excede_lista_nominal(
    acta: ActaRecord, *, election: Election, settings: RuleSettings, total: int
) -> Observacion | None:
    """Rule 3 (DOMAIN.md §4): TOTAL_VOTOS_CALCULADO above the limit; not counted."""
    if total <= vote_base(acta, settings=settings):
        return None  # the allowance is never negative
    if total > vote_limit(acta, election=election, settings=settings):
        return Observacion.EXCEDE_LISTA_NOMINAL
    return None


def regla_algun_dato_ilegible_o_sin_dato(acta: ActaRecord) -> Observacion | None:
    """Rule 4 (DOMAIN.md §4): counts, ILEGIBLE/SIN DATO as zero, with this observation."""
    if _has_blank(vote_fields(acta)):
        return Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO
    return None


_MARCAS = frozenset(Marca)
_BLANKS = frozenset((Marca.ILEGIBLE, Marca.SIN_DATO))


def contabilizar(acta: ActaRecord, *, election: Election, settings: RuleSettings) -> Decision:
    """Apply the rules in order; the first that fires decides whether the acta counts.

    An acta fuera de catálogo never counts and carries no observation (DOMAIN.md §4).
    Half a million actas pass here in a national corte: the vote fields are scanned once
    for marks (a set test), and an acta of numbers only is summed in one step; the
    result is :func:`total_votos_calculado` and :func:`_has_blank`'s.
    """
    fields = (*acta.votos, acta.no_registrados, acta.nulos)
    if not _MARCAS.isdisjoint(fields):
        total = sum([v for v in fields if type(v) is int])
        blank = not _BLANKS.isdisjoint(fields)
    else:
        try:
            total, blank = sum(fields), False  # type: ignore[arg-type]  # numbers only: most actas
        except TypeError:  # a value that is not a FieldValue: as the rules read it
            total, blank = sum([v for v in fields if type(v) is int]), _has_blank(fields)
    if acta.fuera_catalogo:
        return Decision(False, None, total)
    # Rules 2 and 4 can only fire when a field is blank: most actas skip both.
    observacion = regla_sin_acta(acta) or (blank and regla_todos_ilegibles_o_sin_dato(acta))
    if not observacion:
        observacion = regla_excede_lista_nominal(
            acta, election=election, settings=settings, total=total
        )
    if observacion is not None:
        return Decision(False, observacion, total)
    return Decision(True, regla_algun_dato_ilegible_o_sin_dato(acta) if blank else None, total)
