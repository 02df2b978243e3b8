"""Writing the PREP database in the reference layout (DOMAIN.md §5), byte for byte."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO

from openprep.core.model import (
    CONTROL_FIELDS,
    ActaRecord,
    Election,
    FieldValue,
    clave_acta,
)
from openprep.core.prepdb_layout import IDENTITY_COLUMNS, TAIL_COLUMNS
from openprep.core.rules import Decision, Observacion, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS

REFERENCE_COLUMNS_HEAD = IDENTITY_COLUMNS + CONTROL_FIELDS


def _cell(value: FieldValue) -> str:
    return str(value) if type(value) is int else str(value.value)  # type: ignore[union-attr]


def format_row(acta: ActaRecord, decision: Decision, *, settings: RuleSettings) -> list[str]:
    """One acta as the reference layout's cells."""
    casilla = acta.casilla
    fuera = acta.fuera_catalogo
    return [
        "-" if fuera else f'="{casilla.clave}"',
        acta.clave_acta,
        str(casilla.id_entidad),
        casilla.entidad,
        str(casilla.id_distrito),
        casilla.distrito,
        str(casilla.seccion),
        str(casilla.id_casilla),
        casilla.tipo,
        str(casilla.ext_contigua),
        str(casilla.ubicacion),
        "-" if fuera else acta.tipo_acta,
        *(_cell(v) for v in acta.control),
        *(_cell(v) for v in acta.votos),
        _cell(acta.no_registrados),
        _cell(acta.nulos),
        _cell(acta.total_votos_asentado),
        str(decision.total_votos_calculado),
        str(acta.lista_nominal),
        str(acta.representantes_pp_ci),
        settings.label(decision.observacion),
        "1" if decision.contabilizada else "0",
        acta.mecanismo_traslado,
        acta.sha,
        acta.fecha_hora_acopio,
        acta.fecha_hora_captura,
        acta.fecha_hora_verificacion,
        acta.origen,
        acta.digitalizacion,
        acta.tipo_documento,
    ]


def _catalog_row(acta: ActaRecord, decision: Decision, *, label: str, suffix: str) -> str:
    """:func:`format_row`'s cells joined, for an acta of the catalog (not fuera de
    catálogo, no captured key), in one formatting step: ``f"{x}"`` is ``str(x)`` for the
    integers and the marks alike. ``suffix``: the CLAVE_ACTA's, from TIPO_ACTA."""
    c = acta.casilla
    clave = f"{c.id_entidad:02d}{c.seccion:04d}{c.tipo}{c.id_casilla:02d}{c.ext_contigua:02d}"
    control = "|".join(map(str, acta.control))
    votos = "|".join(map(str, acta.votos))
    return (
        f'="{clave}"|{clave}{suffix}|{c.id_entidad}|{c.entidad}|{c.id_distrito}|{c.distrito}|'
        f"{c.seccion}|{c.id_casilla}|{c.tipo}|{c.ext_contigua}|{c.ubicacion}|{acta.tipo_acta}|"
        f"{control}|{votos}|{acta.no_registrados}|{acta.nulos}|{acta.total_votos_asentado}|"
        f"{decision.total_votos_calculado}|{acta.lista_nominal}|{acta.representantes_pp_ci}|"
        f"{label}|{1 if decision.contabilizada else 0}|{acta.mecanismo_traslado}|{acta.sha}|"
        f"{acta.fecha_hora_acopio}|{acta.fecha_hora_captura}|{acta.fecha_hora_verificacion}|"
        f"{acta.origen}|{acta.digitalizacion}|{acta.tipo_documento}"
    )


def write_prepdb(
    out: IO[str],
    *,
    election: Election,
    corte: str,
    summary: Mapping[str, str],
    rows: Iterable[tuple[ActaRecord, Decision]],
    settings: RuleSettings,
) -> int:
    """Write the reference layout (pipes, ``sep=|``, ``\\n`` line ends); return the row count.

    A row's bytes are :func:`format_row`'s cells joined by pipes; an acta of the catalog
    is formatted in one step (:func:`_catalog_row`), which is what keeps a national
    corte's half million rows cheap. A cell holding the delimiter or a newline is refused.
    """
    delimiter = "|"
    columns = (*REFERENCE_COLUMNS_HEAD, *election.columns, *TAIL_COLUMNS)
    pipes = len(columns) - 1
    out.write(f"sep={delimiter}\n{election.nombre}\n{corte}\n")
    out.write(delimiter.join(SUMMARY_FIELDS) + "\n")
    out.write(delimiter.join(summary[name] for name in SUMMARY_FIELDS) + "\n\n")
    out.write(delimiter.join(columns) + "\n")
    labels: dict[Observacion | None, str] = {None: ""}
    labels.update(settings.labels.items())
    suffixes: dict[str, str] = {}  # TIPO_ACTA → the end of CLAVE_ACTA (few distinct ones)
    count = 0
    lines: list[str] = []
    for acta, decision in rows:
        if acta.fuera_catalogo or acta.clave_acta_capturada:
            line = delimiter.join(format_row(acta, decision, settings=settings))
        else:
            tipo_acta = acta.tipo_acta
            suffix = suffixes.get(tipo_acta)
            if suffix is None:
                casilla = acta.casilla
                suffix = clave_acta(casilla, tipo_acta).removeprefix(casilla.clave)
                suffixes[tipo_acta] = suffix
            line = _catalog_row(acta, decision, label=labels[decision.observacion], suffix=suffix)
        if line.count(delimiter) != pipes or "\n" in line:
            raise ValueError(f"{acta.clave_acta}: a value holds the delimiter or a newline")
        lines.append(line)
        count += 1
        if len(lines) == 10_000:
            out.write("\n".join(lines))
            out.write("\n")
            lines.clear()
    if lines:
        out.write("\n".join(lines))
        out.write("\n")
    out.write("\n")
    return count
