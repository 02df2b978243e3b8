"""``openprep difusor add|list|habilitar|inhabilitar`` and ``openprep difusion status``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from openprep.difusion.models import Difusor, Incidente, TipoIncidente


@pytest.fixture(autouse=True)
def ajustes(settings, tmp_path):
    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "secretos.fernet"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPENPREP_PUBLICACION = tmp_path / "publicacion"


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_add_registers_every_field_and_list_shows_it(db, tmp_path):
    llave = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(llave)], check=True)
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n logo")
    salida = run(
        "difusor", "add", "--nombre", "Diario del Sureste", "--protocolo", "sftp",
        "--host", "prep.diario.mx", "--puerto", "2222", "--usuario", "prep",
        "--clave-ssh", str(llave), "--carpeta", "/srv/prep", "--contacto", "Ana, 999 111",
        "--enlace", "https://diario.mx/prep/", "--logo", str(logo),
    )  # fmt: skip
    assert "registrado" in salida
    d = Difusor.objects.get()
    assert (d.protocolo, d.host, d.puerto, d.usuario, d.carpeta) == (
        "sftp", "prep.diario.mx", 2222, "prep", "/srv/prep",
    )  # fmt: skip
    assert d.enlace == "https://diario.mx/prep/" and d.contacto == "Ana, 999 111"
    assert d.logo.read() == logo.read_bytes()
    assert "OPENSSH PRIVATE KEY" not in d.clave_ssh_cifrada
    [fila] = json.loads(run("difusor", "list", "--json"))
    assert fila["nombre"] == "Diario del Sureste" and fila["habilitado"] is True
    assert fila["ultimo_corte"] is None
    # Adding the same name again updates it (a new port), it does not duplicate it.
    run(
        "difusor", "add", "--nombre", "Diario del Sureste", "--protocolo", "sftp",
        "--host", "prep.diario.mx", "--usuario", "prep", "--clave-ssh", str(llave),
    )  # fmt: skip
    assert Difusor.objects.get().puerto == 22


@pytest.mark.parametrize(
    ("args", "mensaje"),
    [
        (["--protocolo", "sftp"], "dé una llave SSH privada o una contraseña"),
        (["--protocolo", "ftp"], "falta la contraseña"),
        (["--protocolo", "sftp", "--clave-ssh", "/no/existe"], "no se puede leer la llave"),
        (["--protocolo", "sftp", "--clave-ssh", "BASURA"], "no se puede leer"),
    ],
)
def test_add_refuses_incomplete_registrations_with_a_clear_message(db, tmp_path, args, mensaje):
    if "BASURA" in args:
        (tmp_path / "basura").write_text("no es una llave")
        args = [a if a != "BASURA" else str(tmp_path / "basura") for a in args]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openprep",
            "difusor",
            "add",
            "--nombre",
            "X",
            "--host",
            "h",
            "--usuario",
            "u",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENPREP_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 2, result.stderr
    assert mensaje in result.stderr and "Traceback" not in result.stderr


def test_an_administrator_can_suspend_and_re_enable_and_both_are_recorded(db, tmp_path):
    (tmp_path / "clave").write_text("secreta")
    run(
        "difusor", "add", "--nombre", "Radio", "--protocolo", "ftp", "--host", "h",
        "--usuario", "u", "--contrasena-archivo", str(tmp_path / "clave"),
    )  # fmt: skip
    run("difusor", "inhabilitar", "Radio", "--motivo", "Mantenimiento anunciado")
    assert not Difusor.objects.get().habilitado
    estado = json.loads(run("difusion", "status", "--json"))
    assert estado[0]["habilitado"] is False and estado[0]["fallas_consecutivas"] == 0
    run("difusor", "habilitar", "Radio")
    assert Difusor.objects.get().habilitado
    tipos = list(Incidente.objects.order_by("id").values_list("tipo", flat=True))
    assert tipos == [TipoIncidente.INHABILITADO, TipoIncidente.REHABILITADO]
