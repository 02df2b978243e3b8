"""The whole night through HTTP: a simulated package, imported, driven by ``simulate night``
against a live server on the test database, ends equal to its ground truth."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.testcases import LiveServerThread, _StaticFilesHandler

from openprep.intake.models import Acta, Estado, EventoActa, TipoEvento
from openprep.simulate.client import Operador
from openprep.simulate.night import leer_paquete_simulado
from openprep.simulate.package import write_package

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _OneRequestAtATime(_StaticFilesHandler):
    """SQLite's in-memory test database is one connection shared by the server's threads:
    its transactions must not interleave, so requests take turns (PostgreSQL needs none)."""

    turno = threading.Lock()

    def __call__(self, environ, start_response):
        with self.turno:
            return super().__call__(environ, start_response)


@pytest.fixture
def consola(transactional_db):
    """pytest-django's live server, serialized on SQLite's shared in-memory connection."""
    shared = {c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    handler = _OneRequestAtATime if shared else _StaticFilesHandler
    server = LiveServerThread("127.0.0.1", handler, connections_override=shared, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://127.0.0.1:{server.port}"
    server.terminate()
    for connection in shared.values():
        connection.dec_thread_sharing()


def paquete(tmp_path: Path, *, casillas: int, seed: int) -> Path:
    directorio = tmp_path / "paquete"
    write_package(out=directorio, casillas=casillas, seed=seed)
    call_command("catalog", "import", str(directorio), stdout=io.StringIO())
    return directorio


def simulate_night(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("simulate", "night", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


def test_a_night_through_http_ends_with_the_server_equal_to_the_truth(consola, tmp_path):
    directorio = paquete(tmp_path, casillas=40, seed=7)
    verdad = leer_paquete_simulado(directorio)

    code, output = simulate_night(
        "--server", consola, "--package", str(directorio), "--typos", "0.1", "--seed", "3"
    )

    assert code == 0, output
    assert "Igual a la verdad" in output
    assert "capturas/s" in output
    # The system state, not only the downloaded file: every acta of the truth is verified …
    assert Acta.objects.filter(estado=Estado.VERIFICADA).count() == len(verdad.filas)
    assert not Acta.objects.exclude(estado=Estado.VERIFICADA).exists()
    # … the typos went to cotejo and SIN ACTA was confirmed by a verificador.
    assert EventoActa.objects.filter(tipo=TipoEvento.COTEJO).exists()
    sin_acta = [f for f in verdad.filas if f.motivo_sin_acta]
    assert sin_acta, "the simulated package should hold SIN ACTA rows"
    for fila in sin_acta:
        assert Acta.objects.get(clave_acta=fila.clave_acta).motivo_sin_acta == fila.motivo_sin_acta


def test_a_corrected_value_is_reported_as_a_difference_naming_acta_and_field(consola, tmp_path):
    directorio = paquete(tmp_path, casillas=20, seed=11)
    code, output = simulate_night("--server", consola, "--package", str(directorio))
    assert code == 0, output
    verdad = leer_paquete_simulado(directorio)
    fila = next(
        f
        for f in verdad.filas
        if not f.motivo_sin_acta
        and f.celdas["CLAVE_CASILLA"] != "-"
        and f.celdas["NULOS"].isdigit()
    )
    coordinador = next(c for c in verdad.cuentas if c.rol == "coordinador" and c.catd == fila.catd)
    operador = Operador(consola, coordinador)
    operador.entrar()
    nuevo = str(int(fila.celdas["NULOS"]) + 5)
    operador.post(
        f"/coordinacion/correccion/{fila.clave_acta}/",
        data={"NULOS": nuevo, "motivo": "prueba: el coordinador corrige un valor"},
    )

    code, output = simulate_night("--server", consola, "--package", str(directorio), "--comparar")

    assert code == 1, output
    assert "Diferente de la verdad" in output
    assert fila.clave_acta in output
    assert "NULOS" in output
    assert nuevo in output


def test_an_unreachable_server_is_unusable_input_in_spanish(tmp_path):
    directorio = tmp_path / "paquete"
    write_package(out=directorio, casillas=20, seed=1)
    code, output = simulate_night("--server", "http://127.0.0.1:9", "--package", str(directorio))
    assert code == 2
    assert "no se pudo conectar" in output
