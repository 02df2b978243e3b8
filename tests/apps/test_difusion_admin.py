"""The difusores' registry in the admin: secrets go in encrypted; standing changes are recorded."""

from __future__ import annotations

import pytest
from django.test import Client

from openprep.accounts.models import Rol
from openprep.accounts.services import registrar_operador
from openprep.difusion import secretos
from openprep.difusion.models import Difusor, Incidente, TipoIncidente


@pytest.fixture
def admin_client(db, settings, tmp_path):
    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "secretos.fernet"
    user = registrar_operador(
        usuario="admin1", rol=Rol.ADMINISTRADOR, clave="Una-clave-larga-1", catd=None
    ).user
    client = Client()
    client.force_login(user)
    return client


FORM = {
    "nombre": "Canal 10",
    "protocolo": "ftp",
    "host": "ftp.canal10.mx",
    "puerto": "21",
    "usuario": "prep",
    "carpeta": "prep",
    "llave_host": "",
    "contacto": "",
    "enlace": "https://canal10.mx/prep",
}


def test_an_administrator_registers_a_difusor_and_its_password_is_stored_encrypted(admin_client):
    response = admin_client.post(
        "/admin/difusion/difusor/add/", {**FORM, "contrasena": "secreta-1"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    difusor = Difusor.objects.get()
    assert "secreta-1" not in difusor.contrasena_cifrada
    assert secretos.descifrar(difusor.contrasena_cifrada, que="x") == "secreta-1"
    # Editing without a password keeps the stored one; the form never shows it.
    page = admin_client.get(f"/admin/difusion/difusor/{difusor.pk}/change/").content.decode()
    assert difusor.contrasena_cifrada not in page and "secreta-1" not in page
    admin_client.post(f"/admin/difusion/difusor/{difusor.pk}/change/", {**FORM, "puerto": "2121"})
    difusor.refresh_from_db()
    assert difusor.puerto == 2121
    assert secretos.descifrar(difusor.contrasena_cifrada, que="x") == "secreta-1"


def test_ftp_without_a_password_or_a_broken_ssh_key_is_refused(admin_client):
    response = admin_client.post("/admin/difusion/difusor/add/", FORM)
    assert "FTP y FTPS necesitan una contraseña" in response.content.decode()
    response = admin_client.post(
        "/admin/difusion/difusor/add/", {**FORM, "protocolo": "sftp", "clave_ssh": "basura"}
    )
    assert "no se puede leer" in response.content.decode()
    assert not Difusor.objects.exists()


def test_the_re_enable_action_is_recorded_with_who_did_it(admin_client):
    admin_client.post("/admin/difusion/difusor/add/", {**FORM, "contrasena": "s"})
    difusor = Difusor.objects.get()
    Difusor.objects.filter(pk=difusor.pk).update(habilitado=False, fallas_consecutivas=3)
    admin_client.post(
        "/admin/difusion/difusor/",
        {"action": "rehabilitar_difusores", "_selected_action": [difusor.pk]},
    )
    difusor.refresh_from_db()
    assert difusor.habilitado and difusor.fallas_consecutivas == 0
    incidente = Incidente.objects.get(tipo=TipoIncidente.REHABILITADO)
    assert incidente.usuario.username == "admin1"
