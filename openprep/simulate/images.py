"""Synthetic acta images: a small tally sheet with the acta's fields and a QR of its key.

The same inputs always give the same PNG bytes, so a drill's ground truth can publish
each acta's SHA-256 before the night and the night driver can render the very image
again from the truth file (:func:`render_acta` with the row's CLAVE_ACTA, election name
and captured values).

How a value is drawn: a number as digits, ``SIN DATO`` as an empty box (the officials
left it blank) and ``ILEGIBLE`` as a scribble over the box (nobody can read it).
The image is 1-bit (black and white, as a document scanner delivers) and 600×800
pixels; the QR code carries exactly the CLAVE_ACTA and decodes with ZXing.

Speed matters (the truth of a 50,000-casilla drill holds 150,000 images): the sheet
with its labels and boxes is drawn once per election and field list, text bitmaps are
cached, and the QR mask is fixed (segno's search for the best mask costs 5 ms).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping

import segno
from PIL import Image, ImageDraw, ImageFont

WIDTH = 600
HEIGHT = 800
_MARGIN = 24
_QR_SCALE = 5
_QR_BORDER = 4
_ROW = 22
_BOX = (330, 470)
"""Left and right edge of the value box of each field."""
_TOP = 165
"""First field line: below the header and the QR code."""

ILEGIBLE = "ILEGIBLE"
SIN_DATO = "SIN DATO"


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=4096)
def _text(texto: str, size: int) -> Image.Image:
    """A text line as a 1-bit mask (1 = ink), cut to its bounding box."""
    font = _font(size)
    _, _, right, bottom = font.getbbox(texto)
    mask = Image.new("1", (right + size // 2, bottom + size // 4), 0)
    ImageDraw.Draw(mask).text((0, 0), texto, font=font, fill=1)
    return mask


def _write(image: Image.Image, xy: tuple[int, int], texto: str, size: int) -> None:
    image.paste(0, xy, _text(texto, size))


@functools.lru_cache(maxsize=64)
def _sheet(eleccion: str, campos: tuple[str, ...]) -> Image.Image:
    """The blank sheet of an election: frame, titles, one labelled box per field."""
    if _TOP + _ROW * len(campos) > HEIGHT - _MARGIN:
        raise ValueError(f"{len(campos)} fields do not fit on the sheet")
    image = Image.new("1", (WIDTH, HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, WIDTH - 7, HEIGHT - 7), outline=0, width=2)
    _write(image, (_MARGIN, 20), "ACTA DE ESCRUTINIO Y COMPUTO", 20)
    _write(image, (_MARGIN, 48), eleccion, 20)
    _write(image, (_MARGIN, 104), "SIMULACRO: DATOS FICTICIOS", 15)
    left, right = _BOX
    for i, campo in enumerate(campos):
        y = _TOP + i * _ROW
        _write(image, (_MARGIN, y + 2), campo, 15)
        draw.rectangle((left, y, right, y + _ROW - 3), outline=0)
    return image


def _qr(clave_acta: str) -> Image.Image:
    """The QR code of the key, ``_QR_SCALE`` pixels per module, with its quiet zone."""
    matrix = segno.make_qr(clave_acta, error="m", boost_error=False, mask=0).matrix
    n = len(matrix)
    side = n + 2 * _QR_BORDER
    blank = b"\xff" * side
    pad = b"\xff" * _QR_BORDER
    rows = [blank] * _QR_BORDER
    rows += [pad + bytes(0 if m else 255 for m in row) + pad for row in matrix]
    rows += [blank] * _QR_BORDER
    small = Image.frombytes("L", (side, side), b"".join(rows)).convert("1")
    return small.resize((side * _QR_SCALE, side * _QR_SCALE), Image.Resampling.NEAREST)


def render_acta(*, clave_acta: str, eleccion: str, valores: Mapping[str, str]) -> bytes:
    """The PNG image of one acta: header, QR with ``clave_acta``, one line per field.

    ``valores`` maps each captured field (in the order of the sheet) to its text: digits,
    ``ILEGIBLE`` or ``SIN DATO``. At most 27 fields fit (a drill ballot has about 25).
    """
    image = _sheet(eleccion, tuple(valores)).copy()
    _write(image, (_MARGIN, 80), f"CLAVE_ACTA {clave_acta}", 15)
    qr = _qr(clave_acta)
    image.paste(qr, (WIDTH - _MARGIN - qr.width, 12))
    draw = ImageDraw.Draw(image)
    left, right = _BOX
    for i, valor in enumerate(valores.values()):
        y = _TOP + i * _ROW
        if valor == ILEGIBLE:
            for dx in range(0, right - left - 10, 12):
                draw.line((left + 6 + dx, y + _ROW - 6, left + 16 + dx, y + 3), fill=0, width=2)
        elif valor != SIN_DATO:
            _write(image, (left + 8, y + 2), valor, 15)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()
