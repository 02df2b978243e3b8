"""The corte manifest: canonical bytes, round trip, and every way a manifest can be wrong."""

from __future__ import annotations

import hashlib
import json

import pytest

from openprep.core.manifest import (
    Manifest,
    ManifestError,
    ManifestFile,
    check_relative_path,
    parse_manifest,
)

SHA_A = hashlib.sha256(b"a").hexdigest()
SHA_B = hashlib.sha256(b"b").hexdigest()


def make_manifest(**changes) -> Manifest:
    fields = {
        "corte": 3,
        "fecha_hora": "2027/06/06 21:15 (UTC-5)",
        "final": False,
        "version": "0.1.0",
        "anterior_corte": "20270606_2100",
        "anterior_sha256": SHA_A,
        "files": (
            ManifestFile(path="sitio/index.html", size=10, sha256=SHA_B),
            ManifestFile(path="20270606_2115_PREP_DIP.zip", size=5, sha256=SHA_A),
        ),
    }
    fields.update(changes)
    return Manifest(**fields)


def test_the_canonical_bytes_sort_keys_and_files_and_end_in_one_newline():
    data = make_manifest().canonical_bytes()
    assert data.endswith(b"}\n") and data.count(b"\n") == 1
    document = json.loads(data)
    assert list(document) == sorted(document)
    assert [f["path"] for f in document["files"]] == [
        "20270606_2115_PREP_DIP.zip",
        "sitio/index.html",
    ]
    assert b", " not in data and b": " not in data


def test_file_order_does_not_change_the_bytes_or_the_hash():
    one = make_manifest()
    other = make_manifest(files=tuple(reversed(one.files)))
    assert one.canonical_bytes() == other.canonical_bytes()
    assert one.sha256() == hashlib.sha256(one.canonical_bytes()).hexdigest()


def test_a_manifest_reads_back_equal():
    manifest = make_manifest(anterior_sha256=None, anterior_corte=None)
    back = parse_manifest(manifest.canonical_bytes())
    assert back.canonical_bytes() == manifest.canonical_bytes()
    assert back.anterior_sha256 is None and back.corte == 3


def test_a_reformatted_manifest_is_refused_because_its_hash_would_mean_two_things():
    pretty = json.dumps(json.loads(make_manifest().canonical_bytes()), indent=2).encode()
    with pytest.raises(ManifestError, match="forma canónica"):
        parse_manifest(pretty)


@pytest.mark.parametrize(
    "path",
    ["", "/etc/passwd", "../fuera.txt", "a/../../b", "a//b", "./a", "a\\b", "manifest.json"],
)
def test_paths_outside_the_corte_are_refused(path):
    with pytest.raises(ManifestError, match="ruta"):
        check_relative_path(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(corte=0), "entero positivo"),
        (lambda d: d.update(corte=True), "entero positivo"),
        (lambda d: d.update(anterior_sha256="abc"), "anterior_sha256"),
        (lambda d: d.update(anterior_corte=None), "van juntos"),
        (lambda d: d.update(anterior_corte="../x"), "van juntos"),
        (lambda d: d.update(final="no"), "final"),
        (lambda d: d.pop("version"), "se esperaban"),
        (lambda d: d["files"][0].update(size=-1), "entero no negativo"),
        (lambda d: d["files"][0].update(sha256=SHA_A.upper()), "hexadecimal"),
        (lambda d: d["files"][0].update(path="../x"), "ruta"),
        (lambda d: d["files"].append(dict(d["files"][0])), "dos veces"),
        (lambda d: d.update(files={}), "lista"),
    ],
)
def test_a_malformed_manifest_says_what_is_wrong(change, message):
    document = json.loads(make_manifest().canonical_bytes())
    change(document)
    data = (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode()
    with pytest.raises(ManifestError, match=message):
        parse_manifest(data)


def test_bytes_that_are_not_json_are_refused_in_spanish():
    with pytest.raises(ManifestError, match="JSON UTF-8"):
        parse_manifest(b"\xff\xfe no")
