"""Acta images as received: checked before anything is stored, identified by their QR code."""

from __future__ import annotations

import io
import time

import pytest
import segno
from PIL import Image, ImageDraw

from openprep.intake.images import (
    ImagenDemasiadoGrande,
    ImagenNoValida,
    clave_de_texto_qr,
    identificar_acta,
    leer_imagen,
    tipo_de_contenido,
)

CLAVE = "230100B010002"


def acta(
    clave: str | None = CLAVE,
    *,
    formato: str = "PNG",
    tamano: tuple[int, int] = (850, 1100),
    escala_qr: int = 4,
    texto: str = "ACTA DE ESCRUTINIO Y COMPUTO",
) -> bytes:
    """A sheet with some text and, when ``clave`` is given, its QR code in a corner."""
    hoja = Image.new("RGB", tamano, "white")
    dibujo = ImageDraw.Draw(hoja)
    for y in range(200, tamano[1] - 50, 40):
        dibujo.text((40, y), f"{texto} PAN 120 PRI 87 MORENA 230", fill="black")
    if clave is not None:
        buffer = io.BytesIO()
        segno.make(clave, error="m").save(buffer, kind="png", scale=escala_qr)
        qr = Image.open(buffer)
        hoja.paste(qr, (tamano[0] - qr.width - 40, 40))
    salida = io.BytesIO()
    hoja.save(salida, formato)
    return salida.getvalue()


def bomba() -> bytes:
    """A few KB of PNG declaring 20000×20000 pixels."""
    salida = io.BytesIO()
    Image.new("1", (20000, 20000)).save(salida, "PNG")
    return salida.getvalue()


# --- identification by QR ----------------------------------------------------------------


@pytest.mark.parametrize("formato", ["PNG", "JPEG", "TIFF", "WEBP"])
def test_the_acta_is_identified_by_its_qr_code_in_every_accepted_format(formato):
    recibida = leer_imagen(acta(formato=formato), nombre=f"acta.{formato.lower()}")

    assert recibida.claves_qr == (CLAVE,)
    assert recibida.formato == formato
    assert (recibida.ancho, recibida.alto) == (850, 1100)
    assert recibida.content_type == f"image/{formato.lower()}"


def test_a_large_phone_photo_is_identified_quickly():
    foto = acta(formato="JPEG", tamano=(4000, 3000), escala_qr=12)
    leer_imagen(foto)  # warm up the decoders

    inicio = time.perf_counter()
    recibida = leer_imagen(foto)
    segundos = time.perf_counter() - inicio

    assert recibida.claves_qr == (CLAVE,)
    assert (recibida.ancho, recibida.alto) == (4000, 3000)
    # About 0.05 s on one core (decoded at reduced scale); generous for a loaded machine.
    assert segundos < 1.0


def test_a_small_qr_in_a_large_image_is_still_found_at_full_resolution():
    foto = acta(formato="PNG", tamano=(4800, 3600), escala_qr=3)

    assert leer_imagen(foto).claves_qr == (CLAVE,)


def test_an_image_without_a_qr_code_identifies_nothing():
    assert leer_imagen(acta(None)).claves_qr == ()


@pytest.mark.parametrize(
    ("texto", "clave"),
    [
        (CLAVE, CLAVE),
        (f"  {CLAVE.lower()}\n", CLAVE),
        (f"PREP|{CLAVE}|2019-06-02", CLAVE),
        (f"https://prep.example.mx/acta?c={CLAVE}&e=23", CLAVE),
        ("1234567890123 " + CLAVE, CLAVE),  # 13 characters, but not a CLAVE_ACTA
        ("230100B0100", None),  # a CLAVE_CASILLA is not enough
        ("hola", None),
        ("", None),
    ],
)
def test_the_clave_acta_is_taken_from_whatever_text_the_qr_holds(texto, clave):
    assert clave_de_texto_qr(texto) == clave


def test_a_qr_code_with_other_data_around_the_key_identifies_the_acta():
    buffer = io.BytesIO()
    segno.make(f"INE PREP 2024 {CLAVE} hoja 1", error="m").save(buffer, kind="png", scale=4)
    hoja = Image.new("L", (600, 600), 255)
    hoja.paste(Image.open(buffer), (50, 50))
    salida = io.BytesIO()
    hoja.save(salida, "PNG")

    assert leer_imagen(salida.getvalue()).claves_qr == (CLAVE,)


def test_the_qr_code_identifies_the_acta_when_nothing_is_typed():
    assert identificar_acta(claves_qr=(CLAVE,), clave_tecleada="") == (CLAVE, "qr")
    assert identificar_acta(claves_qr=(CLAVE,), clave_tecleada=f" {CLAVE.lower()} ") == (
        CLAVE,
        "qr",
    )


def test_the_typed_key_identifies_an_acta_without_qr():
    assert identificar_acta(claves_qr=(), clave_tecleada=" 230101b010002 ") == (
        "230101B010002",
        "clave",
    )


def test_a_qr_code_and_a_typed_key_that_disagree_are_refused_naming_both():
    with pytest.raises(ImagenNoValida) as exc:
        identificar_acta(claves_qr=(CLAVE,), clave_tecleada="230101B010002")
    assert CLAVE in exc.value.text
    assert "230101B010002" in exc.value.text
    assert exc.value.where == "campo clave_acta"


def test_an_image_without_qr_and_no_typed_key_asks_for_the_key():
    with pytest.raises(ImagenNoValida, match="no se encontró el código QR") as exc:
        identificar_acta(claves_qr=(), clave_tecleada="  ")
    assert "Escriba la CLAVE_ACTA" in exc.value.hint


def test_qr_codes_of_two_actas_in_one_image_are_refused():
    with pytest.raises(ImagenNoValida, match="actas distintas"):
        identificar_acta(claves_qr=(CLAVE, "230101B010002"), clave_tecleada="")


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "contenido",
    [b"", b"%PDF-1.4 not an acta", b"CLAVE_ACTA 230100B010002", b"\x00" * 4096],
)
def test_a_file_that_is_not_an_image_is_refused_naming_the_accepted_formats(contenido):
    with pytest.raises(ImagenNoValida) as exc:
        leer_imagen(contenido, nombre="acta.jpg")
    assert exc.value.message == "el archivo no es una imagen JPEG, PNG, TIFF o WebP."
    assert exc.value.where == "archivo acta.jpg"
    assert getattr(exc.value, "http_status", 400) == 400


def test_an_image_in_another_format_is_refused():
    salida = io.BytesIO()
    Image.open(io.BytesIO(acta())).save(salida, "GIF")

    with pytest.raises(ImagenNoValida, match="no es una imagen JPEG, PNG, TIFF o WebP"):
        leer_imagen(salida.getvalue())


@pytest.mark.parametrize("formato", ["PNG", "JPEG"])
def test_a_truncated_image_is_refused(formato):
    completa = acta(formato=formato)

    with pytest.raises(ImagenNoValida, match="incompleta o dañada"):
        leer_imagen(completa[: len(completa) // 2], nombre="acta")


def test_an_image_over_the_size_limit_is_refused_before_it_is_decoded(settings):
    settings.OPENPREP_IMAGEN_MAX_BYTES = 1000
    # Not even an image: the size alone decides, nothing is decoded.
    with pytest.raises(ImagenDemasiadoGrande) as exc:
        leer_imagen(b"\xff" * 1001, nombre="grande.jpg")
    assert exc.value.http_status == 413
    assert "el límite es 0.0 MB" in exc.value.message
    assert exc.value.where == "archivo grande.jpg"


def test_an_image_with_more_pixels_than_allowed_is_refused(settings):
    settings.OPENPREP_IMAGEN_MAX_PIXELES = 850 * 1100 - 1

    with pytest.raises(ImagenDemasiadoGrande, match=r"850×1100 píxeles") as exc:
        leer_imagen(acta())
    assert exc.value.http_status == 413


def test_a_decompression_bomb_is_refused_without_decoding_it():
    contenido = bomba()
    assert len(contenido) < 100_000

    with pytest.raises(ImagenDemasiadoGrande) as exc:
        leer_imagen(contenido)
    assert exc.value.http_status == 413


def test_pillows_own_limit_is_never_exceeded_even_if_the_setting_allows_more(settings, monkeypatch):
    settings.OPENPREP_IMAGEN_MAX_PIXELES = 10**9
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 850 * 1100 - 1)

    with pytest.raises(ImagenDemasiadoGrande), pytest.warns(Image.DecompressionBombWarning):
        leer_imagen(acta())


# --- serving ------------------------------------------------------------------------------


@pytest.mark.parametrize("formato", ["PNG", "JPEG", "TIFF", "WEBP"])
def test_the_content_type_of_stored_bytes_comes_from_their_signature(formato):
    assert tipo_de_contenido(acta(formato=formato)[:16]) == f"image/{formato.lower()}"


def test_unknown_bytes_are_served_as_opaque_data():
    assert tipo_de_contenido(b"hola") == "application/octet-stream"
