"""The public site lists the difusores oficiales; the corte after a suspension shows the
notice and no longer links to it (seed 001, fracción III)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from servidores_difusion import sin_servidor

from openprep.catalog.package import leer_paquete
from openprep.catalog.services import importar_paquete
from openprep.difusion.registro import registrar_difusor
from openprep.difusion.servicios import difundir
from openprep.publish.builder import build, signing_key
from openprep.publish.folder import CORTES

DOCS_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "ejemplo-paquete"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def publicacion(tmp_path, settings):
    settings.OPENPREP_PUBLICACION = tmp_path / "publicacion"
    settings.OPENPREP_LLAVE_CORTE = tmp_path / "llaves" / "corte"
    settings.OPENPREP_LLAVE_SECRETOS = tmp_path / "llaves" / "secretos"
    settings.MEDIA_ROOT = tmp_path / "media"
    paquete = leer_paquete(DOCS_EXAMPLE)
    importar_paquete(paquete, ahora=paquete.proceso.inicio_publicacion - timedelta(days=1))
    return tmp_path / "publicacion"


def corte(publicacion: Path, minutos: int):
    hasta = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=minutos)
    latest = build(publicacion, hasta=hasta, key=signing_key())
    folder = publicacion / CORTES / latest.corte
    return latest, folder, (folder / "index.html").read_text()


def test_the_site_links_difusores_and_replaces_a_suspended_ones_link_by_a_notice(
    publicacion, tmp_path
):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n un logotipo")
    registrar_difusor(
        nombre="Diario del Sureste", protocolo="ftp", host="127.0.0.1", puerto=sin_servidor(),
        usuario="u", contrasena="p", enlace="https://diario.example/prep/", logo=logo,
    )  # fmt: skip
    registrar_difusor(
        nombre="Radio Caída", protocolo="ftp", host="127.0.0.1", puerto=sin_servidor(),
        usuario="u", contrasena="p", enlace="https://radio.example/prep/",
    )  # fmt: skip
    latest, folder, index = corte(publicacion, 0)
    assert 'href="https://radio.example/prep/"' in index
    assert 'href="https://diario.example/prep/"' in index
    # The logo travels inside the corte, listed in its manifest like any other file.
    manifest = json.loads((folder / "manifest.json").read_text())
    [entry] = [f for f in manifest["files"] if f["path"].startswith("difusores/")]
    assert (folder / entry["path"]).read_bytes() == logo.read_bytes()
    assert f'src="{entry["path"]}"' in index
    # Both miss three cortes in a row (nobody listens there): both are suspended …
    for minutos in range(3):
        latest, _, _ = corte(publicacion, minutos + 1)
        difundir(
            publicacion=publicacion,
            latest=latest,
            plazo=timezone.now() + timedelta(seconds=1),
            esperas=(5,),
        )
    # … and the next corte's site says so, without their links.
    _, folder, index = corte(publicacion, 10)
    assert "https://radio.example/prep/" not in index
    assert "https://diario.example/prep/" not in index
    assert "La publicación del PREP en Radio Caída está suspendida desde el" in index
    assert "por no recibir 3 actualizaciones consecutivas" in index
    datos = json.loads((folder / "datos.json").read_text())
    assert {d["nombre"]: d["enlace"] for d in datos["difusores"]} == {
        "Diario del Sureste": "",
        "Radio Caída": "",
    }
