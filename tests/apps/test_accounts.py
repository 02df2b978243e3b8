"""Accounts, roles, CATDs and the access policy of every view (issue 3, deliverable 2)."""

from __future__ import annotations

import io
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import include, path
from django.utils import timezone
from django.views import View

from openprep.accounts import access
from openprep.accounts.access import (
    AccesoDenegado,
    catds_visibles,
    coordinator_can_see,
    public,
    require_role,
    roles,
)
from openprep.accounts.checks import check_access_policies, iter_views
from openprep.accounts.models import CATD, Operador, Rol
from openprep.accounts.services import registrar_catd, registrar_operador

CLAVE = "una-clave-de-prueba-larga"
SETTINGS_FILE = Path(access.__file__).resolve().parents[1] / "settings.py"

# What each page of the console allows, pinned here so that a changed declaration shows.
POLITICA_ESPERADA = {
    "": set(Rol),
    "acopio/": {Rol.ACOPIADOR},
    "digitalizacion/": {Rol.DIGITALIZADOR},
    "captura/": {Rol.CAPTURISTA},
    "verificacion/": {Rol.VERIFICADOR},
    "coordinacion/": {Rol.COORDINADOR},
    "administracion/": {Rol.ADMINISTRADOR},
    "imagenes/<str:sha256>/": {
        Rol.DIGITALIZADOR,
        Rol.CAPTURISTA,
        Rol.VERIFICADOR,
        Rol.COORDINADOR,
    },
    "api/casilla/v1/sesion/": {Rol.DIGITALIZADOR},
    "api/casilla/v1/actas/": {Rol.DIGITALIZADOR},
    "coordinacion/sin-acta/": {Rol.COORDINADOR},
    "admin/": {Rol.ADMINISTRADOR},
}
PUBLICAS = {"entrar/", "salir/", "admin/login/"}


def _sin_parametros(route: str) -> bool:
    return "<" not in route and "(" not in route and "^" not in route and "$" not in route


# Every view reachable without URL parameters, with the roles its policy allows.
RUTAS = [
    pytest.param(v.route, v.policy.roles, id=v.route or "/")
    for v in iter_views()
    if v.policy is not None
    and not v.policy.public
    and _sin_parametros(v.route)
    # An HTTP Basic endpoint (the PREP Casilla API) answers anonymous requests itself, with
    # 401 and a challenge: tests/apps/test_prep_casilla_api.py covers it.
    and getattr(v.callback, "login_required", True)
]


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catd(db) -> CATD:
    return registrar_catd(clave="CATD-01", nombre="Chetumal")


@pytest.fixture
def otra_catd(db) -> CATD:
    return registrar_catd(clave="CATD-02", nombre="Cancún")


@pytest.fixture
def operadores(catd):
    """One operator per role, all at CATD-01 (the administrador at none)."""
    return {
        rol: registrar_operador(
            usuario=f"op_{rol.value}",
            rol=rol,
            clave=CLAVE,
            catd=None if rol == Rol.ADMINISTRADOR else catd,
        ).user
        for rol in Rol
    }


def entrar(client: Client, usuario: str, clave: str = CLAVE):
    return client.post("/entrar/", {"username": usuario, "password": clave})


def como(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def es_rechazo_de_politica(response) -> bool:
    return (
        response.status_code == 403 and "esta acción requiere el rol" in response.content.decode()
    )


# --- login, logout, throttling ---------------------------------------------------------


def test_an_operator_logs_in_and_lands_on_the_page_of_their_role(client, operadores):
    response = entrar(client, "op_capturista")
    assert response.status_code == 302
    assert response["Location"] == "/"
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/captura/", 302)]
    assert response.status_code == 200
    texto = response.content.decode()
    assert '<html lang="es-MX">' in texto
    assert "<h1>Captura</h1>" in texto
    assert "CATD-01" in texto


def test_the_login_page_is_spanish_and_sends_back_where_the_operator_was_going(client, operadores):
    response = client.get("/verificacion/")
    assert response.status_code == 302
    assert response["Location"] == "/entrar/?next=/verificacion/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert '<label for="id_username">Usuario</label>' in page.content.decode()
    response = client.post(
        "/entrar/", {"username": "op_verificador", "password": CLAVE, "next": "/verificacion/"}
    )
    assert response["Location"] == "/verificacion/"


def test_a_wrong_password_is_refused_in_spanish(client, operadores):
    response = entrar(client, "op_capturista", "equivocada")
    assert response.status_code == 200
    assert "Por favor introduzca" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_form_requires_its_csrf_token(operadores):
    client = Client(enforce_csrf_checks=True)
    assert entrar(client, "op_capturista").status_code == 403
    token = client.get("/entrar/").context["csrf_token"]
    response = client.post(
        "/entrar/",
        {"username": "op_capturista", "password": CLAVE, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_logout_ends_the_session(client, operadores):
    entrar(client, "op_acopiador")
    assert client.get("/acopio/").status_code == 200
    clave_sesion = client.session.session_key
    response = client.post("/salir/")
    assert response.status_code == 302
    assert response["Location"] == "/entrar/"
    assert not Session.objects.filter(session_key=clave_sesion).exists()
    assert client.get("/acopio/")["Location"] == "/entrar/?next=/acopio/"


def test_logout_is_not_done_by_a_mere_link(client, operadores):
    entrar(client, "op_acopiador")
    assert client.get("/salir/").status_code == 405
    assert client.get("/acopio/").status_code == 200


def test_repeated_wrong_passwords_lock_the_username_out_with_a_spanish_message(
    client, operadores, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert entrar(client, "op_capturista", "equivocada").status_code == 200
    response = entrar(client, "op_capturista", "equivocada")
    assert response.status_code == 429
    texto = response.content.decode()
    assert "Demasiados intentos fallidos" in texto
    assert "op_capturista" in texto
    # Locked: even the right password is refused now, and nobody is logged in.
    response = entrar(client, "op_capturista")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is per username and address: a colleague at the same CATD still gets in.
    assert entrar(Client(), "op_verificador").status_code == 302


def test_the_lock_lifts_after_the_cool_off_time(client, operadores, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        entrar(client, "op_capturista", "equivocada")
    assert entrar(client, "op_capturista").status_code == 429
    # The failures happened longer ago than the cool-off time.
    hace = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    assert AccessAttempt.objects.update(attempt_time=hace) == 1
    assert entrar(client, "op_capturista").status_code == 302


# --- sessions ----------------------------------------------------------------------------


def test_sessions_expire_when_idle_and_at_browser_close(settings):
    from openprep import settings as project

    assert project.SESSION_COOKIE_AGE == 30 * 60
    # The idle expiry moves forward without a write per request (tests/apps/test_sessions.py).
    assert project.SESSION_SAVE_EVERY_REQUEST is False
    assert project.SESSION_ENGINE == "openprep.accounts.sessions"
    assert "openprep.accounts.sessions.SessionMiddleware" in project.MIDDLEWARE
    assert project.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert project.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_AGE == project.SESSION_COOKIE_AGE


def test_the_session_cookie_dies_with_the_browser(client, operadores):
    entrar(client, "op_acopiador")
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
    assert cookie["httponly"]


def test_an_idle_session_expires(client, operadores):
    entrar(client, "op_acopiador")
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/acopio/")
    assert response.status_code == 302
    assert response["Location"] == "/entrar/?next=/acopio/"


def test_each_request_moves_the_idle_expiry_forward(client, operadores, settings):
    entrar(client, "op_acopiador")
    clave_sesion = client.session.session_key
    Session.objects.filter(session_key=clave_sesion).update(
        expire_date=timezone.now() + timedelta(seconds=30)
    )
    assert client.get("/acopio/").status_code == 200
    restante = Session.objects.get(session_key=clave_sesion).expire_date - timezone.now()
    assert restante > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_secure_cookies_and_idle_timeout_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENPREP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OPENPREP_SECURE_COOKIES", raising=False)
    desarrollo = runpy.run_path(str(SETTINGS_FILE))
    assert desarrollo["SESSION_COOKIE_SECURE"] is False
    assert desarrollo["CSRF_COOKIE_SECURE"] is False
    monkeypatch.setenv("OPENPREP_SECURE_COOKIES", "1")
    monkeypatch.setenv("OPENPREP_SESSION_IDLE_MINUTES", "10")
    produccion = runpy.run_path(str(SETTINGS_FILE))
    assert produccion["SESSION_COOKIE_SECURE"] is True
    assert produccion["CSRF_COOKIE_SECURE"] is True
    assert produccion["SESSION_COOKIE_AGE"] == 600


# --- the policy of every view --------------------------------------------------------------


def test_the_console_pages_declare_the_expected_policies():
    declaradas = {v.route: v.policy for v in iter_views()}
    for route, esperados in POLITICA_ESPERADA.items():
        assert declaradas[route] is not None, route
        assert not declaradas[route].public, route
        assert declaradas[route].roles == frozenset(esperados), route
    for route in PUBLICAS:
        assert declaradas[route].public, route
    publicas = {route for route, policy in declaradas.items() if policy and policy.public}
    assert publicas == PUBLICAS


def test_every_admin_url_is_for_administrators_only():
    admin = [v for v in iter_views() if v.route.startswith("admin/") and v.route != "admin/login/"]
    assert len(admin) > 20  # the site's pages and every registered model's
    for view in admin:
        assert view.policy is not None, view.route
        assert view.policy.roles == {Rol.ADMINISTRADOR}, view.route


@pytest.mark.parametrize(("route", "permitidos"), RUTAS)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, route, permitidos):
    response = client.get(f"/{route}")
    assert response.status_code == 302
    assert response["Location"] == f"/entrar/?next=/{route}"


@pytest.mark.parametrize(("route", "permitidos"), RUTAS)
def test_roles_without_permission_get_403_in_spanish(operadores, route, permitidos):
    for rol in set(Rol) - permitidos:
        response = como(operadores[rol]).get(f"/{route}")
        assert response.status_code == 403, (route, rol)
        assert es_rechazo_de_politica(response), (route, rol)
        assert f"tiene el rol {rol.label.lower()}" in response.content.decode()


@pytest.mark.parametrize(("route", "permitidos"), RUTAS)
def test_the_roles_that_may_get_through(operadores, route, permitidos):
    for rol in permitidos:
        response = como(operadores[rol]).get(f"/{route}")
        assert not es_rechazo_de_politica(response), (route, rol)
        assert response.status_code in (200, 302, 403, 405), (route, rol)
        if response.status_code == 302:
            assert not response["Location"].startswith("/entrar/"), (route, rol)
        if route == "admin/" or (route.startswith("admin/") and route.count("/") == 3):
            # The admin's index and every model's list open for an administrador.
            assert response.status_code == 200, (route, rol)
        if not route.startswith("admin/") and response.status_code != 405:
            # The console's own pages: the landing page redirects, every other one shows
            # (an action that only accepts POST answers GET with 405).
            assert response.status_code == (302 if route == "" else 200), (route, rol)


@pytest.mark.parametrize("rol", list(Rol))
def test_the_landing_page_sends_each_role_to_its_own_page(operadores, rol):
    response = como(operadores[rol]).get("/")
    assert response.status_code == 302
    destino = response["Location"]
    assert POLITICA_ESPERADA[destino.strip("/") + "/"] == {rol}
    assert como(operadores[rol]).get(destino).status_code == 200


def test_a_user_without_a_role_gets_403_everywhere(db):
    sin_rol = get_user_model().objects.create_user("sin_rol", password=CLAVE)
    client = como(sin_rol)
    for route in ("", "captura/", "admin/"):
        response = client.get(f"/{route}")
        assert response.status_code == 403, route
        assert "no tiene un rol asignado" in response.content.decode()


def test_the_admin_is_open_to_administrators(operadores):
    client = como(operadores[Rol.ADMINISTRADOR])
    assert client.get("/admin/").status_code == 200
    response = client.get("/admin/accounts/operador/")
    assert response.status_code == 200
    assert "op_capturista" in response.content.decode()
    operador = Operador.objects.get(user=operadores[Rol.CAPTURISTA])
    assert client.get(f"/admin/accounts/operador/{operador.pk}/change/").status_code == 200


def test_the_admin_is_refused_to_every_other_role(operadores):
    operador = Operador.objects.get(user=operadores[Rol.CAPTURISTA])
    for rol in set(Rol) - {Rol.ADMINISTRADOR}:
        client = como(operadores[rol])
        for url in ("/admin/", f"/admin/accounts/operador/{operador.pk}/change/"):
            response = client.get(url)
            assert es_rechazo_de_politica(response), (rol, url)
        response = client.post(
            "/admin/accounts/catd/add/", {"clave": "CATD-99", "nombre": "Intrusa"}
        )
        assert response.status_code == 403, rol
    assert not CATD.objects.filter(clave="CATD-99").exists()


def test_the_admin_sends_anonymous_visitors_to_the_one_login_page(client, db):
    response = client.get("/admin/accounts/catd/")
    assert response["Location"] == "/entrar/?next=/admin/accounts/catd/"
    response = client.get("/admin/login/?next=/admin/accounts/catd/")
    assert response["Location"] == "/entrar/?next=/admin/accounts/catd/"


def test_a_django_superuser_without_the_administrador_role_is_refused_the_admin(db):
    root = get_user_model().objects.create_superuser("root", password=CLAVE)
    response = como(root).get("/admin/")
    assert response.status_code == 403
    assert "El usuario root no tiene un rol asignado" in response.content.decode()


def test_changing_an_administrators_role_takes_the_admin_away(operadores):
    user = operadores[Rol.ADMINISTRADOR]
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser
    operador = user.operador
    operador.rol = Rol.COORDINADOR
    operador.catd = CATD.objects.get(clave="CATD-01")
    operador.save()
    user.refresh_from_db()
    assert not user.is_staff and not user.is_superuser
    assert como(user).get("/admin/").status_code == 403


# --- the startup check -----------------------------------------------------------------------


def sin_politica(request):
    return HttpResponse("sin política")


class VistaSinPolitica(View):
    def get(self, request):
        return HttpResponse("sin política")


def test_the_project_urls_pass_the_startup_check(db):
    assert check_access_policies() == []
    call_command("check", stdout=io.StringIO())


def test_the_startup_check_names_every_view_without_a_policy():
    urlconf = ModuleType("urlconf_de_prueba")
    urlconf.urlpatterns = [
        path("abierta/", public(sin_politica), name="abierta"),
        path("captura/", roles(Rol.CAPTURISTA)(sin_politica), name="captura"),
        path("olvidada/", sin_politica, name="olvidada"),
        path(
            "api/",
            include(
                (
                    [
                        path("clase/", VistaSinPolitica.as_view(), name="clase"),
                        path("ok/", roles(Rol.ACOPIADOR)(VistaSinPolitica.as_view())),
                    ],
                    "api",
                )
            ),
        ),
    ]
    errors = check_access_policies(urlconf=urlconf)
    assert [e.id for e in errors] == ["openprep.E001", "openprep.E001"]
    assert all(isinstance(e, Error) for e in errors)
    assert [e.obj for e in errors] == ["olvidada", "api:clase"]
    assert "ruta 'olvidada/'" in errors[0].msg
    assert "ruta 'api/clase/'" in errors[1].msg
    assert "no declara su política de acceso" in errors[0].msg
    assert "@public o @roles" in errors[0].hint


def test_a_view_without_a_policy_stops_the_project_from_starting(settings, tmp_path, monkeypatch):
    (tmp_path / "urlconf_con_hueco.py").write_text(
        "from django.http import HttpResponse\n"
        "from django.urls import include, path\n"
        "import openprep.urls\n"
        "def nueva(request):\n"
        "    return HttpResponse('sin política')\n"
        "urlpatterns = [*openprep.urls.urlpatterns, path('nueva/', nueva)]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    settings.ROOT_URLCONF = "urlconf_con_hueco"
    with pytest.raises(SystemCheckError, match=r"openprep\.E001.*ruta 'nueva/'"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


def test_roles_needs_at_least_one_role():
    with pytest.raises(TypeError):
        roles()
    with pytest.raises(TypeError):
        roles("capturista")


# --- separation of duties for services -------------------------------------------------------


def test_require_role_refuses_other_roles_in_spanish(operadores):
    capturista = operadores[Rol.CAPTURISTA]
    assert require_role(capturista, Rol.CAPTURISTA).rol == Rol.CAPTURISTA
    with pytest.raises(AccesoDenegado) as exc:
        require_role(capturista, Rol.VERIFICADOR, Rol.COORDINADOR)
    assert exc.value.text == (
        "el usuario op_capturista tiene el rol capturista; esta acción requiere el rol "
        "verificador (cotejo) o coordinador de catd. "
        "Cada tarea la hace una persona distinta con su propio rol."
    )


def test_require_role_refuses_users_without_a_role_or_disabled(operadores, db):
    sin_rol = get_user_model().objects.create_user("sin_rol")
    with pytest.raises(AccesoDenegado, match="no tiene un rol asignado"):
        require_role(sin_rol, *Rol)
    capturista = operadores[Rol.CAPTURISTA]
    capturista.is_active = False
    with pytest.raises(AccesoDenegado):
        require_role(capturista, Rol.CAPTURISTA)


def test_a_coordinator_sees_only_their_catd_unless_granted_more(operadores, catd, otra_catd):
    coordinador = operadores[Rol.COORDINADOR]
    assert coordinator_can_see(coordinador, catd)
    assert coordinator_can_see(coordinador, "CATD-01")
    assert not coordinator_can_see(coordinador, otra_catd)
    assert list(catds_visibles(coordinador)) == [catd]

    coordinador.operador.catds_adicionales.add(otra_catd)
    assert coordinator_can_see(coordinador, otra_catd)

    tercera = registrar_catd(clave="CATD-03", nombre="Cozumel")
    assert not coordinator_can_see(coordinador, tercera)
    coordinador.operador.todas_las_catd = True
    coordinador.operador.save()
    assert coordinator_can_see(coordinador, tercera)
    assert set(catds_visibles(coordinador)) == {catd, otra_catd, tercera}


def test_only_coordinators_supervise_a_catd(operadores, catd):
    for rol in set(Rol) - {Rol.COORDINADOR}:
        assert not coordinator_can_see(operadores[rol], catd), rol
    assert list(catds_visibles(operadores[Rol.CAPTURISTA])) == [catd]
    assert list(catds_visibles(operadores[Rol.ADMINISTRADOR])) == []


def test_the_database_refuses_an_operator_at_no_catd(catd, db):
    user = get_user_model().objects.create_user("suelto")
    with pytest.raises(IntegrityError), transaction.atomic():
        Operador.objects.create(user=user, rol=Rol.CAPTURISTA, catd=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Operador.objects.create(user=user, rol=Rol.CAPTURISTA, catd=catd, todas_las_catd=True)


# --- commands --------------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def clave_archivo(tmp_path) -> Path:
    archivo = tmp_path / "clave.txt"
    archivo.write_text(CLAVE + "\n", encoding="utf-8")
    return archivo


def test_catd_add_registers_a_catd(db):
    code, out, _ = run("catd", "add", "--clave", "catd-07", "--nombre", "  Felipe   Carrillo ")
    assert code == 0
    assert out == "CATD registrada: CATD-07 – Felipe Carrillo\n"
    assert CATD.objects.get(clave="CATD-07").nombre == "Felipe Carrillo"


@pytest.mark.parametrize(
    ("args", "mensaje"),
    [
        (("catd", "add", "--clave", "CATD-01", "--nombre", "Otra"), "ya existe la CATD CATD-01"),
        (("catd", "add", "--clave", "CATD 1", "--nombre", "X"), "no es válida"),
        (("catd", "add", "--clave", "CATD-05"), "falta --nombre"),
        (("catd", "add", "--clave", "CATD-05", "--nombre", "  "), "no puede estar vacío"),
        (("catd", "borrar", "--clave", "CATD-01"), "acción 'borrar' desconocida"),
    ],
)
def test_catd_add_refuses_bad_input_in_spanish(catd, args, mensaje):
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
    assert mensaje in err
    assert CATD.objects.count() == 1


def test_operador_add_creates_a_user_with_a_hashed_password(catd, clave_archivo):
    code, out, err = run(
        "operador", "add", "--usuario", "maria", "--rol", "capturista", "--catd", "catd-01",
        "--clave-archivo", str(clave_archivo),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == "Operador registrado: maria, capturista en la CATD CATD-01.\n"
    user = get_user_model().objects.get(username="maria")
    assert CLAVE not in user.password
    assert user.check_password(CLAVE)
    assert (user.operador.rol, user.operador.catd) == (Rol.CAPTURISTA, catd)
    assert entrar(Client(), "maria").status_code == 302


def test_operador_add_prompts_for_the_password_twice(catd, monkeypatch):
    respuestas = iter([CLAVE, CLAVE])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(respuestas))
    monkeypatch.setattr("sys.stdin", SimpleNamespace(isatty=lambda: True))
    code, _, err = run(
        "operador", "add", "--usuario", "luis", "--rol", "acopiador", "--catd", "CATD-01"
    )
    assert (code, err) == (0, "")
    assert get_user_model().objects.get(username="luis").check_password(CLAVE)


def test_operador_add_refuses_two_different_typed_passwords(catd, monkeypatch):
    respuestas = iter([CLAVE, CLAVE + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(respuestas))
    monkeypatch.setattr("sys.stdin", SimpleNamespace(isatty=lambda: True))
    code, _, err = run(
        "operador", "add", "--usuario", "luis", "--rol", "acopiador", "--catd", "CATD-01"
    )
    assert code == 2
    assert "las contraseñas no coinciden" in err
    assert not get_user_model().objects.filter(username="luis").exists()


def test_operador_add_grants_a_coordinator_more_catds(catd, otra_catd, clave_archivo):
    code, _, err = run(
        "operador", "add", "--usuario", "coord", "--rol", "coordinador", "--catd", "CATD-01",
        "--catd-adicional", "CATD-02", "--clave-archivo", str(clave_archivo),
    )  # fmt: skip
    assert (code, err) == (0, "")
    coordinador = get_user_model().objects.get(username="coord")
    assert coordinator_can_see(coordinador, otra_catd)
    code, _, err = run(
        "operador", "add", "--usuario", "coord_general", "--rol", "coordinador",
        "--catd", "CATD-01", "--todas-las-catd", "--clave-archivo", str(clave_archivo),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert get_user_model().objects.get(username="coord_general").operador.todas_las_catd


def test_operador_add_makes_an_administrator_without_a_catd(db, clave_archivo):
    code, out, err = run(
        "operador", "add", "--usuario", "admin1", "--rol", "administrador",
        "--clave-archivo", str(clave_archivo),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == "Operador registrado: admin1, administrador.\n"
    assert como(get_user_model().objects.get(username="admin1")).get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("args", "mensaje"),
    [
        ("--usuario x --rol jefe --catd CATD-01", "el rol 'jefe' no existe"),
        ("--usuario x --rol capturista --catd CATD-09", "no existe la CATD CATD-09"),
        ("--usuario x --rol capturista", "debe asignarse a una CATD"),
        ("--rol capturista --catd CATD-01", "falta --usuario"),
        ("--usuario con|espacio --rol capturista --catd CATD-01", "no es válido"),
        ("--usuario op_capturista --rol capturista --catd CATD-01", "ya existe el usuario"),
        ("--usuario x --rol capturista --catd CATD-01 --todas-las-catd", "solo a un coordinador"),
        (
            "--usuario x --rol verificador --catd CATD-01 --catd-adicional CATD-01",
            "solo a un coordinador",
        ),
    ],
)
def test_operador_add_refuses_bad_input_in_spanish(operadores, clave_archivo, args, mensaje):
    antes = get_user_model().objects.count()
    args = [a.replace("|", " ") for a in args.split()]
    code, out, err = run("operador", "add", *args, "--clave-archivo", str(clave_archivo))
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
    assert mensaje in err
    assert get_user_model().objects.count() == antes


@pytest.mark.parametrize(
    ("contenido", "mensaje"),
    [
        ("1234567890123\n", "la contraseña no es aceptable: Esta contraseña es muy común."),
        ("corta-9c\n", "10 caracteres"),
        ("\nsegunda-linea-larga\n", "está vacío"),
        (None, "no se pudo leer el archivo de contraseña"),
    ],
)
def test_operador_add_refuses_a_bad_password_file(catd, tmp_path, contenido, mensaje):
    archivo = tmp_path / "clave.txt"
    if contenido is not None:
        archivo.write_text(contenido, encoding="utf-8")
    code, _, err = run(
        "operador", "add", "--usuario", "x", "--rol", "capturista", "--catd", "CATD-01",
        "--clave-archivo", str(archivo),
    )  # fmt: skip
    assert code == 2
    assert mensaje in err
    assert not get_user_model().objects.filter(username="x").exists()


def test_operador_add_without_a_terminal_asks_for_a_password_file(catd, monkeypatch):
    monkeypatch.setattr("sys.stdin", SimpleNamespace(isatty=lambda: False))
    code, _, err = run(
        "operador", "add", "--usuario", "x", "--rol", "capturista", "--catd", "CATD-01"
    )
    assert code == 2
    assert "Use --clave-archivo" in err


def test_the_commands_fail_in_spanish_without_a_traceback_from_a_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(OPENPREP_DATA_DIR=str(tmp_path / "var"), PYTHONIOENCODING="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "openprep", "operador", "add", "--usuario", "x", "--rol", "jefe"],
        capture_output=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: el rol 'jefe' no existe.")
    assert "Traceback" not in result.stderr


def test_a_request_loads_the_operator_and_catd_with_the_user(operadores, client):
    entrar(client, "op_acopiador")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/acopio/").status_code == 200
    tablas = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_operador" in tablas
    assert not any(
        q["sql"].lstrip().startswith('SELECT "accounts_operador"')
        or q["sql"].lstrip().startswith('SELECT "accounts_catd"')
        for q in queries.captured_queries
    )
