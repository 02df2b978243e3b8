"""`openprep worker` publishes on schedule and ends with a final corte."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from openprep.catalog.models import ActaEsperada, Proceso
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.publish.management.commands.worker import Command as Worker

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"


@pytest.fixture
def publicacion(db, tmp_path, settings):
    settings.OPENPREP_PUBLICACION = tmp_path / "publicacion"
    settings.OPENPREP_LLAVE_CORTE = tmp_path / "llaves" / "corte"
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    return tmp_path / "publicacion"


def manifest_of_latest(publicacion: Path) -> dict:
    latest = json.loads((publicacion / "latest.json").read_text())
    return json.loads((publicacion / latest["corte"] / "manifest.json").read_text())


def test_once_every_expected_acta_is_verified_the_next_corte_is_final_and_the_worker_stops(
    publicacion, acta_verificada
):
    for i, esperada in enumerate(ActaEsperada.objects.all()):
        acta_verificada(esperada, image=f"acta {i}".encode())
    out = StringIO()
    call_command("worker", "--intervalo-segundos", "1", stdout=out)
    assert "final" in out.getvalue()
    assert manifest_of_latest(publicacion)["final"] is True


def test_a_publication_whose_end_has_passed_publishes_nothing(publicacion):
    Proceso.objects.update(
        inicio_publicacion=timezone.now() - timedelta(hours=25),
        fin_publicacion=timezone.now() - timedelta(hours=1),
    )
    out = StringIO()
    call_command("worker", stdout=out)
    assert "ya concluyó" in out.getvalue()
    assert not (publicacion / "latest.json").exists()


def test_the_corte_at_the_configured_end_is_final(publicacion):
    worker = Worker(stdout=StringIO())
    fin = timezone.now()
    assert worker.publish(publicacion, hasta=fin, fin=fin) is True
    assert manifest_of_latest(publicacion)["final"] is True


def test_a_stop_request_interrupts_the_wait_between_cortes(db):
    worker = Worker(stdout=StringIO())
    worker.stop = threading.Event()
    threading.Timer(0.1, worker.stop.set).start()
    assert worker.wait_until(timezone.now() + timedelta(hours=1)) is False


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_every_corte_to_the_difusores_ending_with_the_final_one(
    publicacion, acta_verificada, tmp_path, settings
):
    from servidores_difusion import CONTRASENA, ServidorFTP

    from openprep.difusion.registro import registrar_difusor
    from openprep.publish.verify import check_publication

    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "secretos.fernet"
    for i, esperada in enumerate(ActaEsperada.objects.all()):
        acta_verificada(esperada, image=f"acta {i}".encode())
    servidor = ServidorFTP(tmp_path / "ftp").iniciar()
    try:
        mirror = servidor.cuenta("medio")
        registrar_difusor(
            nombre="Medio",
            protocolo="ftp",
            host="127.0.0.1",
            puerto=servidor.puerto,
            usuario="medio",
            contrasena=CONTRASENA,
        )
        out = StringIO()
        call_command("worker", "--intervalo-segundos", "1", stdout=out)
        assert "Difusor Medio: corte" in out.getvalue()
        assert (mirror / "latest.json").read_bytes() == (publicacion / "latest.json").read_bytes()
        assert manifest_of_latest(mirror)["final"] is True
        assert all(c.ok for c in check_publication(mirror))
        images = sorted(p.name for p in (publicacion / "imagenes").iterdir())
        assert sorted(p.name for p in (mirror / "imagenes").iterdir()) == images
    finally:
        servidor.detener()
