"""Cortes are built aside, signed, chained and swapped in; a killed build publishes nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from openprep.publish import folder as folder_module
from openprep.publish import signing
from openprep.publish.folder import (
    CORTES,
    PublicationError,
    build_corte,
    publish_image,
    read_latest,
)
from openprep.publish.verify import check_corte, check_publication

PRINCIPAL = "prep@instituto"


@pytest.fixture
def key(tmp_path):
    return signing.generate_key(tmp_path / "llave" / "corte", principal=PRINCIPAL)


def writer(texto: str):
    def write(folder, numero):
        (folder / "datos").mkdir()
        (folder / "datos" / "base.csv").write_text(texto)
        (folder / "index.html").write_text(f"<p>{texto}</p>")

    return write


def build(pub, key, corte_id, texto):
    return build_corte(
        pub,
        corte_id=corte_id,
        fecha_hora="2027/06/06 21:00 (UTC-5)",
        key=key,
        principal=PRINCIPAL,
        write_files=writer(texto),
    )


def test_a_corte_is_signed_lists_every_file_and_chains_to_the_previous(tmp_path, key):
    pub = tmp_path / "pub"
    first = build(pub, key, "0001", "uno")
    second = build(pub, key, "0002", "dos")
    assert read_latest(pub) == second and second.numero == 2
    manifest = json.loads((pub / CORTES / "0002" / "manifest.json").read_bytes())
    assert manifest["anterior_sha256"] == first.manifest_sha256
    assert {f["path"] for f in manifest["files"]} == {
        "allowed_signers",
        "datos/base.csv",
        "index.html",
    }
    assert all(c.ok for c in check_publication(pub)), check_publication(pub)
    assert json.loads((pub / "latest.json").read_bytes())["corte"] == "cortes/0002"


def test_every_folder_of_a_corte_is_flushed_before_it_is_swapped_in(tmp_path, key, monkeypatch):
    """A file's name lives in its folder: a power cut after the swap must not lose the
    names in the corte's subfolders (a power cut cannot be caused here: the flushes are
    recorded instead)."""
    flushed = []
    real_fsync = folder_module._fsync
    renamed = os.rename

    def fsync(path):
        flushed.append(path)
        real_fsync(path)

    def rename(source, target):
        flushed.append(("rename", source))
        renamed(source, target)

    monkeypatch.setattr(folder_module, "_fsync", fsync)
    monkeypatch.setattr(folder_module.os, "rename", rename)
    build(tmp_path / "pub", key, "0001", "uno")
    swap = flushed.index(next(x for x in flushed if isinstance(x, tuple)))
    partial = flushed[swap][1]
    before = set(flushed[:swap])
    assert {partial, partial / "datos"} <= before


def test_a_published_corte_is_never_rebuilt(tmp_path, key):
    pub = tmp_path / "pub"
    build(pub, key, "0001", "uno")
    with pytest.raises(PublicationError, match="ya está publicado"):
        build(pub, key, "0001", "otro")
    assert (pub / CORTES / "0001" / "index.html").read_text() == "<p>uno</p>"


def test_a_changed_or_added_file_is_caught(tmp_path, key):
    pub = tmp_path / "pub"
    build(pub, key, "0001", "uno")
    folder = pub / CORTES / "0001"
    (folder / "index.html").write_text("<p>alterado</p>")
    (folder / "extra.txt").write_text("x")
    problems = " ".join(check_corte(folder).problems)
    assert "index.html: su contenido no coincide" in problems
    assert "extra.txt: no está en el manifiesto" in problems


def test_a_tampered_manifest_fails_the_signature(tmp_path, key):
    pub = tmp_path / "pub"
    build(pub, key, "0001", "uno")
    manifest = pub / CORTES / "0001" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"corte":1', b'"corte":7'))
    assert any("firma no es válida" in p for p in check_corte(manifest.parent).problems)


def test_images_are_published_once_under_their_hash(tmp_path):
    source = tmp_path / "acta.png"
    source.write_bytes(b"png")
    assert publish_image(tmp_path / "pub", sha256="ab" * 32, source=source)
    assert not publish_image(tmp_path / "pub", sha256="ab" * 32, source=source)
    assert (tmp_path / "pub" / "imagenes" / ("ab" * 32)).read_bytes() == b"png"


SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from openprep.publish.folder import build_corte

    def write(folder, numero):
        for i in range(400):
            (folder / f"archivo_{i:03d}.txt").write_text("x" * 2000)
            time.sleep(0.0005)

    build_corte(Path(sys.argv[1]), corte_id="0002", fecha_hora="t", key=Path(sys.argv[2]),
                principal="prep@instituto", write_files=write)
    """
)


@pytest.mark.parametrize("seed", range(6))
def test_a_build_killed_at_a_random_point_leaves_the_previous_corte_published(tmp_path, key, seed):
    pub = tmp_path / "pub"
    first = build(pub, key, "0001", "uno")
    process = subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(pub), str(key)])
    time.sleep(random.Random(seed).uniform(0.2, 1.2))
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    latest = read_latest(pub)
    assert latest is not None
    if latest.corte == "0001":  # killed before the swap: the first corte stands, untouched
        assert latest == first
    assert all(c.ok for c in check_publication(pub)), check_publication(pub)
    # The next build clears what the killed one left and publishes normally.
    third = build(pub, key, "0003", "tres")
    assert read_latest(pub) == third
    assert not any(p.name.startswith(".parcial") for p in (pub / CORTES).iterdir())
