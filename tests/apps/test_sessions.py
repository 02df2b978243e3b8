"""The idle expiry of console sessions, written at most once a minute (accounts.sessions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_catd, registrar_operador
from openprep.accounts.sessions import REFRESCO

CLAVE = "una-clave-de-prueba-larga"


@pytest.fixture
def client_acopiador(db, settings) -> Client:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    catd = registrar_catd(clave="CATD-01", nombre="Chetumal")
    registrar_operador(usuario="op_acopiador", rol=Rol.ACOPIADOR, clave=CLAVE, catd=catd)
    client = Client()
    assert (
        client.post("/entrar/", {"username": "op_acopiador", "password": CLAVE}).status_code == 302
    )
    return client


def guardar_expiracion(client: Client, falta: timedelta) -> Session:
    """Set the stored expiry of the client's session to ``falta`` from now."""
    clave = client.session.session_key
    Session.objects.filter(session_key=clave).update(expire_date=timezone.now() + falta)
    return Session.objects.get(session_key=clave)


def escrituras_de_sesion(consultas) -> list[str]:
    return [q["sql"] for q in consultas if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_a_request_soon_after_the_last_refresh_writes_no_session(client_acopiador, settings):
    edad = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    antes = guardar_expiracion(client_acopiador, edad - REFRESCO / 2)

    with CaptureQueriesContext(connection) as consultas:
        response = client_acopiador.get("/acopio/")

    assert response.status_code == 200
    assert escrituras_de_sesion(consultas) == []
    assert "sessionid" not in response.cookies
    assert Session.objects.get(session_key=antes.session_key).expire_date == antes.expire_date


def test_a_request_a_minute_after_the_last_refresh_moves_the_expiry_forward(
    client_acopiador, settings
):
    edad = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    antes = guardar_expiracion(client_acopiador, edad - REFRESCO - timedelta(seconds=5))

    with CaptureQueriesContext(connection) as consultas:
        response = client_acopiador.get("/acopio/")

    assert response.status_code == 200
    assert len(escrituras_de_sesion(consultas)) == 1
    despues = Session.objects.get(session_key=antes.session_key).expire_date
    assert despues - timezone.now() > edad - timedelta(seconds=5)
    # Still a browser-session cookie: it dies when the browser closes.
    assert response.cookies["sessionid"]["max-age"] == ""


def test_the_expiry_after_any_request_is_within_a_minute_of_a_full_idle_period(
    client_acopiador, settings
):
    edad = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    for falta in (edad, edad - REFRESCO / 2, edad - REFRESCO * 2, timedelta(seconds=3)):
        clave = guardar_expiracion(client_acopiador, falta).session_key
        ahora = timezone.now()
        assert client_acopiador.get("/acopio/").status_code == 200
        expira = Session.objects.get(session_key=clave).expire_date
        # Never later than a write per request would leave it, at most a minute earlier.
        assert ahora + edad - REFRESCO - timedelta(seconds=1) <= expira
        assert expira <= timezone.now() + edad


def test_a_session_left_idle_expires_although_refreshes_are_throttled(client_acopiador, settings):
    edad = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    guardar_expiracion(client_acopiador, edad - REFRESCO / 2)
    assert client_acopiador.get("/acopio/").status_code == 200  # not written: too recent
    # The operator walks away; the stored expiry passes.
    guardar_expiracion(client_acopiador, -timedelta(seconds=1))

    response = client_acopiador.get("/acopio/")

    assert response.status_code == 302
    assert response["Location"] == "/entrar/?next=/acopio/"


def test_logging_out_still_ends_the_session(client_acopiador):
    clave = client_acopiador.session.session_key
    guardar_expiracion(client_acopiador, timedelta(minutes=29, seconds=50))

    client_acopiador.post("/salir/")

    assert not Session.objects.filter(session_key=clave).exists()
    assert client_acopiador.get("/acopio/").status_code == 302
