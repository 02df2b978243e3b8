"""The capture screen and its JSON API (docs/api.md): queue, blind capture, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.capture.models import Asignacion, Captura
from openprep.capture.services import campos_del_acta
from openprep.intake.models import Acta, Estado, EventoActa
from openprep.intake.services import digitalizar, registrar_acopio

NIGHT = datetime(2024, 6, 2, 20, 0, tzinfo=timezone(timedelta(hours=-6)))
CLAVE = "230100B010002"
OTRA = "230101B010002"
CATD = "CATD-01"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gente(db):
    catd = registrar_catd(clave=CATD, nombre="Chetumal")
    personas = {
        rol.value: registrar_operador(
            usuario=f"op_{rol.value}",
            rol=rol,
            clave="x" * 12,
            catd=None if rol == Rol.ADMINISTRADOR else catd,
        ).user
        for rol in Rol
    }
    for nombre in ("capturista2", "capturista3"):
        personas[nombre] = registrar_operador(
            usuario=nombre, rol=Rol.CAPTURISTA, clave="x" * 12, catd=catd
        ).user
    return personas


def como(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def digitalizada(eleccion, gente, clave: str = CLAVE, *, minuto: int = 0) -> Acta:
    registrar_acopio(
        eleccion=eleccion, clave_acta=clave, usuario=gente["acopiador"], catd=CATD, cuando=NIGHT
    )
    acta = digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["digitalizador"],
        catd=CATD,
        cuando=NIGHT + timedelta(minutes=minuto),
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=f"imagen de {clave}".encode(),
    )
    Acta.objects.filter(pk=acta.pk).update(
        fecha_hora_digitalizacion=NIGHT + timedelta(minutes=minuto)
    )
    return acta


def lectura(acta: Acta, **cambios: str) -> dict[str, str]:
    """A capture with a distinctive number per field (so leaks are easy to see)."""
    valores = {c: str(4000 + i) for i, c in enumerate(campos_del_acta(acta))}
    valores.update(cambios)
    return valores


def siguiente(client: Client):
    return client.post("/captura/siguiente/", **JSON)


def conteos() -> tuple[int, int]:
    return Captura.objects.count(), EventoActa.objects.count()


# --- who may use it ------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/captura/"),
    ("post", "/captura/siguiente/"),
    ("post", f"/captura/{CLAVE}/"),
    ("post", f"/captura/{CLAVE}/liberar/"),
]


@pytest.mark.parametrize(("metodo", "ruta"), ENDPOINTS)
def test_only_capturistas_reach_the_capture_endpoints(gente, metodo, ruta):
    assert getattr(Client(), metodo)(ruta).status_code == 302  # anonymous: to the login
    for rol in set(Rol) - {Rol.CAPTURISTA}:
        response = getattr(como(gente[rol.value]), metodo)(ruta)
        assert response.status_code == 403, rol
        assert "esta acción requiere el rol capturista" in response.content.decode()
    response = getattr(como(gente["capturista"]), metodo)(ruta, **JSON)
    assert response.status_code in (200, 204, 404), response.content


def test_asking_for_the_next_acta_is_a_post(gente):
    assert como(gente["capturista"]).get("/captura/siguiente/").status_code == 405


# --- the queue through HTTP ----------------------------------------------------------------


def test_the_next_acta_comes_with_its_fields_image_and_deadline(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])

    response = siguiente(client)

    assert response.status_code == 200
    datos = response.json()
    assert datos["clave_acta"] == CLAVE
    assert datos["eleccion"] == "DIPUTACIONES LOCALES"
    assert datos["campos"] == list(campos_del_acta(acta))
    assert datos["imagen"] == f"/imagenes/{acta.imagen_id}/"
    assert datetime.fromisoformat(datos["asignada_hasta"]) > datetime.now(UTC)
    assert client.get("/captura/", **JSON).json()["clave_acta"] == CLAVE


def test_an_empty_queue_answers_204(gente):
    assert siguiente(como(gente["capturista"])).status_code == 204


def test_releasing_returns_the_acta_to_the_queue(eleccion, gente):
    digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)

    response = client.post(f"/captura/{CLAVE}/liberar/", **JSON)

    assert response.status_code == 200
    assert response.json()["clave_acta"] == CLAVE
    assert not Asignacion.objects.exists()
    assert siguiente(como(gente["capturista2"])).json()["clave_acta"] == CLAVE


# --- capture -------------------------------------------------------------------------------


def test_two_agreeing_blind_captures_verify_the_acta(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    uno, dos = como(gente["capturista"]), como(gente["capturista2"])
    siguiente(uno)

    primera = uno.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)
    assert primera.status_code == 201
    assert primera.json() == {
        "clave_acta": CLAVE,
        "estado": "CAPTURADA",
        "resultado": "PRIMERA_CAPTURA",
    }
    siguiente(dos)
    segunda = dos.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)

    assert segunda.status_code == 201
    assert segunda.json()["resultado"] == "VERIFICADA"
    assert segunda.json()["estado"] == "VERIFICADA"
    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA
    assert acta.valores == lectura(acta)
    primera_captura = Captura.objects.get(capturista=gente["capturista"])
    assert acta.fecha_hora_captura == primera_captura.cuando
    assert acta.fecha_hora_verificacion >= acta.fecha_hora_captura
    evento = EventoActa.objects.get(acta=acta, tipo="VERIFICACION")
    assert evento.datos["automatica"] is True
    assert evento.usuario == gente["capturista2"]
    assert evento.catd == CATD


def test_a_capture_can_claim_the_next_acta_in_the_same_request(eleccion, gente):
    acta = digitalizada(eleccion, gente, minuto=1)
    otra = digitalizada(eleccion, gente, OTRA, minuto=2)
    uno = como(gente["capturista"])
    siguiente(uno)

    response = uno.post(f"/captura/{CLAVE}/", {**lectura(acta), "siguiente": "1"}, **JSON)

    assert response.status_code == 201
    assert response.json()["siguiente"]["clave_acta"] == otra.clave_acta
    assert Asignacion.objects.get(usuario=gente["capturista"]).acta == otra
    ultima = uno.post(f"/captura/{OTRA}/", {**lectura(otra), "siguiente": "1"}, **JSON)
    assert ultima.json()["siguiente"] is None


def test_disagreeing_captures_wait_for_cotejo(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    uno, dos = como(gente["capturista"]), como(gente["capturista2"])
    siguiente(uno)
    uno.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)
    siguiente(dos)

    response = dos.post(f"/captura/{CLAVE}/", lectura(acta, PAN="17"), **JSON)

    assert response.status_code == 201
    assert response.json()["resultado"] == "COTEJO"
    assert response.json()["estado"] == "CAPTURADA"
    acta.refresh_from_db()
    assert acta.estado == Estado.CAPTURADA
    assert acta.fecha_hora_verificacion is None
    assert not EventoActa.objects.filter(acta=acta, tipo="VERIFICACION").exists()


def test_a_capturista_never_sees_another_capture(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    uno, dos = como(gente["capturista"]), como(gente["capturista2"])
    siguiente(uno)
    primera = lectura(acta)
    uno.post(f"/captura/{CLAVE}/", primera, **JSON)

    respuestas = [siguiente(dos), dos.get("/captura/", **JSON), dos.get("/captura/")]
    respuestas.append(dos.post(f"/captura/{CLAVE}/", lectura(acta, PAN="17"), **JSON))

    for response in respuestas:
        texto = response.content.decode()
        assert response.status_code in (200, 201)
        for valor in primera.values():
            assert valor not in texto, (valor, response.request["PATH_INFO"])


def test_posting_a_capture_for_an_acta_not_claimed_is_refused_with_409(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    digitalizada(eleccion, gente, OTRA, minuto=1)
    siguiente(como(gente["capturista2"]))  # holds CLAVE
    client = como(gente["capturista"])
    siguiente(client)  # holds OTRA

    response = client.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)

    assert response.status_code == 409
    assert "no le está asignada" in response.json()["mensaje"]
    assert Captura.objects.count() == 0


def test_an_unknown_acta_is_404(gente):
    response = como(gente["capturista"]).post("/captura/239999B010002/", {"PAN": "1"}, **JSON)
    assert response.status_code == 404
    assert "239999B010002" in response.json()["mensaje"]


def test_nobody_captures_an_acta_twice(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)
    client.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)
    # Even holding the acta again (as if by a stale claim), the second capture is refused.
    Asignacion.objects.create(
        acta=acta, usuario=gente["capturista"], tarea="CAPTURA", hasta=NIGHT + timedelta(days=9)
    )
    antes = conteos()

    response = client.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)

    assert response.status_code == 409
    assert "usted ya capturó el acta" in response.json()["mensaje"]
    assert conteos() == antes


@pytest.mark.parametrize(
    ("campo", "valor", "texto"),
    [
        ("PAN", "doce", "campo PAN: 'doce' no es válido"),
        ("PRI", "-3", "campo PRI: '-3' no es válido"),
        ("NULOS", "12.5", "campo NULOS: '12.5' no es válido"),
        ("MORENA", "25000", "campo MORENA: 25000 no es un valor posible"),
        ("TOTAL_PERSONAS_VOTARON", "", "campo TOTAL_PERSONAS_VOTARON: '' no es válido"),
    ],
)
def test_a_bad_value_is_refused_in_spanish_naming_the_field(eleccion, gente, campo, valor, texto):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)
    antes = conteos()

    response = client.post(f"/captura/{CLAVE}/", lectura(acta, **{campo: valor}), **JSON)

    assert response.status_code == 400
    assert texto in response.json()["mensaje"]
    assert conteos() == antes
    assert Asignacion.objects.filter(usuario=gente["capturista"]).exists()  # still theirs


def test_a_missing_or_extra_field_is_refused(eleccion, gente):
    acta = digitalizada(eleccion, gente, OTRA)  # CAND_IND_1 is not on this ballot
    client = como(gente["capturista"])
    siguiente(client)
    valores = lectura(acta)
    del valores["NULOS"]
    valores["CAND_IND_1"] = "3"
    antes = conteos()

    response = client.post(f"/captura/{OTRA}/", valores, **JSON)

    assert response.status_code == 400
    mensaje = response.json()["mensaje"]
    assert "faltan NULOS" in mensaje
    assert "no corresponden a esta acta CAND_IND_1" in mensaje
    assert conteos() == antes


def test_ilegible_and_sin_dato_are_typed_in_full_without_javascript(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)

    response = client.post(
        f"/captura/{CLAVE}/", lectura(acta, PAN="ilegible", NULOS="Sin dato"), **JSON
    )

    assert response.status_code == 201
    assert Captura.objects.get().valores["PAN"] == "ILEGIBLE"
    assert Captura.objects.get().valores["NULOS"] == "SIN DATO"


def sentencias(consultas) -> list[str]:
    """The statements a request sends; the savepoints are the test's own transaction's."""
    return [q["sql"] for q in consultas if "SAVEPOINT" not in q["sql"]]


def test_a_capture_post_takes_a_handful_of_queries(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    uno, dos = como(gente["capturista"]), como(gente["capturista2"])
    siguiente(uno)
    uno.post(f"/captura/{CLAVE}/", lectura(acta), **JSON)
    siguiente(dos)
    valores = lectura(acta)

    with CaptureQueriesContext(connection) as consultas:
        response = dos.post(f"/captura/{CLAVE}/", valores, **JSON)  # the heavier one

    assert response.json()["resultado"] == "VERIFICADA"
    assert len(sentencias(consultas)) <= 15, sentencias(consultas)


def test_asking_for_the_next_acta_takes_a_handful_of_queries(eleccion, gente):
    digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    client.get("/captura/")

    with CaptureQueriesContext(connection) as consultas:
        assert siguiente(client).status_code == 200

    assert len(sentencias(consultas)) <= 12, sentencias(consultas)


# --- the screen ----------------------------------------------------------------------------


def test_the_screen_shows_the_image_beside_the_fields_in_ballot_order_with_the_key_legend(
    eleccion, gente
):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)

    texto = client.get("/captura/").content.decode()

    assert f'<img src="/imagenes/{acta.imagen_id}/"' in texto
    posiciones = [texto.index(f'name="{c}"') for c in campos_del_acta(acta)]
    assert posiciones == sorted(posiciones)
    orden = ["PAN", "PRI", "MORENA", "C_PAN_PRI", "CAND_IND_1", "NO_REGISTRADOS", "NULOS"]
    assert [texto.index(f'name="{c}"') for c in orden] == sorted(
        texto.index(f'name="{c}"') for c in orden
    )
    for etiqueta in (
        "Boletas sobrantes",
        "Personas que votaron",
        "Representantes de partidos y de candidaturas independientes que votaron",
        "Votos sacados de la urna",
        "Candidaturas no registradas",
        "Votos nulos",
        "Total de votos asentado en el acta",
        "C_PAN_PRI (coalición)",
        "CAND_IND_1 (candidatura independiente)",
    ):
        assert f">{etiqueta}</label>" in texto, etiqueta
    assert "<kbd>I</kbd>: ILEGIBLE" in texto
    assert "<kbd>S</kbd>: SIN DATO" in texto
    assert "<kbd>Enter</kbd>: siguiente campo; en el último, enviar la captura." in texto
    assert "capture/captura.js" in texto
    assert client.get("/static/capture/captura.js").status_code == 200


def test_after_a_capture_the_browser_is_shown_the_next_acta(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    digitalizada(eleccion, gente, OTRA, minuto=1)
    client = como(gente["capturista"])
    assert client.post("/captura/siguiente/")["Location"] == "/captura/"

    response = client.post(f"/captura/{CLAVE}/", lectura(acta))

    assert response.status_code == 302
    assert response["Location"] == "/captura/"
    pagina = client.get("/captura/").content.decode()
    assert f"Acta <strong>{OTRA}</strong>" in pagina
    assert f"Acta {CLAVE} capturada." in pagina


def test_with_nothing_waiting_the_browser_is_told_so(gente):
    client = como(gente["capturista"])
    response = client.post("/captura/siguiente/", follow=True)
    assert "No hay actas esperando captura en este momento." in response.content.decode()


def test_a_typing_mistake_shows_the_same_acta_again_with_the_message(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)

    response = client.post(f"/captura/{CLAVE}/", lectura(acta, PRI="4o"))

    assert response.status_code == 400
    texto = response.content.decode()
    assert "campo PRI: &#x27;4o&#x27; no es válido" in texto
    assert 'value="4o"' in texto
    assert Captura.objects.count() == 0


def test_a_json_error_keeps_the_documented_shape(eleccion, gente):
    acta = digitalizada(eleccion, gente)
    client = como(gente["capturista"])
    siguiente(client)
    response = client.post(f"/captura/{CLAVE}/", lectura(acta, PAN="x"), **JSON)
    assert set(json.loads(response.content)) == {"error", "donde", "que_hacer", "mensaje"}
