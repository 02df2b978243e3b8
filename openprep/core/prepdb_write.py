"""Writing the PREP database in the reference layout (DOMAIN.md §5), byte for byte."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING

from openprep.core.model import (
    CONTROL_FIELDS,
    ActaRecord,
    Election,
    FieldValue,
)
from openprep.core.prepdb_layout import IDENTITY_COLUMNS, TAIL_COLUMNS
from openprep.core.rules import Decision, RuleSettings
from openprep.core.tally import SUMMARY_FIELDS

if TYPE_CHECKING:
    import polars as pl

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


def _write_lines(out: IO[str], lines: Sequence[str] | pl.DataFrame) -> None:
    """Each line and ``\\n``; a frame's rows are its cells joined by ``|``
    (:func:`openprep.core.tabla.celdas`), written by polars without a Python string per
    row: as bytes into the text stream's buffer when it has one."""
    if isinstance(lines, Sequence):  # a frame is not one
        for start in range(0, len(lines), _BLOCK):
            out.write("\n".join(lines[start : start + _BLOCK]))
            out.write("\n")
        return
    if not lines.height:
        return
    buffer = getattr(out, "buffer", None)
    # Cells as the reference layout joins them; polars ends each row with \n.
    if buffer is None:
        out.write(lines.write_csv(include_header=False, separator="|", quote_style="never"))
    else:
        out.flush()
        lines.write_csv(buffer, include_header=False, separator="|", quote_style="never")


def write_prepdb(
    out: IO[str],
    *,
    election: Election,
    corte: str,
    summary: Mapping[str, str],
    rows: Iterable[tuple[ActaRecord, Decision]],
    settings: RuleSettings,
    catalogo: Sequence[str] | pl.DataFrame = (),
) -> int:
    """Write the reference layout (pipes, ``sep=|``, ``\\n`` line ends); return the row count.

    ``catalogo``: rows already in the layout (as text, or the cells of
    :func:`openprep.core.tabla.celdas`), written before ``rows``.

    A row's bytes are :func:`format_row`'s cells joined by pipes. A cell holding the
    delimiter or a newline is refused.
    """
    delimiter = "|"
    columns = (*REFERENCE_COLUMNS_HEAD, *election.columns, *TAIL_COLUMNS)
    pipes = len(columns) - 1
    out.write(f"sep={delimiter}\n{election.nombre}\n{corte}\n")
    out.write(delimiter.join(SUMMARY_FIELDS) + "\n")
    out.write(delimiter.join(summary[name] for name in SUMMARY_FIELDS) + "\n\n")
    out.write(delimiter.join(columns) + "\n")
    _write_lines(out, catalogo)
    count = len(catalogo)
    lines: list[str] = []
    for acta, decision in rows:
        line = delimiter.join(format_row(acta, decision, settings=settings))
        if line.count(delimiter) != pipes or "\n" in line:
            raise ValueError(f"{acta.clave_acta}: a value holds the delimiter or a newline")
        lines.append(line)
        count += 1
    _write_lines(out, lines)
    out.write("\n")
    return count
