"""The difusores' status board: who may see it, and that its numbers are the rows' (issue 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.difusion.estado import HISTORIAL, atraso, estado_difusores
from openprep.difusion.models import Difusor, Entrega, Incidente, Resultado, TipoIncidente
from openprep.publish.folder import CORTES, Latest

T0 = datetime(2027, 6, 7, 2, 0, tzinfo=UTC)  # 2027-06-06 21:00 in UTC-5
CORTES_PUBLICADOS = ["20270606_210000", "20270606_211500", "20270606_213000", "20270606_214500"]


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def publicacion(settings, tmp_path) -> Path:
    """A publication folder with four cortes, the last one current."""
    carpeta = tmp_path / "publicacion"
    for corte in CORTES_PUBLICADOS:
        (carpeta / CORTES / corte).mkdir(parents=True)
    (carpeta / CORTES / ".parcial-20270606_220000").mkdir()  # a build in progress
    latest = Latest(
        corte=CORTES_PUBLICADOS[-1],
        numero=4,
        fecha_hora="2027/06/06 21:45 (UTC-5)",
        manifest_sha256="0" * 64,
    )
    (carpeta / "latest.json").write_bytes(latest.to_bytes())
    settings.OPENPREP_PUBLICACION = carpeta
    return carpeta


def _entrega(difusor, corte, *, resultado, minuto, segundos, bytes_, error="", intentos=1):
    inicio = T0 + timedelta(minutes=minuto)
    return Entrega.objects.create(
        difusor=difusor,
        corte=corte,
        resultado=resultado,
        inicio=inicio,
        fin=inicio + timedelta(seconds=segundos) if resultado != Resultado.PENDIENTE else None,
        intentos=intentos,
        archivos=10,
        bytes=bytes_,
        omitidos=3,
        error=error,
    )


@pytest.fixture
def difusores(db, publicacion):
    """Three difusores: one up to date, one two cortes behind and failing, one never served."""
    al_dia = Difusor.objects.create(
        nombre="Diario del Sureste",
        protocolo="sftp",
        host="sftp.diario.example",
        puerto=22,
        usuario="prep",
        ultimo_corte=CORTES_PUBLICADOS[-1],
    )
    for i, corte in enumerate(CORTES_PUBLICADOS):
        _entrega(al_dia, corte, resultado=Resultado.ENTREGADA, minuto=15 * i, segundos=12.5,
                 bytes_=1000 + i)  # fmt: skip
    atrasado = Difusor.objects.create(
        nombre="Radio Universidad",
        protocolo="ftp",
        host="ftp.uni.example",
        puerto=21,
        usuario="prep",
        ultimo_corte=CORTES_PUBLICADOS[1],
        fallas_consecutivas=2,
    )
    _entrega(atrasado, CORTES_PUBLICADOS[0], resultado=Resultado.ENTREGADA, minuto=0,
             segundos=30, bytes_=500)  # fmt: skip
    _entrega(atrasado, CORTES_PUBLICADOS[1], resultado=Resultado.ENTREGADA, minuto=15,
             segundos=40, bytes_=700)  # fmt: skip
    _entrega(atrasado, CORTES_PUBLICADOS[2], resultado=Resultado.FALLIDA, minuto=30,
             segundos=60, bytes_=50, error="530 Login incorrect.", intentos=3)  # fmt: skip
    _entrega(atrasado, CORTES_PUBLICADOS[3], resultado=Resultado.FALLIDA, minuto=45,
             segundos=60, bytes_=0, error="timed out <after 30 s>", intentos=3)  # fmt: skip
    nuevo = Difusor.objects.create(
        nombre="Canal 10",
        protocolo="ftps",
        host="ftp.canal10.example",
        puerto=21,
        usuario="prep",
        habilitado=False,
    )
    Incidente.objects.create(
        difusor=nuevo,
        tipo=TipoIncidente.SUSPENDIDO,
        corte=CORTES_PUBLICADOS[2],
        descripcion="Tres cortes seguidos sin entregar.",
    )
    return {"al_dia": al_dia, "atrasado": atrasado, "nuevo": nuevo}


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


# --- who may see it ------------------------------------------------------------------------


@pytest.mark.parametrize("rol", [Rol.ADMINISTRADOR, Rol.COORDINADOR])
def test_administrators_and_coordinators_see_the_board(operadores, difusores, rol):
    response = como(operadores[rol]).get("/difusion/")
    assert response.status_code == 200
    assert "<h1>Difusores oficiales</h1>" in response.content.decode()


@pytest.mark.parametrize(
    "rol", [r for r in Rol if r not in (Rol.ADMINISTRADOR, Rol.COORDINADOR)], ids=str
)
def test_other_roles_are_refused_in_spanish(operadores, publicacion, rol):
    response = como(operadores[rol]).get("/difusion/")
    assert response.status_code == 403
    assert f"tiene el rol {rol.label.lower()}" in response.content.decode()


def test_a_capturista_asking_for_json_is_refused_with_json(operadores, publicacion):
    response = como(operadores[Rol.CAPTURISTA]).get("/difusion/", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "capturista" in response.json()["mensaje"]


def test_anonymous_visitors_are_sent_to_the_login_page(client, db):
    response = client.get("/difusion/")
    assert response.status_code == 302
    assert response["Location"] == "/entrar/?next=/difusion/"


def test_a_user_without_a_role_is_refused(db, publicacion):
    sin_rol = get_user_model().objects.create_user("sin_rol")
    assert como(sin_rol).get("/difusion/").status_code == 403


def test_the_board_only_answers_get(operadores, publicacion):
    assert como(operadores[Rol.ADMINISTRADOR]).post("/difusion/").status_code == 405


@pytest.mark.parametrize("rol", [Rol.ADMINISTRADOR, Rol.COORDINADOR])
def test_the_dashboards_link_to_the_board(operadores, rol, publicacion):
    destino = "/administracion/" if rol == Rol.ADMINISTRADOR else "/coordinacion/"
    assert 'href="/difusion/"' in como(operadores[rol]).get(destino).content.decode()


# --- the figures -------------------------------------------------------------------------


def test_the_figures_come_from_the_rows_and_the_publication(difusores, publicacion):
    estados = {e.nombre: e for e in estado_difusores(publicacion=publicacion)}
    assert list(estados) == ["Canal 10", "Diario del Sureste", "Radio Universidad"]

    al_dia = estados["Diario del Sureste"]
    assert (al_dia.ultimo_corte, al_dia.cortes_atras, al_dia.minutos_atras) == (
        "20270606_214500", 0, 0
    )  # fmt: skip
    assert al_dia.bytes_ultima == 1003
    assert al_dia.bytes_total == 1000 + 1001 + 1002 + 1003
    assert al_dia.ultimo_error is None
    assert al_dia.entregas_ok == 4
    assert [h.corte for h in al_dia.historial] == CORTES_PUBLICADOS[::-1]
    assert al_dia.historial[0].segundos == 12.5

    atrasado = estados["Radio Universidad"]
    assert atrasado.ultimo_corte == "20270606_211500"
    assert (atrasado.cortes_atras, atrasado.minutos_atras) == (2, 30)
    assert atrasado.fallas_consecutivas == 2
    assert atrasado.bytes_ultima == 700  # the last successful delivery
    assert atrasado.bytes_total == 500 + 700 + 50
    assert atrasado.ultimo_error == "timed out <after 30 s>"
    assert atrasado.ultimo_error_corte == "20270606_214500"
    assert (atrasado.entregas_ok, atrasado.entregas_fallidas) == (2, 2)

    nuevo = estados["Canal 10"]
    assert nuevo.habilitado is False
    assert nuevo.ultimo_corte is None
    assert (nuevo.cortes_atras, nuevo.minutos_atras) == (4, None)
    assert nuevo.bytes_ultima is None and nuevo.bytes_total == 0
    assert [i.tipo for i in nuevo.incidentes] == ["suspendido"]


def test_the_history_keeps_the_last_twenty_deliveries(difusores, publicacion):
    difusor = difusores["nuevo"]
    for i in range(HISTORIAL + 5):
        _entrega(difusor, f"corte_{i:03d}", resultado=Resultado.ENTREGADA, minuto=i,
                 segundos=1, bytes_=1)  # fmt: skip
    (estado,) = [e for e in estado_difusores(publicacion=publicacion) if e.nombre == "Canal 10"]
    assert len(estado.historial) == HISTORIAL
    assert estado.historial[0].corte == f"corte_{HISTORIAL + 4:03d}"
    assert estado.bytes_total == HISTORIAL + 5


def test_before_the_first_corte_the_lag_is_unknown(db, tmp_path, difusores):
    estados = estado_difusores(publicacion=tmp_path / "vacia")
    assert all(e.cortes_atras is None and e.minutos_atras is None for e in estados)
    assert all(e.corte_vigente is None for e in estados)


@pytest.mark.parametrize(
    ("ultimo", "esperado"),
    [
        ("20270606_214500", (0, 0)),
        ("20270606_213000", (1, 15)),
        ("20270606_210000", (3, 45)),
        (None, (4, None)),
    ],
)
def test_the_lag_counts_the_cortes_published_after_the_last_delivered(ultimo, esperado):
    assert atraso(ultimo=ultimo, vigente=CORTES_PUBLICADOS[-1], publicados=CORTES_PUBLICADOS) == (
        esperado
    )


def _celdas(html: str, nombre: str) -> list[str]:
    """The cells of the summary row of one difusor, as text."""
    resumen = html.split('<table id="resumen">', 1)[1].split("</table>", 1)[0]
    for fila in re.findall(r"<tr>(.*?)</tr>", resumen, re.S):
        celdas = [unescape(re.sub(r"<[^>]+>", "", c)).strip()
                  for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", fila, re.S)]  # fmt: skip
        if celdas and celdas[0] == nombre:
            return celdas
    raise AssertionError(f"no row for {nombre}")


def test_the_page_shows_the_numbers_of_the_rows(operadores, difusores, publicacion):
    html = como(operadores[Rol.COORDINADOR]).get("/difusion/").content.decode()
    assert _celdas(html, "Radio Universidad") == [
        "Radio Universidad", "FTP", "ftp.uni.example", "Habilitado", "2", "20270606_211500",
        "2", "30", "700", "1250", "timed out <after 30 s> (corte 20270606_214500)",
    ]  # fmt: skip
    assert _celdas(html, "Canal 10") == [
        "Canal 10", "FTPS", "ftp.canal10.example", "Suspendido", "0", "Ninguno",
        "4", "—", "—", "0", "Ninguno",
    ]  # fmt: skip
    assert "timed out &lt;after 30 s&gt;" in html  # escaped, never markup
    assert "Corte vigente de la publicación: <strong>20270606_214500</strong>" in html
    assert "al día: 1; suspendidos o inhabilitados: 1" in html
    # the history: one row per delivery, with its duration, result and attempts
    assert "Radio Universidad: últimas 4 entregas" in html
    assert "530 Login incorrect." in html
    assert "Tres cortes seguidos sin entregar." in html
    assert re.search(r"<td class=\"n\">60\.0</td>", html)


def test_the_board_answers_json_when_asked(operadores, difusores, publicacion):
    response = como(operadores[Rol.ADMINISTRADOR]).get("/difusion/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    datos = response.json()
    assert datos["corte_vigente"] == "20270606_214500"
    assert [d["nombre"] for d in datos["difusores"]] == [
        "Canal 10", "Diario del Sureste", "Radio Universidad"
    ]  # fmt: skip
    radio = datos["difusores"][2]
    assert radio["habilitado"] is True
    assert radio["fallas_consecutivas"] == 2
    assert radio["ultimo_corte"] == "20270606_211500"
    assert (radio["cortes_atras"], radio["minutos_atras"]) == (2, 30)
    assert radio["bytes_total"] == 1250
    ultima = radio["historial"][0]
    assert ultima["corte"] == "20270606_214500"
    assert ultima["resultado"] == "fallida"
    assert ultima["intentos"] == 3
    assert ultima["segundos"] == 60.0
    assert datetime.fromisoformat(ultima["inicio"]) == T0 + timedelta(minutes=45)
    assert datos["difusores"][0]["ultimo_corte"] is None
    incidente = datos["difusores"][0]["incidentes"][0]
    assert incidente["tipo"] == "suspendido" and incidente["corte"] == "20270606_213000"


def test_the_board_works_before_any_difusor_or_corte(operadores, settings, tmp_path):
    settings.OPENPREP_PUBLICACION = tmp_path / "no-existe"
    response = como(operadores[Rol.ADMINISTRADOR]).get("/difusion/")
    assert response.status_code == 200
    assert "No hay difusores registrados" in response.content.decode()
    datos = (
        como(operadores[Rol.ADMINISTRADOR]).get("/difusion/", HTTP_ACCEPT="application/json").json()
    )
    assert datos["difusores"] == [] and datos["corte_vigente"] is None
