"""Writing the PREP database in the reference layout (DOMAIN.md §5), byte for byte."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO

import polars as pl

from openprep.core.model import (
    CLAVE_CASILLA_FORMAT,
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
_BLOCK = 10_000
"""Rows joined and written at once."""


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


def catalog_row_format(*, width: int) -> str:
    """The ``%`` template of a catalog acta's row (:func:`catalog_row_args`) for a ballot of
    ``width`` columns: :func:`format_row`'s cells joined, in one formatting step (``%s`` is
    ``str()`` for the integers and the marks alike; ``%d`` of CONTABILIZADA's bool gives
    ``1`` or ``0``)."""
    cells = "|".join(["%s"] * (len(CONTROL_FIELDS) + width))
    return (
        '="%s"|%s%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|'
        f"{cells}|%s|%s|%s|%s|%s|%s|%s|%d|%s|%s|%s|%s|%s|%s|%s|%s"
    )


def catalog_row_args(
    acta: ActaRecord, decision: Decision, *, label: str, suffix: str
) -> tuple[object, ...]:
    """What :func:`catalog_row_format` takes for an acta of the catalog (not fuera de
    catálogo, no captured key). ``suffix``: the CLAVE_ACTA's, from TIPO_ACTA."""
    (
        casilla, tipo_acta, control, votos, no_registrados, nulos, asentado, lista_nominal,
        representantes, _, _, mecanismo, sha, acopio, captura, verificacion, origen,
        digitalizacion, tipo_documento, _,
    ) = acta  # fmt: skip
    (
        id_entidad, entidad, id_distrito, distrito, seccion, tipo, id_casilla, ext_contigua,
        ubicacion, *_,
    ) = casilla  # fmt: skip
    clave = CLAVE_CASILLA_FORMAT % (id_entidad, seccion, tipo, id_casilla, ext_contigua)
    calculado, contabilizada = decision.total_votos_calculado, decision.contabilizada
    return (
        clave, clave, suffix, id_entidad, entidad, id_distrito, distrito, seccion, id_casilla,
        tipo, ext_contigua, ubicacion, tipo_acta, *control, *votos, no_registrados, nulos,
        asentado, calculado, lista_nominal, representantes, label, contabilizada, mecanismo,
        sha, acopio, captura, verificacion, origen, digitalizacion, tipo_documento,
    )  # fmt: skip


def write_prepdb(
    out: IO[str],
    *,
    election: Election,
    corte: str,
    summary: Mapping[str, str],
    rows: Iterable[tuple[ActaRecord, Decision]],
    settings: RuleSettings,
    catalogo: Sequence[str] | pl.Series = (),
) -> int:
    """Write the reference layout (pipes, ``sep=|``, ``\\n`` line ends); return the row count.

    ``catalogo``: rows already in the layout (:func:`openprep.core.tabla.lineas`), written
    before ``rows``.

    A row's bytes are :func:`format_row`'s cells joined by pipes; an acta of the catalog
    is formatted in one ``%`` step (:func:`catalog_row_format`), which is what keeps a
    national corte's half million rows cheap. A cell holding the delimiter or a newline
    is refused.
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
    template = catalog_row_format(width=len(election.columns))
    for start in range(0, len(catalogo), _BLOCK):
        block = catalogo[start : start + _BLOCK]
        out.write("\n".join(block.to_list() if isinstance(block, pl.Series) else block))
        out.write("\n")
    count = len(catalogo)
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
            args = catalog_row_args(
                acta, decision, label=labels[decision.observacion], suffix=suffix
            )
            try:
                line = template % args
            except TypeError:  # a record off the ballot's width: the cell by cell check
                line = delimiter.join(format_row(acta, decision, settings=settings))
        if line.count(delimiter) != pipes or "\n" in line:
            raise ValueError(f"{acta.clave_acta}: a value holds the delimiter or a newline")
        lines.append(line)
        count += 1
        if len(lines) == _BLOCK:
            out.write("\n".join(lines))
            out.write("\n")
            lines.clear()
    if lines:
        out.write("\n".join(lines))
        out.write("\n")
    out.write("\n")
    return count
