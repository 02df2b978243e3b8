"""PREP database files for tests, all derived from the real reference file.

The reference database (IEQROO 2019, ``QROO_DIP_LOC_2019.csv``) is the one published
file nobody on this project wrote, so the variants and the broken files here are made
by editing its lines: they look like what an auditor would really be handed. Line
numbers are 1-based, as the reader reports them: the first acta row is line 8.
"""

from __future__ import annotations

import csv
import functools
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REFERENCE = Path(
    os.environ.get(
        "OPENPREP_REFERENCE",
        Path(__file__).resolve().parents[3] / "shared" / "reference" / "QROO_DIP_LOC_2019.csv",
    )
)
SEP_LINE, ELECTION_LINE, CORTE_LINE, NAMES_LINE, VALUES_LINE, BLANK_LINE, COLUMNS_LINE = range(1, 8)
FIRST_ROW_LINE = 8


@functools.cache
def reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def reference_lines() -> list[str]:
    """The reference file's lines without their ``\\n``; index 0 is line 1."""
    return reference_text().split("\n")


def join(lines: list[str]) -> bytes:
    return "\n".join(lines).encode("utf-8")


def columns() -> list[str]:
    return reference_lines()[COLUMNS_LINE - 1].split("|")


def column_index(name: str) -> int:
    return columns().index(name)


def reference_rows() -> list[dict[str, str]]:
    """Every acta row of the reference file as ``{column: cell}``, with its ``line``."""
    names = columns()
    rows = []
    for number, text in enumerate(reference_lines()[FIRST_ROW_LINE - 1 :], FIRST_ROW_LINE):
        if text:
            rows.append({"line": str(number), **dict(zip(names, text.split("|"), strict=True))})
    return rows


def summary_names() -> list[str]:
    return reference_lines()[NAMES_LINE - 1].split("|")


def summary_values() -> list[str]:
    return reference_lines()[VALUES_LINE - 1].split("|")


def with_cells(changes: dict[int, dict[str, str]], *, lines: list[str] | None = None) -> bytes:
    """The reference file with some cells replaced: ``{line: {column: new value}}``."""
    lines = list(lines or reference_lines())
    for number, cells in changes.items():
        row = lines[number - 1].split("|")
        for name, value in cells.items():
            row[column_index(name)] = value
        lines[number - 1] = "|".join(row)
    return join(lines)


def head(rows: int) -> list[str]:
    """The reference file's header and its first ``rows`` acta rows, then the final newline."""
    lines = reference_lines()
    return [*lines[: FIRST_ROW_LINE - 1 + rows], ""]


# -- published variants -----------------------------------------------------------

INE_2021_RENAMES = {
    "ID_ESTADO": "ID_ENTIDAD",
    "ESTADO": "ENTIDAD",
    "ID_DISTRITO": "ID_DISTRITO_FEDERAL",
    "DISTRITO": "DISTRITO_FEDERAL",
}
INE_2024_RENAMES = {
    "ID_ESTADO": "ID_ENTIDAD",
    "ESTADO": "ENTIDAD",
    "ID_DISTRITO": "ID_DISTRITO_FEDERAL",
    "DISTRITO": "DISTRITO_FEDERAL",
    "SHA": "CODIGO_INTEGRIDAD",
    "NO_REGISTRADOS": "NO_REGISTRADAS",
    "TOTAL_VOTOS_CALCULADO": "TOTAL_VOTOS_CALCULADOS",
}
SUMMARY_RENAMES_INE = {
    "ACTAS_FUERA_CATALOGO": "ACTAS_FUERA_DE_CATALOGO",
    "PORCENTAJE_ACTAS_INCONSISTENCIAS": "PORCENTAJE_ACTAS_CON_INCONSISTENCIAS",
}


def _fuera_de_catalogo_2021(cells: list[str]) -> list[str]:
    """INE 2021 marks an acta outside the catalog with ``-`` as CLAVE_CASILLA and TIPO_ACTA."""
    cells = list(cells)
    cells[column_index("CLAVE_CASILLA")] = "-"
    cells[column_index("TIPO_ACTA")] = "-"
    cells[column_index("CONTABILIZADA")] = "0"
    cells[column_index("OBSERVACIONES")] = ""
    return cells


def ine_2021(rows: int, *, fuera: tuple[int, ...] = ()) -> bytes:
    """The first ``rows`` actas as INE 2021 publishes them: pipes, ``sep=|``, federal
    district names, a COTEJADA column at the end and INE's spelling of two summary
    fields. ``fuera`` lists row positions (0-based) turned into actas fuera de catálogo.
    """
    lines = head(rows)
    names = [SUMMARY_RENAMES_INE.get(n, n) for n in summary_names()]
    lines[NAMES_LINE - 1] = "|".join(names)
    lines[COLUMNS_LINE - 1] = "|".join(
        [INE_2021_RENAMES.get(c, c) for c in columns()] + ["COTEJADA"]
    )
    for position in range(rows):
        index = FIRST_ROW_LINE - 1 + position
        cells = lines[index].split("|")
        if position in fuera:
            cells = _fuera_de_catalogo_2021(cells)
        lines[index] = "|".join([*cells, "1" if position % 2 else "0"])
    return join(lines)


def ine_2024(rows: int, *, fuera: tuple[int, ...] = ()) -> bytes:
    """The first ``rows`` actas as INE 2024 publishes them: commas, UTF-8 with BOM, no
    ``sep=`` line, INE 2024 column names, every field quoted; ``fuera`` rows carry
    CONTABILIZADA 2 (fuera de catálogo) and their CLAVE_CASILLA as ``'…`` text.
    """
    lines = head(rows)[1:]  # no sep= line
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for text in lines[: NAMES_LINE - 2]:  # election, corte
        writer.writerow([text])
    writer.writerow([SUMMARY_RENAMES_INE.get(n, n) for n in summary_names()])
    writer.writerow(summary_values())
    out.write("\n")
    writer.writerow([INE_2024_RENAMES.get(c, c) for c in columns()])
    for position in range(rows):
        cells = lines[FIRST_ROW_LINE - 2 + position].split("|")
        if position in fuera:
            cells[column_index("CLAVE_CASILLA")] = "'" + cells[column_index("CLAVE_CASILLA")][2:-1]
            cells[column_index("CONTABILIZADA")] = "2"
            cells[column_index("OBSERVACIONES")] = ""
        writer.writerow(cells)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def pipes_without_sep(rows: int) -> bytes:
    return join(head(rows)[1:])


# -- broken files ----------------------------------------------------------------


@dataclass(frozen=True)
class BadFile:
    """A file the reader must refuse, and where its error must point."""

    id: str
    build: Callable[[], bytes]
    line: int
    column: str = ""

    @property
    def filename(self) -> str:
        return f"{self.id}.csv"


def _replace_line(number: int, text: str, *, lines: list[str] | None = None) -> list[str]:
    lines = list(lines or reference_lines())
    lines[number - 1] = text
    return lines


def _empty() -> bytes:
    return b""


def _unknown_sep() -> bytes:
    return join(_replace_line(SEP_LINE, "sep=#"))


def _no_delimiter() -> bytes:
    # Without a sep= line the reader guesses from the summary names (now line 3).
    lines = head(3)[1:]
    return join([line.replace("|", ":") for line in lines])


def _no_summary() -> bytes:
    lines = reference_lines()
    return join(lines[: NAMES_LINE - 1] + lines[BLANK_LINE - 1 :])


def _short_summary() -> bytes:
    values = summary_values()[:-1]
    return join(_replace_line(VALUES_LINE, "|".join(values)))


def _truncated_row() -> bytes:
    line = reference_lines()[20 - 1].split("|")
    return join(_replace_line(20, "|".join(line[:-3])))


def _overlong_row() -> bytes:
    return join(_replace_line(30, reference_lines()[30 - 1] + "|EXTRA"))


def _duplicated_column() -> bytes:
    names = columns()
    names[column_index("PRI")] = "PAN"
    return join(_replace_line(COLUMNS_LINE, "|".join(names)))


def _duplicated_clave_acta() -> bytes:
    lines = reference_lines()
    clave = lines[40 - 1].split("|")[column_index("CLAVE_ACTA")]
    return with_cells({41: {"CLAVE_ACTA": clave}})


def _negative_vote() -> bytes:
    return with_cells({50: {"MORENA": "-3"}})


def _non_numeric_vote() -> bytes:
    return with_cells({60: {"PRI": "1O"}})  # a letter O typed for a zero


def _latin1_row() -> bytes:
    # A district name saved in Windows-1252 deep in the file, far past the first
    # chunk the text layer decodes.
    data = with_cells({1000: {"DISTRITO": "CANCÚN"}})
    return data.replace("CANCÚN".encode(), "CANCÚN".encode("cp1252"))


def _latin1_header() -> bytes:
    data = join(_replace_line(ELECTION_LINE, "DIPUTACIÓN LOCAL"))
    return data.replace("DIPUTACIÓN".encode(), "DIPUTACIÓN".encode("cp1252"))


LONG_LINE_CHARS = 2 * 1024 * 1024
"""Above the reader's MAX_LINE_CHARS (1 MiB), small enough to write quickly."""


def _long_first_line() -> bytes:
    return b"A" * LONG_LINE_CHARS


def _long_row() -> bytes:
    lines = head(3)
    return join([*lines[:-1], "9" * LONG_LINE_CHARS])


def _padded_number() -> bytes:
    return with_cells({70: {"PAN": " 12"}})


def _empty_lista_nominal() -> bytes:
    # Every number in this row already appeared above it: the reader must judge the
    # empty cell the same as in a row of new numbers.
    lines = reference_lines()
    copy = lines[FIRST_ROW_LINE - 1].split("|")
    copy[column_index("CLAVE_ACTA")] = copy[column_index("CLAVE_ACTA")][:-2] + "99"
    copy[column_index("LISTA_NOMINAL")] = ""
    return join(_replace_line(FIRST_ROW_LINE + 1, "|".join(copy), lines=head(3)))


def _empty_nulos() -> bytes:
    lines = reference_lines()
    copy = lines[FIRST_ROW_LINE - 1].split("|")
    copy[column_index("CLAVE_ACTA")] = copy[column_index("CLAVE_ACTA")][:-2] + "99"
    copy[column_index("NULOS")] = ""
    return join(_replace_line(FIRST_ROW_LINE + 1, "|".join(copy), lines=head(3)))


def _huge_number() -> bytes:
    return with_cells({80: {"MORENA": "9" * 5000}})


def _non_numeric_esperadas() -> bytes:
    values = summary_values()
    values[0] = "SIN DATO"
    return join(_replace_line(VALUES_LINE, "|".join(values)))


BAD_FILES = (
    BadFile("empty", _empty, line=1),
    BadFile("unknown_sep", _unknown_sep, line=1),
    BadFile("no_delimiter", _no_delimiter, line=3),
    BadFile("no_summary", _no_summary, line=5),
    BadFile("summary_values_short", _short_summary, line=5),
    BadFile("truncated_row", _truncated_row, line=20),
    BadFile("overlong_row", _overlong_row, line=30),
    BadFile("duplicated_column", _duplicated_column, line=7, column="PAN"),
    BadFile("duplicated_clave_acta", _duplicated_clave_acta, line=41, column="CLAVE_ACTA"),
    BadFile("negative_vote", _negative_vote, line=50, column="MORENA"),
    BadFile("non_numeric_vote", _non_numeric_vote, line=60, column="PRI"),
    BadFile("latin1_row", _latin1_row, line=1000),
    BadFile("latin1_header", _latin1_header, line=2),
    BadFile("long_first_line", _long_first_line, line=1),
    BadFile("long_row", _long_row, line=11),
    BadFile("padded_number", _padded_number, line=70, column="PAN"),
    BadFile("empty_lista_nominal", _empty_lista_nominal, line=9, column="LISTA_NOMINAL"),
    BadFile("empty_nulos", _empty_nulos, line=9, column="NULOS"),
    BadFile("huge_number", _huge_number, line=80, column="MORENA"),
    BadFile("non_numeric_esperadas", _non_numeric_esperadas, line=5, column="ACTAS_ESPERADAS"),
)


SPANISH_WORDS = frozenset({"el", "la", "los", "las", "de", "del", "no", "se", "que", "un", "una"})
ENGLISH_WORDS = frozenset({"the", "is", "not", "invalid", "line", "file", "expected", "found"})


def reads_as_spanish(text: str) -> bool:
    """A rough check that a message is Spanish: some Spanish function words, no English ones."""
    words = {w.strip(".,:;()'\"").lower() for w in text.split()}
    return len(words & SPANISH_WORDS) >= 2 and not words & ENGLISH_WORDS
