"""The PREP database (CSV): read every published variant, write the reference layout.

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
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Final, NamedTuple, cast

from openprep.core.errors import UserError
from openprep.core.model import (
    CONTROL_FIELDS,
    ActaRecord,
    Casilla,
    Contender,
    Election,
    FieldValue,
    Marca,
)
from openprep.core.rules import Decision, Observacion, RuleSettings, motivo_de_observacion
from openprep.core.tally import SUMMARY_FIELDS

MAX_LINE_CHARS: Final = 1 << 20
"""No honest row is longer than this; a longer one is reported, not loaded."""

IDENTITY_COLUMNS = (
    "CLAVE_CASILLA",
    "CLAVE_ACTA",
    "ID_ESTADO",
    "ESTADO",
    "ID_DISTRITO",
    "DISTRITO",
    "SECCION",
    "ID_CASILLA",
    "TIPO_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "TIPO_ACTA",
)
TAIL_COLUMNS = (
    "NO_REGISTRADOS",
    "NULOS",
    "TOTAL_VOTOS_ASENTADO",
    "TOTAL_VOTOS_CALCULADO",
    "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI",
    "OBSERVACIONES",
    "CONTABILIZADA",
    "MECANISMOS_TRASLADO",
    "SHA",
    "FECHA_HORA_ACOPIO",
    "FECHA_HORA_CAPTURA",
    "FECHA_HORA_VERIFICACION",
    "ORIGEN",
    "DIGITALIZACION",
    "TIPO_DOCUMENTO",
)
OPTIONAL_COLUMNS = frozenset(
    {
        *CONTROL_FIELDS,
        "UBICACION_CASILLA",
        "REPRESENTANTES_PP_CI",
        "MECANISMOS_TRASLADO",
        "SHA",
        "FECHA_HORA_ACOPIO",
        "FECHA_HORA_CAPTURA",
        "FECHA_HORA_VERIFICACION",
        "ORIGEN",
        "DIGITALIZACION",
        "TIPO_DOCUMENTO",
        "TOTAL_VOTOS_ASENTADO",
        "ID_DISTRITO",
        "DISTRITO",
        "ESTADO",
    }
)
KNOWN_NON_VOTE_COLUMNS = frozenset(
    {
        *IDENTITY_COLUMNS,
        *CONTROL_FIELDS,
        *TAIL_COLUMNS,
        "ID_MUNICIPIO",
        "MUNICIPIO",
        "COTEJADA",
    }
)

COLUMN_ALIASES: Mapping[str, str] = {
    "ID_ENTIDAD": "ID_ESTADO",
    "ENTIDAD": "ESTADO",
    "ID_DISTRITO_FEDERAL": "ID_DISTRITO",
    "DISTRITO_FEDERAL": "DISTRITO",
    "ID_DISTRITO_LOCAL": "ID_DISTRITO",
    "DISTRITO_LOCAL": "DISTRITO",
    "CODIGO_INTEGRIDAD": "SHA",
    "NO_REGISTRADAS": "NO_REGISTRADOS",
    "TOTAL_VOTOS_CALCULADOS": "TOTAL_VOTOS_CALCULADO",
    "TOTAL_VOTOS_ASENTADOS": "TOTAL_VOTOS_ASENTADO",
    "MECANISMO_TRASLADO": "MECANISMOS_TRASLADO",
}
"""Column names of INE's 2021 and 2024 databases and their reference-layout names."""

SUMMARY_ALIASES: Mapping[str, str] = {
    "ACTAS_FUERA_DE_CATALOGO": "ACTAS_FUERA_CATALOGO",
    "PORCENTAJE_ACTAS_CON_INCONSISTENCIAS": "PORCENTAJE_ACTAS_INCONSISTENCIAS",
}

READ_ALIASES: Mapping[str, Observacion] = {
    "ILEGIBLE": Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
    "SIN DATO": Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
    "TODOS ILEGIBLES": Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
    "TODOS SIN DATO": Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
}
"""Single-word labels INE's federal files join with commas."""

_PRIORITY = (
    Observacion.SIN_ACTA_PAQUETE_NO_ENTREGADO,
    Observacion.SIN_ACTA_CASILLA_NO_INSTALADA,
    Observacion.SIN_ACTA_PAQUETE_SIN_SOBRE,
    Observacion.SIN_ACTA_CONTINGENCIA,
    Observacion.TODOS_ILEGIBLES_O_SIN_DATO,
    Observacion.EXCEDE_LISTA_NOMINAL,
    Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO,
)
_DELIMITERS = ("|", ",", ";", "\t")
_MARCAS: Mapping[str, Marca] = {m.value: m for m in Marca}


_OS_REASONS: Mapping[int, str] = {
    errno.ENOENT: "no existe",
    errno.EACCES: "no tiene permiso de lectura",
    errno.EISDIR: "es una carpeta, no un archivo",
}


class PrepDbError(UserError):
    """A PREP database that cannot be read, with file, line and column."""


class PublishedRow(NamedTuple):
    """One row: the acta as the core sees it plus what the file claims about it."""

    line: int
    acta: ActaRecord
    clave_casilla: str
    clave_acta: str
    total_votos_calculado: str
    contabilizada: str
    observaciones: str


@dataclass(frozen=True, slots=True)
class PrepDbHeader:
    election: Election
    corte: str
    summary: Mapping[str, str]
    columns: tuple[str, ...]
    delimiter: str


def decisive_observation(label: str, *, settings: RuleSettings) -> Observacion | None:
    """The observation that decides an acta, read from a published OBSERVACIONES cell.

    INE joins several labels with commas; the first in rule order decides. Raises
    KeyError for a label no table knows.
    """
    if not label:
        return None
    codes: set[Observacion] = set()
    whole = _lookup_label(label, settings=settings)
    if whole is not None:
        codes.add(whole)
    else:
        for part in label.split(","):
            code = _lookup_label(part.strip(), settings=settings)
            if code is None:
                raise KeyError(part.strip())
            codes.add(code)
    return next(code for code in _PRIORITY if code in codes)


def _lookup_label(label: str, *, settings: RuleSettings) -> Observacion | None:
    try:
        return settings.observacion_de_label(label)
    except KeyError:
        return READ_ALIASES.get(label.upper())


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
            raise self._error(
                "el archivo no está codificado en UTF-8.",
                line=self._undecodable_line(),
                hint="Conviértalo a UTF-8 (con o sin BOM) y vuelva a intentarlo.",
            ) from None
        if text:
            self._line += 1
            if len(text) >= MAX_LINE_CHARS and not text.endswith("\n"):
                raise self._error(
                    f"la línea supera {MAX_LINE_CHARS:,} caracteres; no es una base de datos PREP.",
                    hint="Revise que el archivo sea el correcto y que no esté dañado.",
                )
        return text

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
            raise self._error(
                "el archivo no está codificado en UTF-8.",
                line=self._undecodable_line(),
                hint="Conviértalo a UTF-8 (con o sin BOM) y vuelva a intentarlo.",
            ) from None

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
            if not cell.isdigit() or not cell.isascii() or len(cell) > _MAX_DIGITS:
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


_MAX_DIGITS = 18
"""No count on an acta has more digits (and Python refuses int() past 4,300)."""

DEFAULT_ZERO_COLUMNS = frozenset(
    {"ID_DISTRITO", "UBICACION_CASILLA", "REPRESENTANTES_PP_CI", "ID_MUNICIPIO"}
)
INT_COLUMNS = (
    "ID_ESTADO",
    "ID_DISTRITO",
    "SECCION",
    "ID_CASILLA",
    "EXT_CONTIGUA",
    "UBICACION_CASILLA",
    "LISTA_NOMINAL",
    "REPRESENTANTES_PP_CI",
    "ID_MUNICIPIO",
)


_STRING_COLUMNS = (
    "CLAVE_CASILLA",
    "CLAVE_ACTA",
    "ESTADO",
    "DISTRITO",
    "TIPO_CASILLA",
    "TIPO_ACTA",
    "MUNICIPIO",
    "MECANISMOS_TRASLADO",
    "SHA",
    "FECHA_HORA_ACOPIO",
    "FECHA_HORA_CAPTURA",
    "FECHA_HORA_VERIFICACION",
    "ORIGEN",
    "DIGITALIZACION",
    "TIPO_DOCUMENTO",
    "TOTAL_VOTOS_CALCULADO",
    "CONTABILIZADA",
    "OBSERVACIONES",
)
_PAD = ("", "-", "0")
"""Appended to every row: what a column the variant lacks reads as (text, vote, integer)."""


class _RowParser:
    """Turns a row's cells into a :class:`PublishedRow`, at C speed where it can.

    :meth:`fast` looks every numeric cell up in a shared cache of parsed values and
    returns ``None`` when one is new or malformed, so the reader can validate that
    row cell by cell and report the exact column. Columns a variant lacks point past
    the row's end, into ``_PAD``.
    """

    def __init__(
        self, header: PrepDbHeader, *, cells: dict[str, FieldValue], settings: RuleSettings
    ) -> None:
        index = {name: i for i, name in enumerate(header.columns)}
        width = len(header.columns)
        self._cache = cells
        self._settings = settings
        self._has_municipio = "ID_MUNICIPIO" in index
        self._labels: dict[str, Observacion | None] = {"": None}

        def at(name: str, pad: int) -> int:
            return index.get(name, width + pad)

        self._str_idx = [at(n, 0) for n in _STRING_COLUMNS]
        self.int_idx = [index[n] for n in INT_COLUMNS if n in index]
        self._all_int_idx = [
            (at(n, 2), "0" if n in DEFAULT_ZERO_COLUMNS else "") for n in INT_COLUMNS
        ]
        self._vote_idx = [index[c.clave] for c in header.election.contenders]
        self._value_idx = [
            at(n, 1) for n in (*CONTROL_FIELDS, "NO_REGISTRADOS", "NULOS", "TOTAL_VOTOS_ASENTADO")
        ]
        self.value_idx = [i for i in (*self._vote_idx, *self._value_idx) if i < width]
        self._clave_casilla = index["CLAVE_CASILLA"]
        self._contabilizada = index["CONTABILIZADA"]

    def is_fuera(self, cells: list[str]) -> bool:
        return _is_fuera(_unwrap_excel(cells[self._clave_casilla]), cells[self._contabilizada])

    def _uncached(self, cell: str) -> FieldValue:
        found = self._cache.get(cell)
        if found is not None:
            return found
        if cell.isdigit() and cell.isascii() and len(cell) <= _MAX_DIGITS:
            return int(cell)
        return Marca.NO_APLICA  # only in a row fuera de catálogo, whose numbers read as 0

    def _observation(self, label: str) -> Observacion | None:
        try:
            return self._labels[label]
        except KeyError:
            try:
                code = decisive_observation(label, settings=self._settings)
            except KeyError:
                code = None
            self._labels[label] = code
            return code

    def fast(self, cells: list[str], line: int, *, lenient: bool = False) -> PublishedRow | None:
        cache = self._cache
        row = cells + list(_PAD)
        try:
            votos = tuple([cache[row[i]] for i in self._vote_idx])
            values = [cache[row[i]] for i in self._value_idx]
            ints = [cache[row[i] or zero] for i, zero in self._all_int_idx]
        except KeyError:
            if not lenient:
                return None
            # Validated, but not cached (the cache is full) or, in a row fuera de
            # catálogo, identity cells that are not numbers: parse them one by one.
            parse = self._uncached
            votos = tuple([parse(row[i]) for i in self._vote_idx])
            values = [parse(row[i]) for i in self._value_idx]
            ints = [parse(row[i] or zero) for i, zero in self._all_int_idx]
        (
            clave_casilla,
            clave_acta,
            entidad,
            distrito,
            tipo_casilla,
            tipo_acta,
            municipio,
            mecanismo,
            sha,
            acopio,
            captura,
            verificacion,
            origen,
            digitalizacion,
            tipo_documento,
            total_calculado,
            contabilizada,
            observaciones,
        ) = [row[i] for i in self._str_idx]
        clave_casilla = _unwrap_excel(clave_casilla)
        fuera = _is_fuera(clave_casilla, contabilizada)
        try:
            sum(cast(list[int], ints))  # a Marca (a str) where a number belongs: TypeError
        except TypeError:
            if not (lenient or fuera):
                return None
            ints = [v if type(v) is int else 0 for v in ints]
        id_estado, id_distrito, seccion, id_casilla, ext, ubicacion, ln, rep, id_mun = cast(
            list[int], ints
        )
        observacion = self._observation(observaciones)
        return PublishedRow(
            line,
            ActaRecord(
                Casilla(
                    id_estado,
                    entidad,
                    id_distrito,
                    distrito,
                    seccion,
                    tipo_casilla,
                    id_casilla,
                    ext,
                    ubicacion,
                    id_mun if self._has_municipio else None,
                    municipio,
                ),
                "" if fuera and tipo_acta == "-" else tipo_acta,
                tuple(values[:4]),
                votos,
                values[4],
                values[5],
                values[6],
                ln,
                rep,
                None if observacion is None else motivo_de_observacion(observacion),
                fuera,
                mecanismo,
                sha,
                acopio,
                captura,
                verificacion,
                origen,
                digitalizacion,
                tipo_documento,
                clave_acta if fuera else "",
            ),
            clave_casilla,
            clave_acta,
            total_calculado,
            contabilizada,
            observaciones,
        )


def _is_fuera(clave_casilla: str, contabilizada: str) -> bool:
    """A fuera de catálogo row: no CLAVE_CASILLA (INE 2021), or CONTABILIZADA 2 (INE 2024)."""
    return clave_casilla in ("-", "") or contabilizada.strip() == "2"


def _unwrap_excel(cell: str) -> str:
    """``="230085B0100"`` (kept as text by spreadsheets) → ``230085B0100``."""
    cell = cell.strip()
    if cell.startswith('="') and cell.endswith('"'):
        return cell[2:-1]
    return cell.lstrip("'")


# -- writing ---------------------------------------------------------------------

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
