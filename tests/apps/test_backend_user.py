"""The user of a session, loaded with their operator profile and CATD (accounts.backends)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openprep.accounts.access import operador_de
from openprep.accounts.backends import OperadorBackend
from openprep.accounts.models import Operador, Rol
from openprep.accounts.services import registrar_catd, registrar_operador


def campos(objeto) -> dict:
    return {f.attname: getattr(objeto, f.attname) for f in type(objeto)._meta.concrete_fields}


@pytest.fixture
def gente(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    catd = registrar_catd(clave="CATD-01", nombre="Chetumal")
    capturista = registrar_operador(
        usuario="capturista", rol=Rol.CAPTURISTA, clave="x" * 12, catd=catd
    ).user
    admin = registrar_operador(
        usuario="admin", rol=Rol.ADMINISTRADOR, clave="x" * 12, catd=None
    ).user
    sin_rol = get_user_model().objects.create_user(username="sin_rol", password="x" * 12)
    return {"capturista": capturista, "admin": admin, "sin_rol": sin_rol}


@pytest.mark.parametrize("quien", ["capturista", "admin", "sin_rol"])
def test_the_session_user_is_the_orms_user_with_operator_and_catd_in_one_query(gente, quien):
    esperado = get_user_model().objects.get(pk=gente[quien].pk)

    with CaptureQueriesContext(connection) as consultas:
        user = OperadorBackend().get_user(gente[quien].pk)
        operador = operador_de(user)
        catd = operador.catd if operador is not None and operador.catd_id else None

    assert len(consultas) == 1
    assert campos(user) == campos(esperado)
    if quien == "sin_rol":
        assert operador is None
        return
    assert campos(operador) == campos(Operador.objects.get(user=esperado))
    assert operador.user is user
    if quien == "admin":
        assert catd is None
    else:
        assert catd.clave == "CATD-01"


def test_an_inactive_or_unknown_user_gets_no_session_user(gente):
    gente["capturista"].is_active = False
    gente["capturista"].save()

    assert OperadorBackend().get_user(gente["capturista"].pk) is None
    assert OperadorBackend().get_user(10**9) is None
