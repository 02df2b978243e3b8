"""The PREP Casilla API (docs/api.md) and which image an acta publishes."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
import segno
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.intake.models import Acta, EventoActa, Imagen

URL = "/api/casilla/v1/actas/"
CLAVE = "230100B010002"
OTRA = "230101B010002"
CONTRASENA = "una-clave-de-prueba-larga"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def operadores(db):
    catd = registrar_catd(clave="CATD-07", nombre="Bacalar")
    return {
        rol: registrar_operador(
            usuario=f"op_{rol.value}",
            rol=rol,
            clave=CONTRASENA,
            catd=None if rol == Rol.ADMINISTRADOR else catd,
        ).user
        for rol in Rol
    }


def acta(clave: str | None = CLAVE, *, variante: str = "") -> bytes:
    """A photo-like JPEG of an acta with its QR code (``clave``) in a corner."""
    hoja = Image.new("RGB", (900, 1200), (235, 235, 230))
    dibujo = ImageDraw.Draw(hoja)
    for y in range(250, 1150, 40):
        dibujo.text((40, y), f"PAN 12 PRI 8 MORENA 23 NULOS 1 {variante}", fill="black")
    if clave is not None:
        buffer = io.BytesIO()
        segno.make(clave, error="m").save(buffer, kind="png", scale=5)
        hoja.paste(Image.open(buffer), (700, 40))
    salida = io.BytesIO()
    hoja.save(salida, "JPEG", quality=90)
    return salida.getvalue()


def basic(usuario: str, contrasena: str = CONTRASENA) -> str:
    return "Basic " + base64.b64encode(f"{usuario}:{contrasena}".encode()).decode()


def enviar(
    contenido: bytes | None = None,
    *,
    autorizacion: str | None = basic("op_digitalizador"),
    client: Client | None = None,
    **campos: str,
):
    datos = dict(campos)
    if contenido is not None:
        datos["imagen"] = SimpleUploadedFile("foto.jpg", contenido, content_type="image/jpeg")
    extra = {"HTTP_AUTHORIZATION": autorizacion} if autorizacion else {}
    return (client or Client()).post(URL, datos, **extra)


def escanear(operadores, contenido: bytes, **campos: str):
    client = Client()
    client.force_login(operadores[Rol.DIGITALIZADOR])
    datos = {"imagen": SimpleUploadedFile("escaneo.png", contenido), **campos}
    return client.post("/digitalizacion/", datos, HTTP_ACCEPT="application/json")


def huella(media: Path) -> tuple[int, int, int, int]:
    archivos = sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0
    return Acta.objects.count(), EventoActa.objects.count(), Imagen.objects.count(), archivos


def sha(contenido: bytes) -> str:
    return hashlib.sha256(contenido).hexdigest()


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "autorizacion",
    [None, "Digest abc", "Basic", "Basic !!no-es-base64!!", "Basic " + base64.b64encode(b"sin")
     .decode()],
    ids=["sin-encabezado", "otro-esquema", "vacio", "mal-codificado", "sin-dos-puntos"],
)  # fmt: skip
def test_a_request_without_basic_credentials_gets_401_with_a_challenge(
    operadores, eleccion, media, autorizacion
):
    antes = huella(media)
    response = enviar(acta(), autorizacion=autorizacion)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="openprep"'
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "faltan las credenciales del operador."
    assert "Bearer" in response.json()["que_hacer"]
    assert "HTTP Basic" in response.json()["que_hacer"]
    assert huella(media) == antes


def test_a_wrong_password_or_an_unknown_user_gets_401(operadores, eleccion, media):
    antes = huella(media)
    for autorizacion in (basic("op_digitalizador", "equivocada"), basic("nadie")):
        response = enviar(acta(), autorizacion=autorizacion)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="openprep"'
        assert response.json()["error"].startswith("usuario o contraseña incorrectos")
    assert huella(media) == antes


def test_repeated_wrong_passwords_lock_the_user_out_as_on_the_login_page(
    operadores, eleccion, media, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert enviar(acta(), autorizacion=basic("op_digitalizador", "mal")).status_code == 401
    response = enviar(acta(), autorizacion=basic("op_digitalizador", "mal"))
    assert response.status_code == 429

    # Locked: even the right password is refused, in JSON, and nothing is recorded.
    response = enviar(acta())
    assert response.status_code == 429
    assert response.json()["error"] == (
        "el usuario op_digitalizador está bloqueado por demasiados intentos fallidos."
    )
    assert huella(media) == (0, 0, 0, 0)
    # Another operator of the same phone network is not locked out.
    otro = registrar_operador(
        usuario="otro_digitalizador", rol=Rol.DIGITALIZADOR, clave=CONTRASENA,
        catd=operadores[Rol.DIGITALIZADOR].operador.catd,
    )  # fmt: skip
    assert enviar(acta(), autorizacion=basic(otro.user.username)).status_code == 201


@pytest.mark.parametrize("rol", sorted(set(Rol) - {Rol.DIGITALIZADOR}))
def test_other_roles_are_refused_with_403_in_spanish(operadores, eleccion, media, rol):
    antes = huella(media)
    response = enviar(acta(), autorizacion=basic(f"op_{rol.value}"))

    assert response.status_code == 403
    assert "esta acción requiere el rol digitalizador" in response.json()["error"]
    assert huella(media) == antes


def test_a_session_does_not_open_the_api(operadores, eleccion, media):
    """Only Basic credentials count: a browser's session cookie (which a hostile page could
    ride, the API having no CSRF token) does not."""
    client = Client()
    client.force_login(operadores[Rol.DIGITALIZADOR])

    response = enviar(acta(), autorizacion=None, client=client)
    assert response.status_code == 401
    assert huella(media) == (0, 0, 0, 0)


def test_the_api_needs_no_csrf_token_and_sets_no_session(operadores, eleccion):
    response = enviar(acta(), client=Client(enforce_csrf_checks=True))

    assert response.status_code == 201
    assert "sessionid" not in response.cookies


def test_the_api_only_accepts_post(operadores):
    response = Client().get(URL, HTTP_AUTHORIZATION=basic("op_digitalizador"))
    assert response.status_code == 405


# --- the app's token ----------------------------------------------------------------------------

SESION = "/api/casilla/v1/sesion/"


def token_de(usuario: str = "op_digitalizador", contrasena: str = CONTRASENA) -> str:
    response = Client().post(SESION, HTTP_AUTHORIZATION=basic(usuario, contrasena))
    assert response.status_code == 201, response.content
    return "Bearer " + response.json()["token"]


def test_a_password_buys_a_token_that_uploads_without_checking_the_password_again(
    operadores, eleccion, media
):
    antes = timezone.now()
    response = Client(enforce_csrf_checks=True).post(
        SESION, HTTP_AUTHORIZATION=basic("op_digitalizador")
    )

    assert response.status_code == 201
    datos = response.json()
    assert datos["tipo"] == "Bearer" and datos["usuario"] == "op_digitalizador"
    expira = datetime.fromisoformat(datos["expira"])
    assert timedelta(hours=23, minutes=59) < expira - antes <= timedelta(hours=24, minutes=1)
    assert "sessionid" not in response.cookies
    # Every upload with the token: no password hash computed (that is the point).
    with mock.patch.object(User, "check_password", side_effect=AssertionError("hash")):
        primera = enviar(acta(), autorizacion="Bearer " + datos["token"])
        segunda = enviar(acta(OTRA), autorizacion="Bearer " + datos["token"])
    assert (primera.status_code, segunda.status_code) == (201, 201)
    registrada = Acta.objects.get(clave_acta=CLAVE)
    assert (registrada.origen, registrada.digitalizacion) == ("CASILLA", "MOVIL")
    assert EventoActa.objects.filter(usuario=operadores[Rol.DIGITALIZADOR]).count() == 2
    assert huella(media)[2:] == (2, 2)


def test_the_token_is_settable_in_hours(operadores, settings):
    settings.OPENPREP_API_TOKEN_HORAS = 6
    antes = timezone.now()
    response = Client().post(SESION, HTTP_AUTHORIZATION=basic("op_digitalizador"))
    expira = datetime.fromisoformat(response.json()["expira"])
    assert timedelta(hours=5, minutes=59) < expira - antes <= timedelta(hours=6, minutes=1)


def test_an_expired_token_gets_401_saying_so(operadores, eleccion, media):
    # Issued 25 hours ago (the clock cannot be waited out in a test).
    hace = time.time() - 25 * 3600
    with mock.patch("django.core.signing.time.time", return_value=hace):
        vencido = token_de()
    antes = huella(media)

    response = enviar(acta(), autorizacion=vencido)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="openprep", error="invalid_token"'
    assert response.json()["error"] == "el token de la aplicación venció."
    assert SESION in response.json()["que_hacer"]
    assert huella(media) == antes


@pytest.mark.parametrize(
    "alterar",
    [
        lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),
        lambda t: t.replace("Bearer ", "Bearer x"),
        lambda t: "Bearer " + signing.TimestampSigner(salt="otro-uso").sign_object({"u": 1}),
        lambda t: "Bearer ",
    ],
    ids=["firma-alterada", "contenido-alterado", "firmado-para-otro-uso", "vacio"],
)
def test_a_tampered_or_foreign_token_gets_401(operadores, eleccion, media, alterar):
    antes = huella(media)
    response = enviar(acta(), autorizacion=alterar(token_de()))

    assert response.status_code == 401
    assert response.json()["error"].startswith("el token de la aplicación no es válido")
    assert huella(media) == antes


def test_a_new_password_or_a_deactivated_user_ends_the_token(operadores, eleccion, media):
    usuario = operadores[Rol.DIGITALIZADOR]
    token = token_de()
    usuario.set_password("otra-clave-de-prueba-larga")
    usuario.save()
    response = enviar(acta(), autorizacion=token)
    assert response.status_code == 401
    assert response.json()["error"].startswith("el token ya no es válido")

    token = token_de(contrasena="otra-clave-de-prueba-larga")
    assert enviar(acta(), autorizacion=token).status_code == 201
    usuario.is_active = False
    usuario.save()
    response = enviar(acta(OTRA), autorizacion=token)
    assert response.status_code == 401
    assert response.json()["error"].startswith("el token ya no es válido")
    assert Acta.objects.filter(clave_acta=OTRA).count() == 0


def test_a_token_does_not_outlive_the_role(operadores, eleccion, media):
    token = token_de()
    operador = operadores[Rol.DIGITALIZADOR].operador
    operador.rol = Rol.CAPTURISTA
    operador.save()

    response = enviar(acta(), autorizacion=token)
    assert response.status_code == 403
    assert huella(media) == (0, 0, 0, 0)


@pytest.mark.parametrize("rol", sorted(set(Rol) - {Rol.DIGITALIZADOR}))
def test_only_a_digitalizador_gets_a_token(operadores, rol):
    response = Client().post(SESION, HTTP_AUTHORIZATION=basic(f"op_{rol.value}"))
    assert response.status_code == 403
    assert "esta acción requiere el rol digitalizador" in response.json()["error"]


def test_a_token_needs_the_password_not_another_token(operadores):
    token = token_de()
    for autorizacion in (token, basic("op_digitalizador", "equivocada")):
        response = Client().post(SESION, HTTP_AUTHORIZATION=autorizacion)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Basic realm="openprep"'
    assert Client().get(SESION, HTTP_AUTHORIZATION=basic("op_digitalizador")).status_code == 405


def test_a_token_opens_no_console_screen(operadores, eleccion, media):
    """The token is for the API: the console's own digitalización screen ignores it."""
    response = Client().post(
        "/digitalizacion/",
        {"imagen": SimpleUploadedFile("foto.jpg", acta()), "clave_acta": CLAVE},
        HTTP_AUTHORIZATION=token_de(),
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/entrar/")
    assert huella(media) == (0, 0, 0, 0)


# --- uploads ------------------------------------------------------------------------------------


def test_a_casilla_photo_with_its_qr_code_is_recorded_as_the_api_says(operadores, eleccion, media):
    contenido = acta()
    response = enviar(contenido)

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
        "CASILLA",
        "MOVIL",
        "ACTA PREP",
    )
    evento = EventoActa.objects.get(acta=registrada)
    assert (evento.usuario.username, evento.catd) == ("op_digitalizador", "CATD-07")
    assert (media / "actas" / sha(contenido)[:2] / sha(contenido)).read_bytes() == contenido


def test_a_photo_without_qr_needs_the_typed_key(operadores, eleccion, media):
    sin_qr = acta(None)
    response = enviar(sin_qr)
    assert response.status_code == 400
    assert "no se encontró el código QR" in response.json()["error"]
    assert huella(media) == (0, 0, 0, 0)

    response = enviar(sin_qr, clave_acta=OTRA)
    assert response.status_code == 201
    assert (response.json()["clave_acta"], response.json()["identificada_por"]) == (OTRA, "clave")


@pytest.mark.parametrize(
    ("contenido", "campos", "status", "mensaje"),
    [
        (b"GIF89a no es un acta", {"clave_acta": CLAVE}, 400, "no es una imagen JPEG"),
        (acta(), {"clave_acta": OTRA}, 400, f"dice {CLAVE} y la clave escrita es {OTRA}"),
        (None, {}, 400, "no se recibió la imagen del acta."),
    ],
    ids=["no-es-imagen", "qr-y-clave-distintas", "sin-archivo"],
)
def test_errors_are_json_even_without_an_accept_header(
    operadores, eleccion, media, contenido, campos, status, mensaje
):
    response = enviar(contenido, **campos)

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error", "donde", "que_hacer", "mensaje"}
    assert mensaje in response.json()["error"]
    assert huella(media) == (0, 0, 0, 0)


def test_an_image_over_the_size_limit_gets_413_before_it_is_read(
    operadores, eleccion, media, settings
):
    settings.OPENPREP_IMAGEN_MAX_BYTES = 10_000
    response = enviar(acta())

    assert response.status_code == 413
    assert "el límite es" in response.json()["error"]
    assert huella(media) == (0, 0, 0, 0)


def test_a_request_far_over_the_limit_is_refused_from_its_length(
    operadores, eleccion, media, settings
):
    settings.OPENPREP_IMAGEN_MAX_BYTES = 1000
    response = enviar(b"\xff\xd8\xff" + bytes(200_000), clave_acta=CLAVE)

    assert response.status_code == 413
    assert "el límite es 0.0 MB" in response.json()["error"]
    assert huella(media) == (0, 0, 0, 0)


def test_the_same_photo_again_is_answered_200_with_the_same_body_and_no_new_event(
    operadores, eleccion
):
    contenido = acta()
    primera, segunda = enviar(contenido), enviar(contenido)

    assert (primera.status_code, segunda.status_code) == (201, 200)
    assert primera.json() == segunda.json()
    assert EventoActa.objects.count() == 1


def test_the_same_photo_claimed_for_another_acta_is_refused_naming_its_acta(
    operadores, eleccion, media
):
    contenido = acta(None)
    assert enviar(contenido, clave_acta=CLAVE).status_code == 201
    antes = huella(media)

    response = enviar(contenido, clave_acta=OTRA)
    assert response.status_code == 409
    assert f"ya está registrada para el acta {CLAVE}" in response.json()["error"]
    assert huella(media) == antes


# --- which image is published ---------------------------------------------------------------------


def test_a_catd_scan_after_the_casilla_photo_is_published_and_both_are_kept(operadores, eleccion):
    foto, escaneo = acta(variante="foto"), acta(variante="escaneo")
    assert enviar(foto).json()["publicada"] is True

    response = escanear(operadores, escaneo)
    assert response.status_code == 201
    assert response.json()["publicada"] is True

    registrada = Acta.objects.get(clave_acta=CLAVE)
    assert registrada.imagen_id == sha(escaneo)
    assert (registrada.origen, registrada.digitalizacion) == ("CATD", "ESCANER")
    assert set(Imagen.objects.values_list("sha256", flat=True)) == {sha(foto), sha(escaneo)}
    eventos = EventoActa.objects.filter(acta=registrada).order_by("id")
    assert [(e.datos["sha256"], e.datos["origen"]) for e in eventos] == [
        (sha(foto), "CASILLA"),
        (sha(escaneo), "CATD"),
    ]


def test_a_casilla_photo_after_the_catd_scan_is_kept_but_the_scan_stays_published(
    operadores, eleccion
):
    foto, escaneo = acta(None, variante="foto"), acta(variante="escaneo")
    assert escanear(operadores, escaneo).status_code == 201

    response = enviar(foto, clave_acta=CLAVE)
    assert response.status_code == 201
    assert response.json()["sha256"] == sha(foto)
    assert response.json()["publicada"] is False

    registrada = Acta.objects.get(clave_acta=CLAVE)
    assert registrada.imagen_id == sha(escaneo)
    assert (registrada.origen, registrada.digitalizacion) == ("CATD", "ESCANER")
    assert Imagen.objects.filter(sha256=sha(foto)).exists()
    assert EventoActa.objects.filter(acta=registrada).last().datos["publicada"] is False
    # Sent again, the kept photo is recognised as this acta's: same answer, nothing new …
    otra_vez = enviar(foto, clave_acta=CLAVE)
    assert (otra_vez.status_code, otra_vez.json()) == (200, response.json())
    assert EventoActa.objects.filter(acta=registrada).count() == 2
    # … and it cannot become another acta's image.
    response = enviar(foto, clave_acta=OTRA)
    assert response.status_code == 409
    assert f"ya está registrada para el acta {CLAVE}" in response.json()["error"]


def test_a_second_casilla_photo_replaces_the_first_while_there_is_no_scan(operadores, eleccion):
    primera, segunda = acta(variante="1"), acta(variante="2")
    assert enviar(primera).status_code == 201
    response = enviar(segunda)

    assert response.status_code == 201
    assert response.json()["publicada"] is True
    assert Acta.objects.get(clave_acta=CLAVE).imagen_id == sha(segunda)
