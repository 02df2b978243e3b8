"""The acopio and digitalización screens and the operators' image view (docs/api.md)."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
import segno
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image, ImageDraw

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.capture.services import campos_del_acta, capturar
from openprep.intake.models import Acta, Estado, EventoActa, Imagen
from openprep.intake.services import digitalizar, registrar_acopio

CLAVE = "230100B010002"
OTRA = "230101B010002"
FUERA = "239999B010002"  # its TIPO_ACTA is the election's, its casilla is not in the catalog
IMAGEN_DE = (Rol.DIGITALIZADOR, Rol.CAPTURISTA, Rol.VERIFICADOR, Rol.COORDINADOR)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def operadores(db):
    catd = registrar_catd(clave="CATD-01", nombre="Chetumal")
    return {
        rol: registrar_operador(
            usuario=f"op_{rol.value}",
            rol=rol,
            clave="una-clave-de-prueba-larga",
            catd=None if rol == Rol.ADMINISTRADOR else catd,
        ).user
        for rol in Rol
    }


def como(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acopiador(operadores) -> Client:
    return como(operadores[Rol.ACOPIADOR])


@pytest.fixture
def digitalizador(operadores) -> Client:
    return como(operadores[Rol.DIGITALIZADOR])


def acta(clave: str | None = CLAVE, *, formato: str = "PNG", variante: str = "") -> bytes:
    """A sheet with text and, when ``clave`` is given, its QR code pasted in a corner."""
    hoja = Image.new("RGB", (700, 900), "white")
    dibujo = ImageDraw.Draw(hoja)
    for y in range(200, 850, 40):
        dibujo.text((40, y), f"PAN 120 PRI 87 MORENA 230 {variante}", fill="black")
    if clave is not None:
        buffer = io.BytesIO()
        segno.make(clave, error="m").save(buffer, kind="png", scale=4)
        qr = Image.open(buffer)
        hoja.paste(qr, (700 - qr.width - 40, 40))
    salida = io.BytesIO()
    hoja.save(salida, formato)
    return salida.getvalue()


def subir(client: Client, contenido: bytes | None, *, json: bool = True, **campos: str):
    datos = dict(campos)
    if contenido is not None:
        datos["imagen"] = SimpleUploadedFile("acta.png", contenido, content_type="image/png")
    extra = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post("/digitalizacion/", datos, **extra)


def acopiar(client: Client, clave: str, mecanismo: str = "F", *, json: bool = True):
    extra = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post("/acopio/", {"clave_acta": clave, "mecanismo_traslado": mecanismo}, **extra)


def huella(media: Path) -> tuple[int, int, int, int]:
    """What a refused request must leave untouched: rows and stored files."""
    archivos = sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0
    return Acta.objects.count(), EventoActa.objects.count(), Imagen.objects.count(), archivos


def sha(contenido: bytes) -> str:
    return hashlib.sha256(contenido).hexdigest()


# --- who may use each screen ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ruta", "permitido"),
    [("/acopio/", Rol.ACOPIADOR), ("/digitalizacion/", Rol.DIGITALIZADOR)],
)
def test_each_screen_opens_for_its_role_only(operadores, ruta, permitido):
    assert Client().get(ruta)["Location"] == f"/entrar/?next={ruta}"
    for rol in Rol:
        response = como(operadores[rol]).get(ruta)
        if rol == permitido:
            assert response.status_code == 200, rol
            assert "autofocus" in response.content.decode()
        else:
            assert response.status_code == 403, rol
            assert "esta acción requiere el rol" in response.content.decode()


def test_no_other_role_can_register_an_acopio_or_an_image(operadores, eleccion, media):
    antes = huella(media)
    for rol in set(Rol) - {Rol.ACOPIADOR}:
        assert acopiar(como(operadores[rol]), CLAVE).status_code == 403, rol
    for rol in set(Rol) - {Rol.DIGITALIZADOR}:
        assert subir(como(operadores[rol]), acta()).status_code == 403, rol
    assert huella(media) == antes


# --- acopio ---------------------------------------------------------------------------------


def test_an_acopio_of_a_catalog_acta_answers_as_the_api_says(acopiador, eleccion):
    antes = timezone.now()
    response = acopiar(acopiador, f" {CLAVE.lower()} ", "d")

    assert response.status_code == 201
    cuerpo = response.json()
    assert set(cuerpo) == {
        "clave_acta",
        "eleccion",
        "estado",
        "fecha_hora_acopio",
        "fuera_catalogo",
    }
    assert cuerpo["clave_acta"] == CLAVE
    assert cuerpo["eleccion"] == "DIPUTACIONES LOCALES"
    assert cuerpo["estado"] == "ACOPIADA"
    assert cuerpo["fuera_catalogo"] is False
    assert cuerpo["fecha_hora_acopio"].endswith("-05:00")  # the election's time zone
    acta_ = Acta.objects.get(clave_acta=CLAVE)
    assert acta_.fecha_hora_acopio >= antes
    assert acta_.mecanismo_traslado == "D"
    evento = EventoActa.objects.get(acta=acta_)
    assert (evento.tipo, evento.catd, evento.usuario.username) == (
        "ACOPIO",
        "CATD-01",
        "op_acopiador",
    )


def test_a_browser_acopio_redirects_back_with_a_message_and_lists_it(acopiador, eleccion):
    response = acopiar(acopiador, CLAVE, "I", json=False)
    assert response.status_code == 302
    assert response["Location"] == "/acopio/"

    pagina = acopiador.get("/acopio/").content.decode()
    assert f"Acopio registrado: acta {CLAVE}." in pagina
    assert f"<td>{CLAVE}</td>" in pagina
    # The transport mechanism stays chosen for the next acta of the same batch.
    assert 'value="I" checked' in pagina


def test_a_key_outside_the_catalog_is_registered_fuera_de_catalogo_and_said_clearly(
    acopiador, eleccion
):
    response = acopiar(acopiador, FUERA)
    assert response.status_code == 201
    assert response.json()["fuera_catalogo"] is True
    assert Acta.objects.get(clave_acta=FUERA).fuera_catalogo

    pagina = acopiar(acopiador, "239998B010002", json=False)
    texto = acopiador.get(pagina["Location"]).content.decode()
    assert "Acta 239998B010002 registrada FUERA DE CATÁLOGO" in texto
    assert "avise al coordinador" in texto


@pytest.mark.parametrize(
    ("clave", "mensaje"),
    [
        ("hola", "'HOLA' no es una CLAVE_ACTA."),
        ("", "falta la CLAVE_ACTA."),
        ("230100B010009", "la CLAVE_ACTA 230100B010009 termina en TIPO_ACTA 9, que ninguna "
         "elección usa."),
    ],
)  # fmt: skip
def test_a_string_that_is_no_clave_acta_is_refused_in_spanish(
    acopiador, eleccion, media, clave, mensaje
):
    antes = huella(media)
    response = acopiar(acopiador, clave)
    assert response.status_code == 400
    assert response.json()["error"] == mensaje
    assert response.json()["que_hacer"]

    pagina = acopiar(acopiador, clave, json=False)
    assert pagina.status_code == 400
    texto = pagina.content.decode()
    assert 'role="alert"' in texto
    assert 'aria-invalid="true"' in texto
    assert huella(media) == antes


def test_an_unknown_transport_mechanism_is_refused(acopiador, eleccion, media):
    antes = huella(media)
    response = acopiar(acopiador, CLAVE, "X")
    assert response.status_code == 400
    assert "MECANISMOS_TRASLADO" in response.json()["error"]
    assert huella(media) == antes


def test_an_acta_already_acopiada_is_refused_with_409_and_written_once(acopiador, eleccion, media):
    assert acopiar(acopiador, CLAVE).status_code == 201
    antes = huella(media)

    response = acopiar(acopiador, CLAVE, "D")
    assert response.status_code == 409
    assert "ya tiene acopio registrado" in response.json()["error"]
    pagina = acopiar(acopiador, CLAVE, json=False)
    assert pagina.status_code == 409
    assert "ya tiene acopio registrado" in pagina.content.decode()
    assert huella(media) == antes
    assert Acta.objects.get(clave_acta=CLAVE).mecanismo_traslado == "F"


def test_the_page_lists_this_operators_last_20_acopios_newest_first(
    operadores, acopiador, eleccion
):
    ahora = timezone.now()
    for n in range(22):
        registrar_acopio(
            eleccion=eleccion,
            clave_acta=f"2399{n:02d}B010002",
            usuario=operadores[Rol.ACOPIADOR],
            catd="CATD-01",
            cuando=ahora + timedelta(minutes=n),
        )
    otro = registrar_operador(
        usuario="otro_acopiador", rol=Rol.ACOPIADOR, clave="una-clave-de-prueba-larga",
        catd=operadores[Rol.ACOPIADOR].operador.catd,
    ).user  # fmt: skip
    registrar_acopio(
        eleccion=eleccion, clave_acta=CLAVE, usuario=otro, catd="CATD-01", cuando=ahora
    )

    with CaptureQueriesContext(connection) as consultas:
        texto = acopiador.get("/acopio/").content.decode()
    listadas = [f"2399{n:02d}B010002" for n in range(22) if f"<td>2399{n:02d}B010002" in texto]
    assert len(listadas) == 20
    assert texto.index("239921B010002") < texto.index("239920B010002")
    assert "239901B010002" not in texto
    assert CLAVE not in texto
    assert len(consultas) <= 8  # session, user, operator, CATD, events: not one per row


# --- digitalización --------------------------------------------------------------------------


def test_an_upload_with_its_qr_code_is_identified_and_stored_by_its_sha256(
    digitalizador, eleccion, media
):
    contenido = acta()
    response = subir(digitalizador, contenido)

    assert response.status_code == 201
    assert response.json() == {
        "clave_acta": CLAVE,
        "eleccion": "DIPUTACIONES LOCALES",
        "sha256": sha(contenido),
        "estado": "DIGITALIZADA",
        "identificada_por": "qr",
        "fuera_catalogo": False,
        "publicada": True,
    }
    registrada = Acta.objects.get(clave_acta=CLAVE)
    assert (registrada.origen, registrada.digitalizacion, registrada.tipo_documento) == (
        "CATD",
        "ESCANER",
        "ACTA PREP",
    )
    assert registrada.imagen_id == sha(contenido)
    guardada = media / "actas" / sha(contenido)[:2] / sha(contenido)
    assert guardada.read_bytes() == contenido
    evento = EventoActa.objects.get(acta=registrada)
    assert (evento.catd, evento.datos["sha256"]) == ("CATD-01", sha(contenido))


def test_an_upload_without_qr_is_identified_by_the_typed_key(digitalizador, eleccion):
    response = subir(digitalizador, acta(None), clave_acta=OTRA, tipo_documento="rpp")

    assert response.status_code == 201
    assert response.json()["identificada_por"] == "clave"
    assert response.json()["clave_acta"] == OTRA
    assert Acta.objects.get(clave_acta=OTRA).tipo_documento == "RPP"


def test_a_qr_code_outside_the_catalog_registers_the_acta_fuera_de_catalogo(
    digitalizador, eleccion
):
    response = subir(digitalizador, acta(FUERA))
    assert response.status_code == 201
    assert response.json()["fuera_catalogo"] is True

    pagina = subir(digitalizador, acta(FUERA, variante="2"), json=False)
    texto = digitalizador.get(pagina["Location"]).content.decode()
    assert f"El acta {FUERA} está FUERA DE CATÁLOGO" in texto


def _truncada() -> bytes:
    completa = acta(formato="JPEG")
    return completa[: len(completa) // 2]


def _bomba() -> bytes:
    salida = io.BytesIO()
    Image.new("1", (20000, 20000)).save(salida, "PNG")
    return salida.getvalue()


@pytest.mark.parametrize(
    ("contenido", "campos", "status", "mensaje"),
    [
        (acta(), {"clave_acta": OTRA}, 400, f"el código QR de la imagen dice {CLAVE} y la clave "
         f"escrita es {OTRA}."),
        (acta(None), {}, 400, "no se encontró el código QR del acta"),
        (None, {"clave_acta": CLAVE}, 400, "no se recibió la imagen del acta."),
        (b"%PDF-1.4", {"clave_acta": CLAVE}, 400, "no es una imagen JPEG, PNG, TIFF o WebP"),
        (_truncada(), {"clave_acta": CLAVE}, 400, "la imagen está incompleta o dañada."),
        (_bomba(), {"clave_acta": CLAVE}, 413, "demasiados píxeles"),
        (acta(None), {"clave_acta": "hola"}, 400, "'HOLA' no es una CLAVE_ACTA."),
        (acta(), {"tipo_documento": "FOTO"}, 400, "TIPO_DOCUMENTO 'FOTO' no es válido."),
    ],
    ids=["qr-y-clave-distintas", "sin-qr-ni-clave", "sin-archivo", "no-es-imagen",
         "truncada", "bomba", "clave-invalida", "tipo-documento"],
)  # fmt: skip
def test_a_refused_upload_says_why_in_spanish_and_writes_nothing(
    digitalizador, eleccion, media, contenido, campos, status, mensaje
):
    antes = huella(media)

    response = subir(digitalizador, contenido, **campos)
    assert response.status_code == status
    assert mensaje in response.json()["error"]
    pagina = subir(digitalizador, contenido, json=False, **campos)
    assert pagina.status_code == status
    assert 'role="alert"' in pagina.content.decode()
    assert huella(media) == antes


def test_an_image_over_the_size_limit_is_refused_with_413(digitalizador, eleccion, media, settings):
    contenido = acta()
    settings.OPENPREP_IMAGEN_MAX_BYTES = len(contenido) - 1
    antes = huella(media)

    response = subir(digitalizador, contenido, clave_acta=CLAVE)
    assert response.status_code == 413
    assert "el límite es" in response.json()["error"]
    assert huella(media) == antes


def test_the_same_image_again_is_answered_the_same_and_recorded_once(digitalizador, eleccion):
    contenido = acta()
    primera = subir(digitalizador, contenido)
    segunda = subir(digitalizador, contenido)

    assert (primera.status_code, segunda.status_code) == (201, 200)
    assert segunda.json() == primera.json()
    assert EventoActa.objects.filter(tipo="DIGITALIZACION").count() == 1
    pagina = subir(digitalizador, contenido, json=False)
    assert "ya estaba registrada" in digitalizador.get(pagina["Location"]).content.decode()


def test_the_same_image_for_another_acta_is_refused_naming_its_acta(digitalizador, eleccion, media):
    contenido = acta(None)
    assert subir(digitalizador, contenido, clave_acta=CLAVE).status_code == 201
    antes = huella(media)

    response = subir(digitalizador, contenido, clave_acta=OTRA)
    assert response.status_code == 409
    assert f"ya está registrada para el acta {CLAVE}" in response.json()["error"]
    assert huella(media) == antes
    assert not Acta.objects.filter(clave_acta=OTRA).exists()


def test_a_second_catd_scan_replaces_the_first_only_until_the_acta_is_captured(
    digitalizador, operadores, eleccion, media
):
    primera, segunda, tercera = (acta(variante=str(n)) for n in range(3))
    assert subir(digitalizador, primera).status_code == 201
    assert subir(digitalizador, segunda).status_code == 201
    registrada = Acta.objects.get(clave_acta=CLAVE)
    assert registrada.imagen_id == sha(segunda)
    assert Imagen.objects.filter(sha256=sha(primera)).exists()  # kept

    capturar(
        acta=registrada,
        usuario=operadores[Rol.CAPTURISTA],
        valores=_valores(),
        cuando=timezone.now(),
    )
    antes = huella(media)
    response = subir(digitalizador, tercera)
    assert response.status_code == 409
    assert "un coordinador debe registrar la corrección" in response.json()["que_hacer"]
    assert huella(media) == antes
    assert Acta.objects.get(clave_acta=CLAVE).imagen_id == sha(segunda)


def _valores() -> dict[str, str]:
    return dict.fromkeys(campos_del_acta(Acta.objects.get(clave_acta=CLAVE)), "1")


def test_the_screen_lists_the_images_with_a_link_to_each(digitalizador, eleccion):
    contenido = acta()
    response = subir(digitalizador, contenido, json=False)
    assert response.status_code == 302

    texto = digitalizador.get(response["Location"]).content.decode()
    assert f"Imagen registrada para el acta {CLAVE} (identificada por su código QR)." in texto
    assert f'href="/imagenes/{sha(contenido)}/"' in texto


# --- the operators' image view ----------------------------------------------------------------


def test_the_image_is_served_to_the_roles_that_work_with_it(operadores, eleccion):
    contenido = acta(formato="JPEG")
    assert subir(como(operadores[Rol.DIGITALIZADOR]), contenido).status_code == 201
    url = f"/imagenes/{sha(contenido)}/"

    for rol in Rol:
        response = como(operadores[rol]).get(url)
        if rol in IMAGEN_DE:
            assert response.status_code == 200, rol
            assert b"".join(response.streaming_content) == contenido
            assert response["Content-Type"] == "image/jpeg"
            assert response["Cache-Control"] == "private, max-age=31536000, immutable"
        else:
            assert response.status_code == 403, rol
    assert Client().get(url)["Location"] == f"/entrar/?next={url}"


def test_an_unknown_image_or_one_known_only_by_its_hash_is_404(operadores, eleccion):
    client = como(operadores[Rol.CAPTURISTA])
    solo_hash = "ab" * 32
    digitalizar(
        eleccion=eleccion, clave_acta=CLAVE, usuario=operadores[Rol.DIGITALIZADOR],
        catd="CATD-01", cuando=timezone.now(), origen="CATD", digitalizacion="ESCANER",
        tipo_documento="ACTA PREP", sha256=solo_hash,
    )  # fmt: skip

    for url in (f"/imagenes/{solo_hash}/", f"/imagenes/{'cd' * 32}/", "/imagenes/no-es-un-hash/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "no hay una imagen guardada" in response.content.decode()
    response = client.get(f"/imagenes/{solo_hash}/", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["error"].startswith("no hay una imagen guardada")


def test_the_state_of_an_acta_only_moves_forward_when_its_image_comes_first(
    digitalizador, acopiador, eleccion
):
    assert subir(digitalizador, acta()).status_code == 201
    response = acopiar(acopiador, CLAVE)
    assert response.status_code == 201
    assert response.json()["estado"] == Estado.DIGITALIZADA
