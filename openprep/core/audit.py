"""Audit a published PREP database: recompute every acta and the summary, compare.

Pure: it is handed the rows of a :class:`~openprep.core.prepdb.PrepDbReader` and
returns a report. What the operators recorded (identity, captured values, a SIN ACTA
reason, timestamps) is taken from the file; what the rules decide (TOTAL_VOTOS_CALCULADO,
CONTABILIZADA, every other observation) and the summary are recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from openprep.core.model import Election
from openprep.core.prepdb import PrepDbHeader, PublishedRow, decisive_observation
from openprep.core.rules import RuleSettings, contabilizar, vote_base
from openprep.core.tally import SUMMARY_FIELDS, Summary


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A published value that the rules do not reproduce. ``clave_acta`` is None for the summary."""

    clave_acta: str | None
    field: str
    published: str
    recomputed: str
    line: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "clave_acta": self.clave_acta,
            "field": self.field,
            "published": self.published,
            "recomputed": self.recomputed,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class Warning:
    """Legal but suspicious data, worth a look by an auditor."""

    clave_acta: str
    message: str
    line: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"clave_acta": self.clave_acta, "message": self.message, "line": self.line}


@dataclass(slots=True)
class AuditReport:
    election: str
    corte: str
    published: dict[str, str]
    recomputed: dict[str, str] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    actas: int = 0

    @property
    def consistent(self) -> bool:
        return not self.discrepancies

    def as_json(self) -> dict[str, Any]:
        return {
            "election": self.election,
            "corte": self.corte,
            "published": self.published,
            "recomputed": self.recomputed,
            "discrepancies": [d.as_json() for d in self.discrepancies],
            "warnings": [w.as_json() for w in self.warnings],
        }


# The warnings' wording, shared with the columnar path (openprep.core.columnar).
MISSING_SHA = "no publica el SHA de su imagen."


def within_allowance(excess: int) -> str:
    return (
        f"cuenta aunque sus votos superan la lista nominal por {excess}: "
        "queda dentro del margen de representantes."
    )


def captured_before_acopio(*, captura: str, acopio: str) -> str:
    return f"capturada ({captura}) antes de su acopio ({acopio})."


def verified_before_capture(*, verificacion: str, captura: str) -> str:
    return f"verificada ({verificacion}) antes de su captura ({captura})."


def shared_sha(other: str) -> str:
    return f"su imagen tiene el mismo SHA que la del acta {other}."


def audit(
    header: PrepDbHeader, rows: Iterable[PublishedRow], *, settings: RuleSettings
) -> AuditReport:
    """Recompute every row and the summary of one published database."""
    published = {name: header.summary[name] for name in SUMMARY_FIELDS}
    report = AuditReport(election=header.election.nombre, corte=header.corte, published=published)
    summary = Summary(actas_esperadas=int(published["ACTAS_ESPERADAS"]))
    shas: dict[str, str] = {}
    for row in rows:
        report.actas += 1
        _audit_row(row, election=header.election, settings=settings, summary=summary, report=report)
        _warn(row, settings=settings, report=report, shas=shas)
    report.recomputed = summary.fields(participacion=settings.participacion)
    for name in SUMMARY_FIELDS:
        if report.recomputed[name] != published[name]:
            report.discrepancies.append(
                Discrepancy(None, name, published[name], report.recomputed[name])
            )
    return report


def _audit_row(
    row: PublishedRow,
    *,
    election: Election,
    settings: RuleSettings,
    summary: Summary,
    report: AuditReport,
) -> None:
    acta = row.acta
    decision = contabilizar(acta, election=election, settings=settings)
    summary.add(acta, decision)
    found = report.discrepancies
    clave = row.clave_acta
    total = str(decision.total_votos_calculado)
    if row.total_votos_calculado != total:
        found.append(
            Discrepancy(clave, "TOTAL_VOTOS_CALCULADO", row.total_votos_calculado, total, row.line)
        )
    if acta.fuera_catalogo:
        if row.contabilizada not in ("0", "2"):
            found.append(Discrepancy(clave, "CONTABILIZADA", row.contabilizada, "0", row.line))
        return
    contabilizada = "1" if decision.contabilizada else "0"
    if row.contabilizada != contabilizada:
        found.append(
            Discrepancy(clave, "CONTABILIZADA", row.contabilizada, contabilizada, row.line)
        )
    try:
        published = decisive_observation(row.observaciones, settings=settings)
    except KeyError:
        published = None
        found.append(
            Discrepancy(
                clave,
                "OBSERVACIONES",
                row.observaciones,
                settings.label(decision.observacion),
                row.line,
            )
        )
    else:
        if published is not decision.observacion:
            found.append(
                Discrepancy(
                    clave,
                    "OBSERVACIONES",
                    row.observaciones,
                    settings.label(decision.observacion),
                    row.line,
                )
            )
    expected_casilla = acta.casilla.clave
    if row.clave_casilla != expected_casilla:
        found.append(
            Discrepancy(clave, "CLAVE_CASILLA", row.clave_casilla, expected_casilla, row.line)
        )
    tipo_acta = acta.tipo_acta
    expected_acta = expected_casilla + (tipo_acta.zfill(2) if tipo_acta.isdigit() else tipo_acta)
    if clave != expected_acta:
        found.append(Discrepancy(clave, "CLAVE_ACTA", clave, expected_acta, row.line))
    if decision.contabilizada and decision.total_votos_calculado > vote_base(
        acta, settings=settings
    ):
        excess = decision.total_votos_calculado - vote_base(acta, settings=settings)
        report.warnings.append(Warning(clave, within_allowance(excess), row.line))


def _warn(
    row: PublishedRow, *, settings: RuleSettings, report: AuditReport, shas: dict[str, str]
) -> None:
    acta = row.acta
    clave = row.clave_acta
    warnings = report.warnings
    if _before(acta.fecha_hora_captura, acta.fecha_hora_acopio):
        message = captured_before_acopio(
            captura=acta.fecha_hora_captura, acopio=acta.fecha_hora_acopio
        )
        warnings.append(Warning(clave, message, row.line))
    if _before(acta.fecha_hora_verificacion, acta.fecha_hora_captura):
        message = verified_before_capture(
            verificacion=acta.fecha_hora_verificacion, captura=acta.fecha_hora_captura
        )
        warnings.append(Warning(clave, message, row.line))
    if acta.sha:
        other = shas.setdefault(acta.sha, clave)
        if other != clave:
            warnings.append(Warning(clave, shared_sha(other), row.line))
    elif acta.sin_acta is None and not acta.fuera_catalogo:
        warnings.append(Warning(clave, MISSING_SHA, row.line))


def _before(first: str, second: str) -> bool:
    """Both published timestamps present and ``first`` earlier than ``second``."""
    return bool(first and second and first < second)
