"""Corte signatures made by openprep are what `ssh-keygen -Y verify` accepts, and only those."""

from __future__ import annotations

import subprocess

import pytest

from openprep.publish import signing


@pytest.fixture
def key(tmp_path):
    return signing.generate_key(tmp_path / "llaves" / "corte_ed25519", principal="prep@ieqroo")


def write_corte(tmp_path, key, data: bytes):
    (tmp_path / "manifest.json").write_bytes(data)
    (tmp_path / "manifest.json.sig").write_bytes(signing.sign(data, key=key))
    (tmp_path / "allowed_signers").write_text(
        signing.allowed_signers(principal="prep@ieqroo", key=key)
    )


def ssh_keygen_verify(tmp_path, data: bytes, principal="prep@ieqroo", namespace="openprep-corte"):
    """The exact command a difusor runs (issue 4)."""
    return subprocess.run(
        [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            str(tmp_path / "allowed_signers"),
            "-I",
            principal,
            "-n",
            namespace,
            "-s",
            str(tmp_path / "manifest.json.sig"),
        ],
        input=data,
        capture_output=True,
        check=False,
    )


def test_ssh_keygen_accepts_a_signed_manifest(tmp_path, key):
    write_corte(tmp_path, key, b'{"corte":1}\n')
    result = ssh_keygen_verify(tmp_path, b'{"corte":1}\n')
    assert result.returncode == 0, result.stderr
    assert b"Good" in result.stdout


def test_ssh_keygen_rejects_a_tampered_manifest(tmp_path, key):
    write_corte(tmp_path, key, b'{"corte":1}\n')
    assert ssh_keygen_verify(tmp_path, b'{"corte":2}\n').returncode != 0


def test_a_signature_for_another_namespace_or_principal_is_rejected(tmp_path, key):
    write_corte(tmp_path, key, b"x")
    assert ssh_keygen_verify(tmp_path, b"x", namespace="file").returncode != 0
    assert ssh_keygen_verify(tmp_path, b"x", principal="otro@instituto").returncode != 0


def test_verify_agrees_with_ssh_keygen(tmp_path, key):
    write_corte(tmp_path, key, b"datos")
    ok, _ = signing.verify(
        b"datos",
        signature=tmp_path / "manifest.json.sig",
        allowed=tmp_path / "allowed_signers",
        principal="prep@ieqroo",
    )
    bad, message = signing.verify(
        b"otros",
        signature=tmp_path / "manifest.json.sig",
        allowed=tmp_path / "allowed_signers",
        principal="prep@ieqroo",
    )
    assert ok and not bad and message


def test_the_private_key_is_private_and_never_overwritten(tmp_path, key):
    assert key.stat().st_mode & 0o077 == 0
    with pytest.raises(signing.SigningError, match="no se sobrescribe"):
        signing.generate_key(key, principal="prep@ieqroo")


def test_an_unreadable_key_is_a_spanish_error(tmp_path):
    (tmp_path / "rota").write_text("no es una llave")
    with pytest.raises(signing.SigningError, match="no se pudo leer la llave"):
        signing.public_key(tmp_path / "rota")
