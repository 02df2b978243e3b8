"""Turning one published row's cells into the core's :class:`ActaRecord`, fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, cast

from openprep.core.model import CONTROL_FIELDS, ActaRecord, Casilla, FieldValue, Marca
from openprep.core.prepdb_layout import (
    DEFAULT_ZERO_COLUMNS,
    INT_COLUMNS,
    MAX_DIGITS,
    decisive_observation,
)
from openprep.core.rules import Observacion, RuleSettings, motivo_de_observacion

if TYPE_CHECKING:
    from openprep.core.prepdb import PrepDbHeader


class PublishedRow(NamedTuple):
    """One row: the acta as the core sees it plus what the file claims about it."""

    line: int
    acta: ActaRecord
    clave_casilla: str
    clave_acta: str
    total_votos_calculado: str
    contabilizada: str
    observaciones: str


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
        if cell.isdigit() and cell.isascii() and len(cell) <= MAX_DIGITS:
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
