"""Verification screens: cotejo of disagreeing captures, SIN ACTA confirmation, and the
coordinator's corrections of verified actas."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from django.test import Client

from openprep.accounts.models import CATD, Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.capture.cotejo import cotejar
from openprep.capture.models import Asignacion, Captura
from openprep.capture.services import SeparacionDeFunciones, campos_del_acta, capturar
from openprep.core.model import MotivoSinActa
from openprep.intake.models import Acta, Estado, EventoActa
from openprep.intake.services import digitalizar, registrar_acopio, registrar_sin_acta

NIGHT = datetime(2024, 6, 2, 20, 0, tzinfo=timezone(timedelta(hours=-6)))
CLAVE = "230100B010002"
OTRA = "230101B010002"
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gente(db):
    catd = registrar_catd(clave="CATD-01", nombre="Chetumal")
    otra = registrar_catd(clave="CATD-02", nombre="Cancún")

    def persona(nombre: str, rol: Rol, en: CATD | None = catd, **extra):
        return registrar_operador(usuario=nombre, rol=rol, clave="x" * 12, catd=en, **extra).user

    personas = {
        rol.value: persona(f"op_{rol.value}", rol, None if rol == Rol.ADMINISTRADOR else catd)
        for rol in Rol
    }
    personas["capturista2"] = persona("capturista2", Rol.CAPTURISTA)
    personas["coordinador_otra"] = persona("coordinador_otra", Rol.COORDINADOR, otra)
    personas["coordinador_todas"] = persona(
        "coordinador_todas", Rol.COORDINADOR, otra, todas_las_catd=True
    )
    return personas


def como(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lectura(acta: Acta, **cambios: str) -> dict[str, str]:
    valores = {c: str(100 + i) for i, c in enumerate(campos_del_acta(acta))}
    valores.update(cambios)
    return valores


def capturada(eleccion, gente, clave=CLAVE, *, segunda=None, catd="CATD-01") -> Acta:
    """An acta received at ``catd``, scanned, and captured twice (the second capture
    differing by ``segunda``)."""
    registrar_acopio(
        eleccion=eleccion, clave_acta=clave, usuario=gente["acopiador"], catd=catd, cuando=NIGHT
    )
    acta = digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["digitalizador"],
        catd=catd,
        cuando=NIGHT,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=f"imagen de {clave}".encode(),
    )
    capturar(acta=acta, usuario=gente["capturista"], valores=lectura(acta), cuando=NIGHT)
    capturar(
        acta=acta,
        usuario=gente["capturista2"],
        valores=lectura(acta, **(segunda or {})),
        cuando=NIGHT + timedelta(minutes=1),
    )
    return acta


def verificada(eleccion, gente, clave=CLAVE, **kwargs) -> Acta:
    acta = capturada(eleccion, gente, clave, segunda={"PRI": "7"}, **kwargs)
    cotejar(
        acta=acta,
        usuario=gente["verificador"],
        decisiones={"PRI": lectura(acta)["PRI"]},
        cuando=NIGHT + timedelta(minutes=5),
    )
    acta.refresh_from_db()
    return acta


def conteos() -> tuple[int, int]:
    return Captura.objects.count(), EventoActa.objects.count()


# --- who may use it ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metodo", "ruta", "rol"),
    [
        ("get", "/verificacion/", Rol.VERIFICADOR),
        ("post", "/verificacion/siguiente/", Rol.VERIFICADOR),
        ("post", f"/verificacion/{CLAVE}/", Rol.VERIFICADOR),
        ("post", f"/verificacion/{CLAVE}/liberar/", Rol.VERIFICADOR),
        ("get", f"/coordinacion/correccion/{CLAVE}/", Rol.COORDINADOR),
        ("post", f"/coordinacion/correccion/{CLAVE}/", Rol.COORDINADOR),
    ],
)
def test_each_endpoint_is_for_its_role_only(gente, metodo, ruta, rol):
    assert getattr(Client(), metodo)(ruta).status_code == 302
    for otro in set(Rol) - {rol}:
        response = getattr(como(gente[otro.value]), metodo)(ruta)
        assert response.status_code == 403, otro
        assert f"esta acción requiere el rol {rol.label.lower()}" in response.content.decode()
    response = getattr(como(gente[rol.value]), metodo)(ruta, **JSON)
    assert response.status_code in (200, 204, 404), response.content


# --- cotejo --------------------------------------------------------------------------------


def test_a_verificador_sees_only_the_differing_fields_and_both_readings(eleccion, gente):
    acta = capturada(eleccion, gente, segunda={"NULOS": "ILEGIBLE", "PAN": "9"})
    client = como(gente["verificador"])

    response = client.post("/verificacion/siguiente/", **JSON)

    assert response.status_code == 200
    datos = response.json()
    primera = lectura(acta)
    assert datos["clave_acta"] == CLAVE
    assert datos["tipo"] == "COTEJO"
    assert datos["campos"] == ["PAN", "NULOS"]  # in the order of the sheet
    assert datos["capturas"] == [
        {"PAN": primera["PAN"], "NULOS": primera["NULOS"]},
        {"PAN": "9", "NULOS": "ILEGIBLE"},
    ]
    assert datos["imagen"] == f"/imagenes/{acta.imagen_id}/"
    pagina = client.get("/verificacion/").content.decode()
    assert f'<img src="/imagenes/{acta.imagen_id}/"' in pagina
    assert 'name="PAN"' in pagina and 'name="NULOS"' in pagina
    assert 'name="PRI"' not in pagina
    assert primera["PRI"] not in pagina  # agreeing fields are not shown


def test_cotejo_decides_the_differing_fields_and_records_both_readings(eleccion, gente):
    acta = capturada(eleccion, gente, segunda={"PAN": "9"})
    client = como(gente["verificador"])
    client.post("/verificacion/siguiente/", **JSON)

    response = client.post(f"/verificacion/{CLAVE}/", {"PAN": "10"}, **JSON)

    assert response.status_code == 200
    assert response.json() == {"clave_acta": CLAVE, "estado": "VERIFICADA"}
    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA
    assert acta.valores == lectura(acta, PAN="10")
    evento = EventoActa.objects.get(acta=acta, tipo="COTEJO")
    assert evento.usuario == gente["verificador"]
    assert evento.estado_nuevo == Estado.VERIFICADA
    assert evento.datos["campos"] == {
        "PAN": {"capturas": [lectura(acta)["PAN"], "9"], "decision": "10"}
    }
    assert acta.fecha_hora_verificacion == evento.cuando
    assert not Asignacion.objects.exists()


@pytest.mark.parametrize(
    ("datos", "texto"),
    [
        ({"PAN": "10", "PRI": "3"}, "PRI no están en desacuerdo"),
        ({}, "falta decidir PAN"),
        ({"PAN": "diez"}, "campo PAN: 'diez' no es válido"),
    ],
)
def test_cotejo_refuses_fields_that_do_not_disagree_and_bad_values(eleccion, gente, datos, texto):
    acta = capturada(eleccion, gente, segunda={"PAN": "9"})
    client = como(gente["verificador"])
    client.post("/verificacion/siguiente/", **JSON)
    antes = conteos()

    response = client.post(f"/verificacion/{CLAVE}/", datos, **JSON)

    assert response.status_code == 400
    assert texto in response.json()["mensaje"]
    assert conteos() == antes
    acta.refresh_from_db()
    assert acta.estado == Estado.CAPTURADA


def test_a_capturista_of_the_acta_cannot_cotejar_it(eleccion, gente):
    acta = capturada(eleccion, gente, segunda={"PAN": "9"})

    with pytest.raises(SeparacionDeFunciones, match="usted capturó el acta"):
        cotejar(acta=acta, usuario=gente["capturista2"], decisiones={"PAN": "9"}, cuando=NIGHT)
    # Nor through the queue, even after becoming a verificador.
    gente["capturista2"].operador.rol = Rol.VERIFICADOR
    gente["capturista2"].operador.save()
    client = como(gente["capturista2"])
    assert client.post("/verificacion/siguiente/", **JSON).status_code == 204
    response = client.post(f"/verificacion/{CLAVE}/", {"PAN": "9"}, **JSON)
    assert response.status_code == 409
    acta.refresh_from_db()
    assert acta.estado == Estado.CAPTURADA


def test_a_cotejo_for_an_acta_not_claimed_is_409(eleccion, gente):
    capturada(eleccion, gente, segunda={"PAN": "9"})
    response = como(gente["verificador"]).post(f"/verificacion/{CLAVE}/", {"PAN": "9"}, **JSON)
    assert response.status_code == 409
    assert "no le está asignada" in response.json()["mensaje"]


def test_after_a_cotejo_the_browser_is_shown_the_next_acta(eleccion, gente):
    capturada(eleccion, gente, segunda={"PAN": "9"})
    capturada(eleccion, gente, OTRA, segunda={"NULOS": "SIN DATO"})
    client = como(gente["verificador"])
    client.post("/verificacion/siguiente/")

    response = client.post(f"/verificacion/{CLAVE}/", {"PAN": "9"})

    assert response["Location"] == "/verificacion/"
    pagina = client.get("/verificacion/").content.decode()
    assert f"Acta <strong>{OTRA}</strong>" in pagina
    assert 'name="NULOS"' in pagina


# --- SIN ACTA ------------------------------------------------------------------------------


def sin_acta(eleccion, gente):
    return registrar_sin_acta(
        eleccion=eleccion,
        clave_acta=CLAVE,
        motivo=MotivoSinActa.PAQUETE_NO_ENTREGADO,
        usuario=gente["coordinador"],
        catd="CATD-01",
        cuando=NIGHT,
    )


def test_a_sin_acta_is_confirmed_by_a_verificador(eleccion, gente):
    acta = sin_acta(eleccion, gente)
    client = como(gente["verificador"])

    datos = client.post("/verificacion/siguiente/", **JSON).json()
    assert datos["tipo"] == "SIN_ACTA"
    assert datos["motivo"] == "PAQUETE_NO_ENTREGADO"
    assert datos["campos"] == [] and datos["capturas"] == []
    assert "Confirmar SIN ACTA" in client.get("/verificacion/").content.decode()

    response = client.post(f"/verificacion/{CLAVE}/", {"confirmar": "1"}, **JSON)

    assert response.status_code == 200
    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA
    evento = EventoActa.objects.get(acta=acta, tipo="VERIFICACION")
    assert evento.usuario == gente["verificador"]
    assert evento.datos == {"sin_acta": "PAQUETE_NO_ENTREGADO"}


def test_a_sin_acta_needs_an_explicit_confirmation(eleccion, gente):
    sin_acta(eleccion, gente)
    client = como(gente["verificador"])
    client.post("/verificacion/siguiente/", **JSON)
    antes = conteos()

    response = client.post(f"/verificacion/{CLAVE}/", {"PAN": "3"}, **JSON)

    assert response.status_code == 400
    assert "solo se confirma" in response.json()["mensaje"]
    assert conteos() == antes


# --- corrections after verification --------------------------------------------------------


def test_a_coordinator_of_the_catd_corrects_a_verified_acta_with_a_reason(eleccion, gente):
    acta = verificada(eleccion, gente)
    antes = dict(acta.valores)
    client = como(gente["coordinador"])

    response = client.post(
        f"/coordinacion/correccion/{CLAVE}/",
        {"MORENA": "55", "PAN": antes["PAN"], "motivo": "El 5 se leyó como 3."},
        **JSON,
    )

    assert response.status_code == 200
    assert response.json() == {"clave_acta": CLAVE, "estado": "VERIFICADA", "campos": ["MORENA"]}
    acta.refresh_from_db()
    assert acta.valores == {**antes, "MORENA": "55"}
    evento = EventoActa.objects.get(acta=acta, tipo="CORRECCION")
    assert evento.usuario == gente["coordinador"]
    assert evento.datos == {
        "motivo": "El 5 se leyó como 3.",
        "campos": {"MORENA": {"antes": antes["MORENA"], "despues": "55"}},
    }
    # Nothing earlier is overwritten: the cotejo event and both captures are intact.
    cotejo = EventoActa.objects.get(acta=acta, tipo="COTEJO")
    assert cotejo.datos["valores"]["MORENA"] == antes["MORENA"]
    assert {c.valores["MORENA"] for c in acta.capturas.all()} == {antes["MORENA"]}


def test_the_correction_form_shows_the_image_and_current_values(eleccion, gente):
    acta = verificada(eleccion, gente)
    texto = como(gente["coordinador"]).get(f"/coordinacion/correccion/{CLAVE}/").content.decode()
    assert f'<img src="/imagenes/{acta.imagen_id}/"' in texto
    assert f'name="MORENA" id="campo-MORENA" value="{acta.valores["MORENA"]}"' in texto
    assert 'name="motivo"' in texto


@pytest.mark.parametrize(
    ("datos", "texto"),
    [
        ({"MORENA": "55"}, "falta el motivo"),
        ({"MORENA": "55", "motivo": "   "}, "falta el motivo"),
        ({"motivo": "nada"}, "no cambia ningún valor"),
        ({"MORENA": "cincuenta", "motivo": "x"}, "campo MORENA"),
        ({"MORENA": "55", "VOTOS": "1", "motivo": "x"}, "VOTOS no corresponden a esta acta"),
    ],
)
def test_a_correction_needs_a_reason_and_valid_fields(eleccion, gente, datos, texto):
    verificada(eleccion, gente)
    antes = conteos()

    response = como(gente["coordinador"]).post(f"/coordinacion/correccion/{CLAVE}/", datos, **JSON)

    assert response.status_code == 400
    assert texto in response.json()["mensaje"]
    assert conteos() == antes


def test_only_a_coordinator_who_supervises_the_actas_catd_corrects_it(eleccion, gente):
    verificada(eleccion, gente)
    datos = {"MORENA": "55", "motivo": "error de lectura"}

    ajeno = como(gente["coordinador_otra"]).post(
        f"/coordinacion/correccion/{CLAVE}/", datos, **JSON
    )
    assert ajeno.status_code == 403
    assert "es de la CATD CATD-01, que usted no supervisa" in ajeno.json()["mensaje"]
    todas = como(gente["coordinador_todas"]).post(
        f"/coordinacion/correccion/{CLAVE}/", datos, **JSON
    )
    assert todas.status_code == 200


def test_the_casillas_catd_decides_over_where_the_acopio_was(eleccion, gente):
    acta = verificada(eleccion, gente)
    casilla = acta.esperada.casilla
    casilla.catd = CATD.objects.get(clave="CATD-02")
    casilla.save()

    response = como(gente["coordinador"]).get(f"/coordinacion/correccion/{CLAVE}/", **JSON)
    assert response.status_code == 403
    response = como(gente["coordinador_otra"]).get(f"/coordinacion/correccion/{CLAVE}/", **JSON)
    assert response.status_code == 200
    assert response.json()["valores"]["MORENA"] == acta.valores["MORENA"]


def test_an_acta_not_yet_verified_cannot_be_corrected(eleccion, gente):
    capturada(eleccion, gente, segunda={"PAN": "9"})
    client = como(gente["coordinador"])
    response = client.post(
        f"/coordinacion/correccion/{CLAVE}/", {"PAN": "9", "motivo": "x"}, **JSON
    )
    assert response.status_code == 409
    assert "no está verificada" in response.json()["mensaje"]
    assert client.get(f"/coordinacion/correccion/{CLAVE}/").status_code == 409


def test_correcting_an_unknown_acta_is_404(gente):
    response = como(gente["coordinador"]).get("/coordinacion/correccion/239999B010002/", **JSON)
    assert response.status_code == 404


def test_after_a_correction_the_browser_sees_the_new_values(eleccion, gente):
    verificada(eleccion, gente)
    client = como(gente["coordinador"])
    response = client.post(
        f"/coordinacion/correccion/{CLAVE}/",
        {"MORENA": "55", "motivo": "error de lectura"},
        follow=True,
    )
    texto = response.content.decode()
    assert f"Acta {CLAVE}: corregidos MORENA." in texto
    assert 'name="MORENA" id="campo-MORENA" value="55"' in texto
