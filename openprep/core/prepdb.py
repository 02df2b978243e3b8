"""The PREP database (CSV): read every published variant, write the reference layout.

This module reads; :mod:`prepdb_layout` says what columns and cells mean,
:mod:`prepdb_rows` turns a row into an :class:`ActaRecord`, :mod:`prepdb_write` writes.

Layout (DOMAIN.md §5): an optional ``sep=`` line, the election name, the corte line, the
summary names and values, a blank line, the column names and one row per registered
acta. Variants read: the reference layout (IEQROO 2019, pipes), INE 2021 and INE 2024
column names, comma or pipe, with or without a UTF-8 BOM. Rows are streamed, and lines
are read with a length limit so a malformed multi-gigabyte file cannot exhaust memory.
"""

from __future__ import annotations

import codecs
import csv
import errno
import functools
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Final

from openprep.core.errors import UserError
from openprep.core.model import Contender, Election, FieldValue, Marca
from openprep.core.prepdb_layout import (
    COLUMN_ALIASES,
    DEFAULT_ZERO_COLUMNS,
    IDENTITY_COLUMNS,
    KNOWN_NON_VOTE_COLUMNS,
    MAX_DIGITS,
    OPTIONAL_COLUMNS,
    SUMMARY_ALIASES,
    TAIL_COLUMNS,
    decisive_observation,
)
from openprep.core.prepdb_rows import PublishedRow, _RowParser
from openprep.core.prepdb_write import write_prepdb
from openprep.core.rules import RuleSettings
from openprep.core.tally import SUMMARY_FIELDS

__all__ = [
    "MAX_LINE_CHARS",
    "PrepDbError",
    "PrepDbHeader",
    "PrepDbReader",
    "PublishedRow",
    "decisive_observation",
    "write_prepdb",
]

MAX_LINE_CHARS: Final = 1 << 20
"""No honest row is longer than this; a longer one is reported, not loaded."""

_DELIMITERS = ("|", ",", ";", "\t")
_MARCAS: Mapping[str, Marca] = {m.value: m for m in Marca}


_OS_REASONS: Mapping[int, str] = {
    errno.ENOENT: "no existe",
    errno.EACCES: "no tiene permiso de lectura",
    errno.EISDIR: "es una carpeta, no un archivo",
}


class PrepDbError(UserError):
    """A PREP database that cannot be read, with file, line and column."""


@dataclass(frozen=True, slots=True)
class PrepDbHeader:
    election: Election
    corte: str
    summary: Mapping[str, str]
    columns: tuple[str, ...]
    delimiter: str


class PrepDbReader:
    """Streams a published PREP database: ``header`` first, then :meth:`rows`."""

    def __init__(self, path: str | Path, *, settings: RuleSettings) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self._settings = settings
        self._line = 0
        self._cells: dict[str, FieldValue] = dict(_MARCAS)
        try:
            self._file: IO[str] = open(  # noqa: SIM115 - closed by close()/__exit__
                self.path, encoding="utf-8-sig", newline=""
            )
        except OSError as exc:
            raise PrepDbError(
                "no se puede abrir el archivo: "
                f"{_OS_REASONS.get(exc.errno or 0, 'error de lectura')}.",
                where=str(self.path),
                hint="Revise la ruta y los permisos.",
            ) from None
        try:
            self.header = self._read_header()
        except BaseException:
            self._file.close()
            raise

    @property
    def header_lines(self) -> int:
        """Lines read so far: after the header, the rows start on the next line."""
        return self._line

    def __enter__(self) -> PrepDbReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    # -- lines -------------------------------------------------------------------

    def _error(
        self, message: str, *, line: int | None = None, column: str = "", hint: str = ""
    ) -> PrepDbError:
        where = f"{self.name}, línea {self._line if line is None else line}"
        if column:
            where += f", columna {column}"
        return PrepDbError(message, where=where, hint=hint)

    def _readline(self) -> str:
        try:
            text = self._file.readline(MAX_LINE_CHARS)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        if text:
            self._line += 1
            if len(text) >= MAX_LINE_CHARS and not text.endswith("\n"):
                raise self._error(
                    f"la línea supera {MAX_LINE_CHARS:,} caracteres; no es una base de datos PREP.",
                    hint="Revise que el archivo sea el correcto y que no esté dañado.",
                )
        return text

    def _not_utf8(self) -> PrepDbError:
        return self._error(
            "el archivo no está codificado en UTF-8.",
            line=self._undecodable_line(),
            hint="Conviértalo a UTF-8 (con o sin BOM) y vuelva a intentarlo.",
        )

    def _undecodable_line(self) -> int:
        """The first line whose bytes are not UTF-8.

        The text layer decodes ahead in chunks, so its error surfaces while an earlier
        line is read; the raw bytes tell which line holds the bad ones.
        """
        decoder = codecs.getincrementaldecoder("utf-8")()
        line = 1
        with open(self.path, "rb") as raw:
            for chunk in iter(functools.partial(raw.readline, MAX_LINE_CHARS), b""):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    return line
                line += chunk.endswith(b"\n")
        return line  # a character cut short at the very end: the last line

    def _lines(self) -> Iterator[str]:
        """The remaining lines, each cut at MAX_LINE_CHARS (C-level, no Python frame per line).

        A cut line is reported as too long (or, inside a quoted field, as an over-long
        field by the csv module); memory stays bounded either way.
        """
        return iter(functools.partial(self._file.readline, MAX_LINE_CHARS), "")

    # -- header ------------------------------------------------------------------

    def _split(self, text: str, delimiter: str) -> list[str]:
        return next(csv.reader([text], delimiter=delimiter), [])

    def _read_header(self) -> PrepDbHeader:
        first = self._readline()
        if not first.strip():
            raise self._error(
                "el archivo está vacío.", line=1, hint="Descargue de nuevo la base de datos PREP."
            )
        delimiter = ""
        preamble: list[str] = []
        text = first
        if first.lower().startswith("sep="):
            delimiter = first[4:].rstrip("\r\n")
            if delimiter not in _DELIMITERS:
                raise self._error(
                    f"separador desconocido {delimiter!r} en la línea 'sep='.",
                    hint="Se aceptan | , ; y tabulador.",
                )
            text = self._readline()
        while True:
            if not text:
                raise self._error(
                    "falta el bloque de resumen (la línea ACTAS_ESPERADAS|…).",
                    hint="La base de datos debe empezar con la elección, el corte y el resumen.",
                )
            stripped = text.strip().lstrip('"')
            if stripped.startswith("ACTAS_ESPERADAS"):
                break
            if stripped.startswith("CLAVE_CASILLA"):
                raise self._error(
                    "falta el bloque de resumen antes de los nombres de columna.",
                    hint="La base de datos debe traer el resumen ACTAS_ESPERADAS|… "
                    "antes de las filas.",
                )
            if stripped:
                preamble.append(stripped)
            if len(preamble) > 5:
                raise self._error(
                    "no se encontró el bloque de resumen en las primeras líneas.",
                    hint="Revise que el archivo sea una base de datos PREP.",
                )
            text = self._readline()
        if not delimiter:
            delimiter = next((d for d in _DELIMITERS if d in text), "")
            if not delimiter:
                raise self._error(
                    "no se reconoce el separador de campos.",
                    hint="Se aceptan | , ; y tabulador.",
                )
        summary = self._read_summary(text, delimiter)
        election_name = preamble[0].strip(delimiter + '" ') if preamble else ""
        corte = preamble[1].strip(delimiter + '" ') if len(preamble) > 1 else ""
        if not election_name or not corte:
            raise self._error(
                "faltan el nombre de la elección o la fecha y hora del corte antes del resumen.",
                hint="Las primeras líneas deben ser la elección y el corte, "
                "p. ej. 2019/06/03 05:47 (UTC-5).",
            )
        text = self._readline()
        while text and not text.strip():
            text = self._readline()
        if not text.strip().lstrip('"').startswith("CLAVE_CASILLA"):
            raise self._error(
                "se esperaban los nombres de columna (CLAVE_CASILLA|CLAVE_ACTA|…).",
                hint="Revise que el archivo no esté recortado.",
            )
        columns = self._canonical_columns(self._split(text, delimiter))
        contenders = tuple(
            Contender.from_column(name)
            for name in columns[: columns.index("NO_REGISTRADOS")]
            if name not in KNOWN_NON_VOTE_COLUMNS
        )
        return PrepDbHeader(
            election=Election(nombre=election_name, contenders=contenders),
            corte=corte,
            summary=summary,
            columns=columns,
            delimiter=delimiter,
        )

    def _read_summary(self, names_line: str, delimiter: str) -> dict[str, str]:
        names = [
            SUMMARY_ALIASES.get(n.strip(), n.strip()) for n in self._split(names_line, delimiter)
        ]
        names_line_no = self._line
        values_line = self._readline()
        values = self._split(values_line, delimiter) if values_line.strip() else []
        if len(values) != len(names):
            raise self._error(
                f"el resumen tiene {len(names)} nombres pero {len(values)} valores.",
                hint="Revise que la línea de valores del resumen esté completa.",
            )
        summary = dict(zip(names, (v.strip() for v in values), strict=True))
        missing = [n for n in SUMMARY_FIELDS if n not in summary]
        if missing:
            raise self._error(
                f"al resumen le faltan los campos {', '.join(missing)}.",
                line=names_line_no,
                hint="La base de datos debe publicar los 13 campos del resumen.",
            )
        esperadas = summary["ACTAS_ESPERADAS"]
        if not (esperadas.isdigit() and esperadas.isascii()):
            raise self._error(
                f"valor no válido {esperadas!r}: se espera un número entero no negativo.",
                column="ACTAS_ESPERADAS",
                hint="Corrija el valor de ACTAS_ESPERADAS en el resumen.",
            )
        return summary

    def _canonical_columns(self, raw: list[str]) -> tuple[str, ...]:
        columns = [COLUMN_ALIASES.get(c.strip(), c.strip()) for c in raw]
        seen: set[str] = set()
        for name in columns:
            if name in seen:
                raise self._error(
                    "la columna aparece dos veces.",
                    column=name,
                    hint="Cada columna debe aparecer una sola vez.",
                )
            seen.add(name)
        required = [
            c
            for c in (*IDENTITY_COLUMNS, *TAIL_COLUMNS)
            if c not in seen and c not in OPTIONAL_COLUMNS
        ]
        if required:
            raise self._error(
                f"faltan columnas obligatorias: {', '.join(required)}.",
                hint="Revise que el archivo sea una base de datos PREP completa.",
            )
        return tuple(columns)

    # -- rows --------------------------------------------------------------------

    def rows(self) -> Iterator[PublishedRow]:
        """Every acta row, parsed; raises :class:`PrepDbError` at the first bad one."""
        width = len(self.header.columns)
        delimiter = self.header.delimiter
        quoted = delimiter + '"'
        seen: set[str] = set()
        parse = _RowParser(self.header, cells=self._cells, settings=self._settings)
        lines = self._lines()
        line = self._line
        try:
            for text in lines:
                line += 1
                if quoted in text or text[:1] == '"':
                    # A quoted field (maybe spanning lines): the csv module's dialect rules.
                    sub = csv.reader(itertools.chain((text,), lines), delimiter=delimiter)
                    cells = next(sub)
                    line += sub.line_num - 1
                else:
                    if len(text) >= MAX_LINE_CHARS and text[-1] != "\n":
                        raise self._error(
                            f"la línea supera {MAX_LINE_CHARS:,} caracteres; "
                            "no es una fila de una base de datos PREP.",
                            line=line,
                            hint="Revise que el archivo sea el correcto y que no esté dañado.",
                        )
                    cells = text.rstrip("\r\n").split(delimiter)
                if len(cells) != width:
                    if len(cells) == 1 and not cells[0].strip():
                        continue
                    what = "le faltan campos" if len(cells) < width else "le sobran campos"
                    raise self._error(
                        f"la fila tiene {len(cells)} campos y el encabezado {width}: {what}.",
                        line=line,
                        hint="Revise que la fila esté completa y que ningún valor contenga "
                        "el separador.",
                    )
                row = parse.fast(cells, line) or self._checked_row(parse, cells, line=line)
                if not row.acta.fuera_catalogo:
                    if row.clave_acta in seen:
                        raise self._error(
                            f"la CLAVE_ACTA {row.clave_acta} está repetida.",
                            line=line,
                            column="CLAVE_ACTA",
                            hint="Cada acta debe aparecer una sola vez en la base de datos.",
                        )
                    seen.add(row.clave_acta)
                yield row
        except csv.Error as exc:
            reason = (
                "un campo supera el tamaño máximo"
                if "field limit" in str(exc)
                else "comillas o separadores mal formados"
            )
            raise self._error(
                f"el archivo CSV está mal formado: {reason}.",
                line=line,
                hint="Revise comillas y separadores de esa línea.",
            ) from None
        except UnicodeDecodeError:
            raise self._not_utf8() from None

    def _checked_row(self, parse: _RowParser, cells: list[str], *, line: int) -> PublishedRow:
        """The slow path: validate every numeric cell, naming the first bad one."""
        columns = self.header.columns
        fuera = parse.is_fuera(cells)
        for i in parse.value_idx:
            self._value(cells[i], line=line, column=columns[i])
        for i in parse.int_idx:
            cell = cells[i]
            if fuera or (not cell and columns[i] in DEFAULT_ZERO_COLUMNS):
                continue
            if type(self._value(cell, line=line, column=columns[i])) is not int:
                raise self._error(
                    f"valor no válido {cell!r}: se espera un número entero.",
                    line=line,
                    column=columns[i],
                    hint="Corrija el valor de esa celda.",
                )
        row = parse.fast(cells, line, lenient=True)
        assert row is not None, "every cell was validated"
        return row

    def _value(self, cell: str, *, line: int, column: str) -> FieldValue:
        value = self._cells.get(cell)
        if value is None:
            if not cell.isdigit() or not cell.isascii() or len(cell) > MAX_DIGITS:
                raise self._error(
                    f"valor no válido {cell!r}: se espera un número entero no negativo, "
                    "ILEGIBLE, SIN DATO o -.",
                    line=line,
                    column=column,
                    hint="Corrija el valor de esa celda.",
                )
            value = int(cell)
            if len(self._cells) < 200_000:
                self._cells[cell] = value
        return value
