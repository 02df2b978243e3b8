"""How the columnar audit reads a file: rows in batches of lines, cells once per text.

:func:`batches` cuts the rows into batches of whole lines and refuses what would make
its line numbers differ from the reader's. The columnar audit
(:mod:`openprep.core.columnar`) reads the numeric and the label columns as polars
categoricals; each distinct text is read here, in Python, by the same tests the reader
(:mod:`openprep.core.prepdb`) and the rules apply, into small integer codes the
expressions compare, and the columns are mapped through these readings with a
``gather``. A national file holds a few thousand distinct texts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Final, NamedTuple

import polars as pl

from openprep.core.model import Marca, TipoCasilla
from openprep.core.prepdb import decisive_observation
from openprep.core.rules import Observacion, RuleSettings


class NotColumnar(Exception):
    """The fast path met something it does not fully validate; the row path decides."""


# -- lines -------------------------------------------------------------------------


def batches(path: Path, *, header_lines: int, size: int) -> Iterator[tuple[int, int, bytes]]:
    """The rows in batches of whole lines: first line number, number of rows, bytes.

    The reader counts lines with universal newlines (LF, CRLF, a bare CR); a bare CR is
    refused so that line numbers agree. Blank lines may only close the file.
    """
    with open(path, "rb") as f:
        head = b"".join(f.readline() for _ in range(header_lines))
        if head.count(b"\r") != head.count(b"\r\n"):
            raise NotColumnar("bare CR in the header")
        line = header_lines + 1
        rest = b""
        blank_seen = False
        while True:
            block = f.read(size)
            data = rest + block if rest else block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                chunk, rest = data[:cut], data[cut:]
            else:
                chunk, rest = data, b""
            body = chunk.rstrip(b"\r\n")
            if body:
                if blank_seen:
                    raise NotColumnar("blank line between rows")
                if chunk[len(body) :] not in (b"\n", b"\r\n", b""):
                    blank_seen = True
                if b"\r" in body and body.count(b"\r") != body.count(b"\r\n"):
                    raise NotColumnar("bare CR between rows")
                if body.startswith(b"\xef\xbb\xbf"):
                    raise NotColumnar("BOM at the start of a row")
                rows = body.count(b"\n") + 1
                yield line, rows, body
                line += rows
            elif chunk:
                blank_seen = True
            if not block:
                return


# -- observations ------------------------------------------------------------------

_OBSERVACIONES: Final = tuple(Observacion)
OBS_NONE: Final = -1
"""Code of "no observation"; an Observacion's code is its position in the enum."""
OBS_UNKNOWN: Final = -2
"""Code of a published label that no label table knows (always a discrepancy)."""
OBS_SIN_ACTA: Final = [i for i, o in enumerate(_OBSERVACIONES) if o.es_sin_acta]
OBS_INCONSISTENCIAS: Final = [i for i, o in enumerate(_OBSERVACIONES) if o.es_inconsistencia]
OBS_TODOS: Final = _OBSERVACIONES.index(Observacion.TODOS_ILEGIBLES_O_SIN_DATO)
OBS_EXCEDE: Final = _OBSERVACIONES.index(Observacion.EXCEDE_LISTA_NOMINAL)
OBS_ALGUN: Final = _OBSERVACIONES.index(Observacion.ALGUN_DATO_ILEGIBLE_O_SIN_DATO)


def observacion(code: int) -> Observacion | None:
    """The observation of a code (``None`` for OBS_NONE)."""
    return None if code == OBS_NONE else _OBSERVACIONES[code]


# -- numeric cells -----------------------------------------------------------------

# Kinds of a numeric cell, ordered so that a vote field is valid when kind <= KIND_BLANK.
KIND_NUMBER, KIND_NO_APLICA, KIND_BLANK, KIND_EMPTY, KIND_OTHER = range(5)
_KINDS: Final = {
    Marca.NO_APLICA.value: KIND_NO_APLICA,
    Marca.ILEGIBLE.value: KIND_BLANK,
    Marca.SIN_DATO.value: KIND_BLANK,
    "": KIND_EMPTY,
}
MAX_DIGITS: Final = 18
"""The reader refuses longer numbers (prepdb._MAX_DIGITS)."""
MAX_NUMBER: Final = 1 << 32
"""Larger numbers go to the row path, so that no sum of them overflows an Int64."""
MAX_CATEGORIES: Final = 1_000_000
"""More distinct numeric texts than this go to the row path (tables are rebuilt per batch)."""


class Number(NamedTuple):
    """A numeric cell's text, read as the reader and the rules read it."""

    kind: int
    value: int | None
    canonical: int
    """The number if the text is exactly ``str(number)``, else -1 (TOTAL_VOTOS_CALCULADO
    is compared as text with ``str(total)``)."""
    pad2: str | None
    """``f"{number:02d}"``, as model.Casilla.clave writes it."""
    pad4: str | None


def read_number(text: str) -> Number:
    if text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS:  # the reader's test
        value = int(text)
        canonical = value if str(value) == text else -1
        if value < MAX_NUMBER:
            return Number(KIND_NUMBER, value, canonical, f"{value:02d}", f"{value:04d}")
        return Number(KIND_OTHER, None, canonical, None, None)
    return Number(_KINDS.get(text, KIND_OTHER), None, -1, None, None)


# -- label cells -------------------------------------------------------------------

# Kinds of a CONTABILIZADA cell. The reader tells fuera de catálogo by the text "2"
# in one place and by its stripped text in another: a cell where they differ is
# ambiguous, and the row path decides.
CONT_0, CONT_1, CONT_2, CONT_OTHER, CONT_AMBIGUOUS = range(5)

CLAVE_CASILLA_RE: Final = r"""^(?:="[0-9A-Za-z]+"|'*[0-9A-Za-z]+)$"""
"""A CLAVE_CASILLA inside the catalog that both of the reader's readings agree on."""
FUERA_CLAVE_RE: Final = r"""^(?:="-?"|'*-?)$"""
"""A CLAVE_CASILLA of an acta fuera de catálogo (``-`` or empty) both readings agree on."""


class Text(NamedTuple):
    """A label cell's text (TIPO_CASILLA, TIPO_ACTA, OBSERVACIONES, CONTABILIZADA)."""

    observacion: int
    tipo_acta: str
    """The CLAVE_ACTA suffix, as core.audit builds it."""
    especial: bool
    contabilizada: int


def read_text(text: str, *, settings: RuleSettings) -> Text:
    try:
        code = decisive_observation(text, settings=settings)
    except KeyError:
        observacion_code = OBS_UNKNOWN
    else:
        observacion_code = OBS_NONE if code is None else _OBSERVACIONES.index(code)
    contabilizada = {"0": CONT_0, "1": CONT_1, "2": CONT_2}.get(text, CONT_OTHER)
    if contabilizada == CONT_OTHER and text.strip() == "2":
        contabilizada = CONT_AMBIGUOUS
    return Text(
        observacion=observacion_code,
        tipo_acta=text.zfill(2) if text.isdigit() else text,
        especial=text == TipoCasilla.ESPECIAL.value,
        contabilizada=contabilizada,
    )


# -- per batch ---------------------------------------------------------------------


class Tables(NamedTuple):
    """One batch's view of the categories: code → text and code → reading.

    The last entry of each table stands for the empty cell (polars reads it as null).
    """

    number_names: list[str]
    numbers: list[Number]
    text_names: list[str]
    texts: list[Text]


class Lookups:
    """The categories of the numeric and of the label columns, and their readings.

    Each batch maps its codes through the categories as they stand after reading it
    (polars may renumber categories once no frame uses them); a text is read once.
    """

    def __init__(self, *, settings: RuleSettings) -> None:
        self.settings = settings
        self.numbers = pl.Categorical(pl.Categories.random())
        self.texts = pl.Categorical(pl.Categories.random())
        self._numbers: dict[str, Number] = {}
        self._texts: dict[str, Text] = {}

    def tables(self) -> Tables | None:
        """This batch's tables, or ``None`` past MAX_CATEGORIES."""
        number_names = [*_categories(self.numbers), ""]
        if len(number_names) > MAX_CATEGORIES:
            return None
        text_names = [*_categories(self.texts), ""]
        numbers, texts, settings = self._numbers, self._texts, self.settings
        return Tables(
            number_names,
            [numbers.get(t) or numbers.setdefault(t, read_number(t)) for t in number_names],
            text_names,
            [
                texts.get(t) or texts.setdefault(t, read_text(t, settings=settings))
                for t in text_names
            ],
        )


def _categories(dtype: pl.Categorical) -> list[str]:
    categories = dtype.categories
    assert categories is not None, "created with its own Categories"
    names: list[str] = categories.to_series().to_list()
    return names
