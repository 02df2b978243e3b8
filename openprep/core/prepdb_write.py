"""Writing the PREP database in the reference layout (DOMAIN.md §5), byte for byte."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import IO

from openprep.core.model import CONTROL_FIELDS, ActaRecord, Election, FieldValue
from openprep.core.prepdb_layout import IDENTITY_COLUMNS, TAIL_COLUMNS
from openprep.core.rules import Decision, RuleSettings
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


def write_prepdb(
    out: IO[str],
    *,
    election: Election,
    corte: str,
    summary: Mapping[str, str],
    rows: Iterable[tuple[ActaRecord, Decision]],
    settings: RuleSettings,
) -> int:
    """Write the reference layout (pipes, ``sep=|``, ``\\n`` line ends); return the row count."""
    delimiter = "|"
    columns = (*REFERENCE_COLUMNS_HEAD, *election.columns, *TAIL_COLUMNS)
    out.write(f"sep={delimiter}\n{election.nombre}\n{corte}\n")
    out.write(delimiter.join(SUMMARY_FIELDS) + "\n")
    out.write(delimiter.join(summary[name] for name in SUMMARY_FIELDS) + "\n\n")
    out.write(delimiter.join(columns) + "\n")
    count = 0
    buffer = io.StringIO()
    for acta, decision in rows:
        cells = format_row(acta, decision, settings=settings)
        for cell in cells:
            if delimiter in cell or "\n" in cell:
                raise ValueError(f"{acta.clave_acta}: a value holds the delimiter or a newline")
        buffer.write(delimiter.join(cells))
        buffer.write("\n")
        count += 1
        if count % 10_000 == 0:
            out.write(buffer.getvalue())
            buffer = io.StringIO()
    out.write(buffer.getvalue())
    out.write("\n")
    return count
