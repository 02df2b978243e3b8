"""The coordinator's dashboard, SIN ACTA and the PREP database download (issue deliverable 6)."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone as dj_timezone

from openprep.accounts.models import CATD, Rol
from openprep.accounts.services import registrar_operador
from openprep.capture.services import CaptureError, campos_del_acta, capturar, verificar
from openprep.catalog.models import Casilla, Eleccion
from openprep.coordinacion import alcance, metrics
from openprep.core.model import MotivoSinActa
from openprep.intake.models import Acta, Estado, EventoActa
from openprep.intake.services import digitalizar, registrar_acopio, registrar_sin_acta

pytestmark = pytest.mark.django_db

PAQUETE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"
CLAVE = "una-clave-de-prueba-larga"
CANCUN = timezone(timedelta(hours=-5))


@pytest.fixture(autouse=True)
def entorno(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def catalogo(db):
    """The documented example package; distrito 1 goes to CATD-01, distrito 2 to CATD-02."""
    call_command("catalog", "import", str(PAQUETE), stdout=StringIO())
    return {e.clave: e for e in Eleccion.objects.all()}


@pytest.fixture
def catds(catalogo):
    catds = {
        clave: CATD.objects.get_or_create(clave=clave, defaults={"nombre": nombre})[0]
        for clave, nombre in (("CATD-01", "Chetumal"), ("CATD-02", "Cancún"))
    }
    Casilla.objects.filter(id_distrito=1).update(catd=catds["CATD-01"])
    Casilla.objects.filter(id_distrito=2).update(catd=catds["CATD-02"])
    return catds


def operador(usuario: str, rol: Rol, catd, **grants):
    return registrar_operador(usuario=usuario, rol=rol, clave=CLAVE, catd=catd, **grants).user


@pytest.fixture
def gente(catds):
    """Separate people at Chetumal, and one coordinator per reach."""
    chetumal = catds["CATD-01"]
    return {
        "acopiador": operador("acopiador", Rol.ACOPIADOR, chetumal),
        "digitalizador": operador("digitalizador", Rol.DIGITALIZADOR, chetumal),
        "capturista1": operador("capturista1", Rol.CAPTURISTA, chetumal),
        "capturista2": operador("capturista2", Rol.CAPTURISTA, chetumal),
        "verificador": operador("verificador", Rol.VERIFICADOR, chetumal),
        "administrador": operador("administrador", Rol.ADMINISTRADOR, None),
        "coord_chetumal": operador("coord_chetumal", Rol.COORDINADOR, chetumal),
        "coord_cancun": operador("coord_cancun", Rol.COORDINADOR, catds["CATD-02"]),
        "coord_dos": operador(
            "coord_dos", Rol.COORDINADOR, chetumal, catds_adicionales=[catds["CATD-02"]]
        ),
        "coord_todas": operador("coord_todas", Rol.COORDINADOR, chetumal, todas_las_catd=True),
    }


def otro(rol: Rol, catds):
    """Someone else holding ``rol`` at Chetumal (an administrador at no CATD)."""
    return operador(
        f"otro_{rol.value}", rol, None if rol == Rol.ADMINISTRADOR else catds["CATD-01"]
    )


def como(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def figuras(user, **params) -> dict:
    response = como(user).get("/coordinacion/", params, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    return response.json()


# --- building a night through the services ------------------------------------------------


def valores(acta: Acta, **cambios: str) -> dict[str, str]:
    base = {campo: "10" for campo in campos_del_acta(acta)}
    base["TOTAL_BOLETAS_SOBRANTES"] = "300"
    base.update(cambios)
    return base


def recibida(eleccion, clave: str, gente, *, cuando: datetime, catd: str = "CATD-01") -> Acta:
    registrar_acopio(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["acopiador"],
        catd=catd,
        cuando=cuando,
        mecanismo_traslado="F",
    )
    return digitalizar(
        eleccion=eleccion,
        clave_acta=clave,
        usuario=gente["digitalizador"],
        catd=catd,
        cuando=cuando + timedelta(minutes=1),
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=f"imagen del acta {clave}".encode(),
    )


def capturada(acta: Acta, gente, *, cuando: datetime, segunda: dict | None = None, **cambios):
    """Two captures: the same values, or ``segunda`` changed in the second."""
    capturar(
        acta=acta, usuario=gente["capturista1"], valores=valores(acta, **cambios), cuando=cuando
    )
    capturar(
        acta=acta,
        usuario=gente["capturista2"],
        valores=valores(acta, **cambios, **(segunda or {})),
        cuando=cuando + timedelta(minutes=1),
    )


def verificada(acta: Acta, gente, *, cuando: datetime) -> None:
    """Verify the acta; two agreeing captures may already have verified it."""
    with contextlib.suppress(CaptureError):
        verificar(acta=acta, usuario=gente["verificador"], cuando=cuando)
    acta.refresh_from_db()
    assert acta.estado == Estado.VERIFICADA


@pytest.fixture
def noche(catalogo, gente):
    """A small night, ten minutes ago, with one acta of every kind.

    DIP, Chetumal: 85B counts; 85C all ILEGIBLE; 86E has one capture; 86E01 two that
    disagree. DIP, Cancún: 410B exceeds its lista nominal; 410S is SIN ACTA (not yet
    confirmed); 239999B fuera de catálogo, received at Cancún. AYUN, Chetumal: 85B
    received two hours ago and nothing since.
    """
    dip, ayun = catalogo["DIP"], catalogo["AYUN"]
    t = dj_timezone.now() - timedelta(minutes=10)
    cuenta = recibida(dip, "230085B010002", gente, cuando=t)
    capturada(cuenta, gente, cuando=t)
    verificada(cuenta, gente, cuando=t + timedelta(minutes=3))
    ilegible = recibida(dip, "230085C010002", gente, cuando=t)
    todos = {c: "ILEGIBLE" for c in ("PAN", "PRI", "MORENA", "C_PAN_PRI", "NO_REGISTRADOS")}
    capturada(ilegible, gente, cuando=t, NULOS="SIN DATO", **todos)
    verificada(ilegible, gente, cuando=t + timedelta(minutes=3))
    una = recibida(dip, "230086E010002", gente, cuando=t)
    capturar(acta=una, usuario=gente["capturista1"], valores=valores(una), cuando=t)
    difieren = recibida(dip, "230086E010102", gente, cuando=t)
    capturada(difieren, gente, cuando=t, segunda={"PAN": "11"})
    excede = recibida(dip, "230410B010002", gente, cuando=t, catd="CATD-02")
    capturada(excede, gente, cuando=t, MORENA="900")
    verificada(excede, gente, cuando=t + timedelta(minutes=3))
    registrar_sin_acta(
        eleccion=dip,
        clave_acta="230410S010003",
        motivo=MotivoSinActa.PAQUETE_NO_ENTREGADO,
        usuario=gente["coord_cancun"],
        catd="CATD-02",
        cuando=t,
    )
    registrar_acopio(
        eleccion=dip,
        clave_acta="239999B010002",
        usuario=gente["acopiador"],
        catd="CATD-02",
        cuando=t,
    )
    registrar_acopio(
        eleccion=ayun,
        clave_acta="230085B010004",
        usuario=gente["acopiador"],
        catd="CATD-01",
        cuando=t - timedelta(hours=2),
    )
    return t


def sin(d: dict, *claves: str) -> dict:
    return {k: v for k, v in d.items() if k not in claves}


CHETUMAL_DIP = {
    "esperadas": 4,
    "acopiadas": 4,
    "digitalizadas": 4,
    "capturadas": 4,
    "verificadas": 2,
    "contabilizadas": 1,
    "sin_acta": 0,
    "fuera_catalogo": 0,
}
CANCUN_DIP = {
    "esperadas": 2,
    "acopiadas": 2,
    "digitalizadas": 1,
    "capturadas": 2,
    "verificadas": 1,
    "contabilizadas": 0,
    "sin_acta": 1,
    "fuera_catalogo": 1,
}
CHETUMAL_AYUN = {
    "esperadas": 4,
    "acopiadas": 1,
    "digitalizadas": 0,
    "capturadas": 0,
    "verificadas": 0,
    "contabilizadas": 0,
    "sin_acta": 0,
    "fuera_catalogo": 0,
}


# --- the dashboard ----------------------------------------------------------------------------


def test_the_figures_equal_what_happened_that_night(noche, gente):
    datos = figuras(gente["coord_todas"])

    catds = {c["clave"]: c for c in datos["catds"]}
    assert set(catds) == {"CATD-01", "CATD-02"}
    assert catds["CATD-01"]["avance"]["DIP"] == CHETUMAL_DIP
    assert catds["CATD-02"]["avance"]["DIP"] == CANCUN_DIP
    assert catds["CATD-01"]["avance"]["AYUN"] == CHETUMAL_AYUN
    assert catds["CATD-02"]["avance"]["AYUN"]["esperadas"] == 1
    assert datos["total"]["avance"]["DIP"] == {
        k: CHETUMAL_DIP[k] + CANCUN_DIP[k] for k in CHETUMAL_DIP
    }
    assert catds["CATD-01"]["colas"] == {"captura": 1, "cotejo": 1, "sin_acta": 0}
    assert catds["CATD-02"]["colas"] == {"captura": 0, "cotejo": 0, "sin_acta": 1}
    assert datos["inconsistencias"] == {
        "EXCEDE_LISTA_NOMINAL": 1,
        "TODOS_ILEGIBLES_O_SIN_DATO": 1,
        "ALGUN_DATO_ILEGIBLE_O_SIN_DATO": 0,
        "SIN_ACTA_PAQUETE_NO_ENTREGADO": 1,
        "SIN_ACTA_CASILLA_NO_INSTALADA": 0,
        "SIN_ACTA_PAQUETE_SIN_SOBRE": 0,
        "SIN_ACTA_CONTINGENCIA": 0,
        "FUERA_CATALOGO": 1,
    }
    assert sum(h["actas"] for h in datos["verificadas_por_hora"]) == 3


def test_a_coordinator_sees_only_their_own_catd(noche, gente):
    datos = figuras(gente["coord_chetumal"])

    assert [c["clave"] for c in datos["catds"]] == ["CATD-01"]
    assert datos["total"]["avance"]["DIP"] == CHETUMAL_DIP
    assert datos["total"]["colas"] == {"captura": 1, "cotejo": 1, "sin_acta": 0}
    assert datos["inconsistencias"]["EXCEDE_LISTA_NOMINAL"] == 0  # Cancún's
    assert datos["inconsistencias"]["FUERA_CATALOGO"] == 0  # received at Cancún
    assert datos["inconsistencias"]["TODOS_ILEGIBLES_O_SIN_DATO"] == 1
    assert sum(h["actas"] for h in datos["verificadas_por_hora"]) == 2


def test_the_other_catds_coordinator_sees_only_theirs(noche, gente):
    datos = figuras(gente["coord_cancun"])

    assert [c["clave"] for c in datos["catds"]] == ["CATD-02"]
    assert datos["total"]["avance"]["DIP"] == CANCUN_DIP
    assert datos["inconsistencias"]["FUERA_CATALOGO"] == 1


def test_a_coordinator_granted_another_catd_sees_both(noche, gente):
    datos = figuras(gente["coord_dos"])

    assert [c["clave"] for c in datos["catds"]] == ["CATD-01", "CATD-02"]
    assert datos["total"]["avance"]["DIP"]["esperadas"] == 6
    assert datos["total"]["avance"]["DIP"]["verificadas"] == 3


def test_actas_idle_longer_than_the_limit_are_listed_as_stuck(noche, gente):
    datos = figuras(gente["coord_todas"])

    detenidas = datos["detenidas"]
    assert detenidas["total"] == 1
    [acta] = detenidas["actas"]
    assert (acta["clave_acta"], acta["eleccion"], acta["estado"], acta["catd"]) == (
        "230085B010004",
        "AYUN",
        "ACOPIADA",
        "CATD-01",
    )
    assert datetime.fromisoformat(acta["desde"]) == noche - timedelta(hours=2)


def test_a_shorter_limit_lists_every_unverified_acta_oldest_first(noche, gente):
    detenidas = figuras(gente["coord_todas"], minutos="5")["detenidas"]

    claves = [a["clave_acta"] for a in detenidas["actas"]]
    assert detenidas["total"] == 5
    assert claves[0] == "230085B010004"
    assert set(claves) == {
        "230085B010004",
        "230086E010002",
        "230086E010102",
        "230410S010003",
        "239999B010002",
    }
    sin_acta = next(a for a in detenidas["actas"] if a["clave_acta"] == "230410S010003")
    assert sin_acta["estado"] == "SIN ACTA"


def test_a_limit_that_is_not_a_number_of_minutes_is_refused_in_spanish(noche, gente):
    response = como(gente["coord_todas"]).get(
        "/coordinacion/", {"minutos": "media hora"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "minutos" in response.json()["mensaje"]


def test_verified_actas_are_counted_per_hour_of_the_institute(catalogo, gente):
    dip = catalogo["DIP"]
    horas = [
        ("230085B010002", datetime(2027, 6, 6, 20, 5, tzinfo=CANCUN)),
        ("230085C010002", datetime(2027, 6, 6, 20, 40, tzinfo=CANCUN)),
        ("230086E010002", datetime(2027, 6, 6, 22, 10, tzinfo=CANCUN)),
    ]
    for clave, cuando in horas:
        acta = recibida(dip, clave, gente, cuando=cuando - timedelta(minutes=5))
        capturada(acta, gente, cuando=cuando - timedelta(minutes=3))
        verificada(acta, gente, cuando=cuando)

    por_hora = figuras(gente["coord_todas"])["verificadas_por_hora"]

    assert [(datetime.fromisoformat(h["hora"]), h["actas"]) for h in por_hora] == [
        (datetime(2027, 6, 6, 20, tzinfo=CANCUN), 2),
        (datetime(2027, 6, 6, 21, tzinfo=CANCUN), 0),
        (datetime(2027, 6, 6, 22, tzinfo=CANCUN), 1),
    ]
    assert por_hora[0]["hora"].endswith("-05:00")


def test_an_acta_with_no_casilla_catd_belongs_to_the_catd_of_its_acopio(noche, gente, catalogo):
    Casilla.objects.update(catd=None)

    chetumal = figuras(gente["coord_chetumal"])["total"]["avance"]
    todas = {c["clave"]: c for c in figuras(gente["coord_todas"])["catds"]}

    assert chetumal["DIP"]["esperadas"] == 0  # the catalog assigns no CATD
    assert chetumal["DIP"]["acopiadas"] == 4
    assert chetumal["DIP"]["verificadas"] == 2
    assert chetumal["AYUN"]["acopiadas"] == 1
    # 410S never came through acopio: only a coordinator of every CATD sees it.
    assert todas[None]["nombre"] == "Sin CATD"
    assert todas[None]["avance"]["DIP"]["sin_acta"] == 1
    assert todas[None]["avance"]["DIP"]["esperadas"] == 6


@pytest.mark.parametrize("casillas_sin_catd", [False, True], ids=["catd-de-casilla", "de-acopio"])
def test_the_figures_do_not_depend_on_how_the_actas_are_found_and_read(
    noche, gente, monkeypatch, casillas_sin_catd
):
    """Small nights take the short paths (a coordinator's actas by id, few undecided actas
    by id); national ones the long ones (the CATD rule as a filter, every verified acta
    read in bulk). Each coordinator gets the same figures either way."""
    if casillas_sin_catd:
        Casilla.objects.update(catd=None)
    coordinadores = ("coord_todas", "coord_chetumal", "coord_cancun", "coord_dos")

    def todas() -> list[dict]:
        metrics._MEMO.contexto = None  # every acta decided again, by the path under test
        return [sin(figuras(gente[c]), "generado") for c in coordinadores]

    cortos = todas()
    monkeypatch.setattr(alcance, "MAX_IDS", 0)
    monkeypatch.setattr(metrics, "_MAX_IDS", 0)
    largos = todas()

    assert largos == cortos
    assert cortos[0]["total"]["avance"]["DIP"]["contabilizadas"] == 1
    assert cortos[1]["total"]["avance"]["DIP"]["verificadas"] == 2


def test_the_page_is_spanish_accessible_and_refreshes_itself(noche, gente, catds):
    response = como(gente["coord_todas"]).get("/coordinacion/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Cifras al" in html and "(UTC-5)" in html
    assert '<th scope="col">CATD</th>' in html
    assert f'<th scope="row">{catds["CATD-01"].nombre}</th>' in html
    assert "<caption>DIPUTACIONES LOCALES: actas por CATD</caption>" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert '<title id="verificadas-por-hora-titulo">Actas verificadas por hora</title>' in html
    assert "<caption>Actas verificadas por hora</caption>" in html  # the table fallback
    assert "230085B010004" in html  # stuck
    assert "coordinacion/tablero.js" in html
    assert 'id="actualizar"' in html
    assert "/coordinacion/base/DIP.csv" in html  # every CATD: may download


def test_a_coordinator_of_one_catd_is_not_offered_the_download(noche, gente, catds):
    html = como(gente["coord_chetumal"]).get("/coordinacion/").content.decode()
    assert "/coordinacion/base/" not in html
    assert catds["CATD-02"].nombre not in html


def test_the_number_of_queries_does_not_grow_with_the_actas(noche, gente, catalogo):
    client = como(gente["coord_todas"])
    with CaptureQueriesContext(connection) as antes:
        client.get("/coordinacion/", HTTP_ACCEPT="application/json")
    for clave in ("230085C010004", "230086E010004", "230410B010004"):
        acta = recibida(catalogo["AYUN"], clave, gente, cuando=noche)
        capturada(acta, gente, cuando=noche)
        verificada(acta, gente, cuando=noche)
    with CaptureQueriesContext(connection) as despues:
        client.get("/coordinacion/", HTTP_ACCEPT="application/json")
    # At most two more: the actas decided for the first time, and their casillas.
    assert len(despues) <= len(antes) + 2 < 25


@pytest.mark.parametrize("rol", [r for r in Rol if r != Rol.COORDINADOR])
def test_only_coordinators_see_the_dashboard(gente, catds, rol):
    user = operador(
        f"otro_{rol.value}", rol, None if rol == Rol.ADMINISTRADOR else catds["CATD-01"]
    )
    response = como(user).get("/coordinacion/")
    assert response.status_code == 403
    assert "requiere el rol coordinador" in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    for path in ("/coordinacion/", "/coordinacion/sin-acta/", "/coordinacion/base/DIP.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/entrar/")


# --- SIN ACTA ---------------------------------------------------------------------------------


def sin_acta(user, clave: str, motivo: str = "CASILLA_NO_INSTALADA", **extra):
    return como(user).post(
        "/coordinacion/sin-acta/",
        {"clave_acta": clave, "motivo": motivo, "mecanismo_traslado": "", **extra},
        HTTP_ACCEPT="application/json",
    )


def test_a_coordinator_marks_an_acta_of_their_catd_sin_acta(catalogo, gente):
    response = sin_acta(gente["coord_chetumal"], "230085b010002", mecanismo_traslado="D")

    assert response.status_code == 201
    assert response.json() == {"clave_acta": "230085B010002", "estado": "CAPTURADA"}
    acta = Acta.objects.get(clave_acta="230085B010002")
    assert acta.motivo_sin_acta == "CASILLA_NO_INSTALADA"
    assert acta.mecanismo_traslado == "D"
    evento = EventoActa.objects.get(acta=acta)
    assert (evento.tipo, evento.catd, evento.usuario) == (
        "SIN_ACTA",
        "CATD-01",
        gente["coord_chetumal"],
    )


def test_a_coordinator_of_another_catd_cannot_mark_it(catalogo, gente):
    response = sin_acta(gente["coord_cancun"], "230085B010002")

    assert response.status_code == 403
    assert "que usted no supervisa" in response.json()["mensaje"]
    assert not Acta.objects.exists()


def test_a_coordinator_granted_that_catd_can_mark_it(catalogo, gente):
    assert sin_acta(gente["coord_dos"], "230410B010002").status_code == 201
    assert sin_acta(gente["coord_todas"], "230410B010004").status_code == 201


def test_a_casilla_without_catd_may_be_marked_by_any_coordinator(catalogo, gente):
    Casilla.objects.update(catd=None)
    assert sin_acta(gente["coord_cancun"], "230085B010002").status_code == 201


@pytest.mark.parametrize(
    ("clave", "motivo", "status", "mensaje"),
    [
        ("239999B010002", "CASILLA_NO_INSTALADA", 400, "no está en el catálogo"),
        ("230085B010002", "SE_PERDIO", 400, "motivo 'SE_PERDIO' no es válido"),
        ("no-es-clave", "CASILLA_NO_INSTALADA", 400, "no es una CLAVE_ACTA"),
        ("", "CASILLA_NO_INSTALADA", 400, "falta la CLAVE_ACTA"),
    ],
)
def test_a_bad_sin_acta_is_refused_in_spanish_and_writes_nothing(
    catalogo, gente, clave, motivo, status, mensaje
):
    response = sin_acta(gente["coord_todas"], clave, motivo)

    assert response.status_code == status
    assert mensaje in response.json()["mensaje"]
    assert not Acta.objects.exists()
    assert not EventoActa.objects.exists()


def test_an_acta_with_an_image_cannot_be_marked_sin_acta(catalogo, gente):
    recibida(catalogo["DIP"], "230085B010002", gente, cuando=dj_timezone.now())

    response = sin_acta(gente["coord_chetumal"], "230085B010002")

    assert response.status_code == 400
    assert "ya tiene imagen o captura" in response.json()["mensaje"]
    assert not Acta.objects.get(clave_acta="230085B010002").motivo_sin_acta


def test_the_sin_acta_form_is_a_spanish_page_with_labelled_fields(catalogo, gente):
    client = como(gente["coord_chetumal"])
    html = client.get("/coordinacion/sin-acta/").content.decode()
    assert '<label for="clave_acta">CLAVE_ACTA</label>' in html
    assert '<option value="PAQUETE_SIN_SOBRE">Paquete entregado sin sobre</option>' in html

    response = client.post(
        "/coordinacion/sin-acta/", {"clave_acta": "230085B010002", "motivo": "CONTINGENCIA"}
    )
    assert response.status_code == 201
    assert "quedó registrada SIN ACTA" in response.content.decode()


@pytest.mark.parametrize("rol", [r for r in Rol if r != Rol.COORDINADOR])
def test_only_coordinators_mark_sin_acta(catalogo, catds, rol):
    user = operador(
        f"otro_{rol.value}", rol, None if rol == Rol.ADMINISTRADOR else catds["CATD-01"]
    )
    response = sin_acta(user, "230085B010002")
    assert response.status_code == 403
    assert not Acta.objects.exists()


# --- the PREP database download ----------------------------------------------------------------


def test_a_coordinator_of_every_catd_downloads_the_current_database(noche, gente):
    response = como(gente["coord_todas"]).get("/coordinacion/base/DIP.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="DIP.csv"' in response["Content-Disposition"]
    lines = response.content.decode("utf-8").split("\n")
    assert lines[:2] == ["sep=|", "DIPUTACIONES LOCALES"]
    assert lines[4].split("|")[:4] == ["6", "3", "0", "3"]  # esperadas, registradas, fuera, capt.
    claves = [line.split("|")[1] for line in lines[7:] if line]
    assert claves == ["230085B010002", "230085C010002", "230410B010002"]


def test_an_administrator_downloads_it_too(noche, gente):
    response = como(gente["administrador"]).get("/coordinacion/base/AYUN.csv")
    assert response.status_code == 200
    assert response.content.decode().split("\n")[1] == "AYUNTAMIENTOS"


def test_a_coordinator_of_some_catds_may_not_download_it(noche, gente):
    for user in (gente["coord_chetumal"], gente["coord_dos"]):
        response = como(user).get("/coordinacion/base/DIP.csv")
        assert response.status_code == 403
        assert "todas las CATD" in response.content.decode()


@pytest.mark.parametrize("rol", [Rol.ACOPIADOR, Rol.CAPTURISTA, Rol.VERIFICADOR])
def test_other_roles_may_not_download_it(catalogo, catds, rol):
    user = otro(rol, catds)
    assert como(user).get("/coordinacion/base/DIP.csv").status_code == 403


def test_an_unknown_election_is_not_found(catalogo, gente):
    response = como(gente["administrador"]).get(
        "/coordinacion/base/GUB.csv", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 404
    assert "GUB" in json.loads(response.content)["mensaje"]


def test_a_corrected_acta_is_decided_again(noche, gente):
    assert figuras(gente["coord_todas"])["total"]["avance"]["DIP"]["contabilizadas"] == 1
    acta = Acta.objects.get(clave_acta="230085B010002")
    Acta.objects.filter(pk=acta.pk).update(valores={**acta.valores, "MORENA": "900"})

    datos = figuras(gente["coord_todas"])

    assert datos["total"]["avance"]["DIP"]["contabilizadas"] == 0
    assert datos["inconsistencias"]["EXCEDE_LISTA_NOMINAL"] == 2
