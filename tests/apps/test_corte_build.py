"""`openprep corte build` publishes a signed corte that `openprep verify` accepts."""

from __future__ import annotations

import functools
import json
import threading
import time
import zipfile
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from openprep.capture.services import campos_del_acta, capturar, verificar
from openprep.catalog.models import ActaEsperada
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.intake.models import Estado
from openprep.intake.services import digitalizar, registrar_acopio

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"


@pytest.fixture
def publicacion(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPENPREP_PUBLICACION = tmp_path / "publicacion"
    settings.OPENPREP_LLAVE_CORTE = tmp_path / "llaves" / "corte"
    settings.OPENPREP_FIRMANTE = "prep@ieqroo"
    return tmp_path / "publicacion"


@pytest.fixture
def catalogo(db):
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    return paquete.proceso


def verified_acta(esperada: ActaEsperada, *, image: bytes):
    """An acta taken through acopio, digitalización and two agreeing captures."""
    people = [get_user_model().objects.get_or_create(username=n)[0] for n in ("a", "b", "c", "v")]
    ahora = timezone.now() - timedelta(minutes=1)
    clave = esperada.clave_acta
    acta = registrar_acopio(
        eleccion=esperada.eleccion, clave_acta=clave, usuario=people[0], catd="C1", cuando=ahora
    )
    digitalizar(
        eleccion=esperada.eleccion,
        clave_acta=clave,
        usuario=people[0],
        catd="C1",
        cuando=ahora,
        origen="CATD",
        digitalizacion="ESCANER",
        tipo_documento="ACTA PREP",
        contenido=image,
    )
    valores = {c: "7" for c in campos_del_acta(acta)}
    for person in people[1:3]:
        capturar(acta=acta, usuario=person, valores=valores, cuando=ahora)
    acta.refresh_from_db()
    if acta.estado != Estado.VERIFICADA:
        verificar(acta=acta, usuario=people[3], cuando=ahora)
    return acta


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=out)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue()
    return 0, out.getvalue()


def test_a_corte_is_built_signed_and_verified(publicacion, catalogo):
    for i, esperada in enumerate(ActaEsperada.objects.order_by("id")[:3]):
        verified_acta(esperada, image=f"acta {i}".encode())
    assert run("corte", "build")[0] == 0
    code, output = run("corte", "build")
    assert code == 2 and "ya está publicado" in output  # the same second: cortes never change
    time.sleep(1.05)
    assert run("corte", "build", "--publicacion", str(publicacion))[0] == 0
    code, output = run("verify", str(publicacion))
    assert code == 0, output
    assert "Verificado" in output and output.count("consistente con las reglas") == 2
    latest = json.loads((publicacion / "latest.json").read_text())
    folder = publicacion / latest["corte"]
    zips = sorted((folder / "descargas").glob("*.zip"))
    assert [z.name.split("_PREP_")[1] for z in zips] == ["AYUN.zip", "DIP.zip"]
    images = sorted(p.name for p in (publicacion / "imagenes").iterdir())
    assert len(images) == 3


def test_verify_fails_on_a_tampered_database(publicacion, catalogo):
    verified_acta(ActaEsperada.objects.order_by("id").first(), image=b"acta")
    run("corte", "build")
    latest = json.loads((publicacion / "latest.json").read_text())
    archive = next((publicacion / latest["corte"] / "descargas").glob("*DIP.zip"))
    with zipfile.ZipFile(archive) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data.replace(b"|7|", b"|8|", 1))
    code, output = run("verify", str(publicacion))
    assert code == 1
    assert "no coincide con el manifiesto" in output


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def served(publicacion):
    """The publication folder behind a real HTTP server, as a difusor serves it."""
    handler = functools.partial(QuietHandler, directory=str(publicacion))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_verify_reads_a_publication_over_http_and_walks_the_chain(publicacion, catalogo, served):
    verified_acta(ActaEsperada.objects.order_by("id").first(), image=b"acta")
    run("corte", "build")
    time.sleep(1.05)
    run("corte", "build")
    code, output = run("verify", served)
    assert code == 0, output
    first = sorted((publicacion / "cortes").iterdir())[0]
    (first / "manifest.json").write_bytes((first / "manifest.json").read_bytes() + b" ")
    code, output = run("verify", served)
    assert code == 1 and "la cadena se rompe" in output
