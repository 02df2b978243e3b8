"""An acta image as received: checked before anything is stored, and identified by its QR.

The checks run in order of cost, so that a hostile or broken file costs little:

1. its size in bytes, before it is decoded (``OPENPREP_IMAGEN_MAX_BYTES``: 413);
2. its header: a JPEG, PNG, TIFF or WebP, and no more pixels than
   ``OPENPREP_IMAGEN_MAX_PIXELES`` (413) – read before any pixel is decoded, so a
   decompression bomb (a few KB declaring 20000×20000 pixels) never reaches memory;
3. its pixels, decoded completely, so a truncated or corrupt file is refused (400).

Pillow's own bomb guard (``Image.MAX_IMAGE_PIXELS``) warns past its limit and raises past
twice it. We never let the warning through: the limit applied is the smaller of the setting
and Pillow's, so any image Pillow would warn about is refused here. (Turning the warning
into an exception with ``warnings.catch_warnings`` would change process-wide state under
a threaded server.)

The QR code of the acta carries its CLAVE_ACTA. Decoding runs on a grey, reduced copy (a
JPEG is decoded straight at a reduced scale): a 12-megapixel photo took 35 ms
instead of 200 ms (measured); only when nothing is found there is the full resolution tried.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import zxingcpp
from django.conf import settings
from PIL import Image

from openprep.core.model import parse_clave_acta
from openprep.intake.services import IntakeError

# Pillow format → Content-Type. MPO is the JPEG with several pictures some phones write.
FORMATOS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "TIFF": "image/tiff",
    "WEBP": "image/webp",
}
_PLUGINS = ("JPEG", "PNG", "TIFF", "WEBP")  # the only decoders an upload may reach
FORMATOS_ACEPTADOS = "JPEG, PNG, TIFF o WebP"
# The longest side the QR search first works on: the acta's QR keeps several pixels per
# module at this size in a letter-size scan or a phone photo.
LADO_QR = 1600
_TOKEN = re.compile(r"[0-9A-Z]+")
_FIRMAS = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


class ImagenNoValida(IntakeError):
    """Not an image in an accepted format, or a damaged one; or no way to tell its acta."""


class ImagenDemasiadoGrande(IntakeError):
    """Over the size limit in bytes, or would decode to too many pixels."""

    http_status = 413


@dataclass(frozen=True)
class ImagenRecibida:
    """A checked image: its bytes, format, size and the CLAVE_ACTA its QR codes carry."""

    contenido: bytes
    formato: str
    ancho: int
    alto: int
    claves_qr: tuple[str, ...]

    @property
    def content_type(self) -> str:
        return FORMATOS[self.formato]


def comprobar_tamano(tamano: int, *, nombre: str) -> None:
    """Refuse a file over ``OPENPREP_IMAGEN_MAX_BYTES`` before reading or decoding it."""
    limite = settings.OPENPREP_IMAGEN_MAX_BYTES
    if tamano > limite:
        raise ImagenDemasiadoGrande(
            f"la imagen pesa {_megas(tamano)}; el límite es {_megas(limite)}.",
            where=f"archivo {nombre}" if nombre else "",
            hint="Escanee o fotografíe el acta con menor resolución o más compresión "
            "(JPEG) y envíela de nuevo.",
        )


def leer_imagen(contenido: bytes, *, nombre: str = "") -> ImagenRecibida:
    """Check an uploaded image completely and read the CLAVE_ACTA from its QR codes."""
    comprobar_tamano(len(contenido), nombre=nombre)
    donde = f"archivo {nombre}" if nombre else ""
    imagen = _abrir(contenido, donde=donde)
    formato, ancho, alto = str(imagen.format), imagen.width, imagen.height
    limite = settings.OPENPREP_IMAGEN_MAX_PIXELES
    if Image.MAX_IMAGE_PIXELS:
        limite = min(limite, Image.MAX_IMAGE_PIXELS)
    if ancho * alto > limite:
        raise _demasiados_pixeles(ancho, alto, limite, donde)
    grande = max(ancho, alto) >= 2 * LADO_QR  # the QR search works on a reduced copy
    if grande and formato in {"JPEG", "MPO"}:
        # Decode straight at 1/2, 1/4 or 1/8 scale, never below LADO_QR on the longest side.
        escala = LADO_QR / max(ancho, alto)
        imagen.draft("L", (max(1, int(ancho * escala)), max(1, int(alto * escala))))
    _decodificar(imagen, donde=donde)
    claves = _claves_qr(_para_qr(imagen))
    if not claves and grande:  # a small QR may need every pixel
        completa = _abrir(contenido, donde=donde)
        _decodificar(completa, donde=donde)
        claves = _claves_qr(completa.convert("L"))
    return ImagenRecibida(
        contenido=contenido, formato=formato, ancho=ancho, alto=alto, claves_qr=claves
    )


def identificar_acta(*, claves_qr: tuple[str, ...], clave_tecleada: str) -> tuple[str, str]:
    """The CLAVE_ACTA of an image and how it was known: ``"qr"`` or ``"clave"`` (typed).

    When both are present they must agree; with neither, the operator must type it.
    """
    tecleada = clave_tecleada.strip().upper()
    if len(set(claves_qr)) > 1:
        raise ImagenNoValida(
            f"la imagen tiene códigos QR de actas distintas: {', '.join(claves_qr)}.",
            hint="Envíe una imagen por acta.",
        )
    if claves_qr:
        del_qr = claves_qr[0]
        if tecleada and tecleada != del_qr:
            raise ImagenNoValida(
                f"el código QR de la imagen dice {del_qr} y la clave escrita es {tecleada}.",
                where="campo clave_acta",
                hint="Revise que la imagen sea del acta cuya clave escribió; corrija la clave "
                "o déjela vacía para usar la del código QR.",
            )
        return del_qr, "qr"
    if not tecleada:
        raise ImagenNoValida(
            "no se encontró el código QR del acta en la imagen y no se escribió la CLAVE_ACTA.",
            where="campo clave_acta",
            hint="Escriba la CLAVE_ACTA que aparece en el acta (13 caracteres, "
            "p. ej. 230085B010002) y envíe la imagen de nuevo.",
        )
    return tecleada, "clave"


def clave_de_texto_qr(texto: str) -> str | None:
    """The CLAVE_ACTA a QR code's text carries: the text itself (surrounding blanks
    aside), or the first 13-character token in it that is a CLAVE_ACTA."""
    limpio = texto.strip().upper()
    if len(limpio) == 13 and parse_clave_acta(limpio) is not None:
        return limpio
    for token in _TOKEN.findall(limpio):
        if len(token) == 13 and parse_clave_acta(token) is not None:
            return token
    return None


def tipo_de_contenido(cabecera: bytes) -> str:
    """The Content-Type of stored image bytes, from their first bytes."""
    for firma, tipo in _FIRMAS:
        if cabecera.startswith(firma):
            return tipo
    if cabecera[:4] == b"RIFF" and cabecera[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def _abrir(contenido: bytes, *, donde: str) -> Image.Image:
    """Read the header only (no pixel is decoded yet) of an accepted format."""
    try:
        imagen = Image.open(io.BytesIO(contenido), formats=_PLUGINS)
    except Image.DecompressionBombError as exc:
        raise ImagenDemasiadoGrande(
            "la imagen declara demasiados píxeles para procesarla.",
            where=donde,
            hint="Envíe un escaneo o foto normal del acta.",
        ) from exc
    except Exception as exc:  # UnidentifiedImageError and whatever a broken header raises
        raise _no_es_imagen(donde, danada=False) from exc
    if imagen.format not in FORMATOS:
        raise _no_es_imagen(donde, danada=False)
    return imagen


def _decodificar(imagen: Image.Image, *, donde: str) -> None:
    """Decode every pixel: a truncated or corrupt file fails here."""
    try:
        imagen.load()
    except Exception as exc:  # Pillow's decoders raise many types on malformed input
        raise _no_es_imagen(donde, danada=True) from exc


def _para_qr(imagen: Image.Image) -> Image.Image:
    """A grey copy no larger than about LADO_QR on its longest side."""
    gris = imagen if imagen.mode == "L" else imagen.convert("L")
    factor = max(gris.size) // LADO_QR
    return gris.reduce(factor) if factor > 1 else gris


def _claves_qr(imagen: Image.Image) -> tuple[str, ...]:
    claves = []
    for codigo in zxingcpp.read_barcodes(imagen, formats=zxingcpp.BarcodeFormat.QRCode):
        clave = clave_de_texto_qr(codigo.text)
        if clave is not None and clave not in claves:
            claves.append(clave)
    return tuple(claves)


def _no_es_imagen(donde: str, *, danada: bool) -> ImagenNoValida:
    return ImagenNoValida(
        "la imagen está incompleta o dañada."
        if danada
        else f"el archivo no es una imagen {FORMATOS_ACEPTADOS}.",
        where=donde,
        hint=f"Envíe el acta escaneada o fotografiada en formato {FORMATOS_ACEPTADOS}"
        + ("; si la copió o transmitió, hágalo de nuevo." if danada else "."),
    )


def _demasiados_pixeles(ancho: int, alto: int, limite: int, donde: str) -> ImagenDemasiadoGrande:
    return ImagenDemasiadoGrande(
        f"la imagen mide {ancho}×{alto} píxeles ({ancho * alto / 1e6:.1f} megapíxeles); "
        f"el límite es {limite / 1e6:.1f} megapíxeles.",
        where=donde,
        hint="Escanee el acta a menor resolución (300 ppp bastan) y envíela de nuevo.",
    )


def _megas(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
