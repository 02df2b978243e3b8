"""Corte signatures: Ed25519 in OpenSSH's SSHSIG format, made and checked by ``ssh-keygen``.

Difusores, parties and journalists check a corte with a tool they already have
(``ssh-keygen -Y verify``), so openprep signs with that same tool rather than with
signature code of its own: what we produce is, by construction, what they can verify.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from openprep.core.errors import UserError

NAMESPACE = "openprep-corte"
ALLOWED_SIGNERS = "allowed_signers"


class SigningError(UserError):
    """A key or signature that cannot be used as asked."""


def _ssh_keygen() -> str:
    path = shutil.which("ssh-keygen")
    if path is None:
        raise SigningError(
            "no se encontró «ssh-keygen».",
            hint="Instale OpenSSH: apt-get install openssh-client.",
        )
    return path


def _run(args: list[str], *, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([_ssh_keygen(), *args], input=data, capture_output=True, check=False)


def generate_key(path: Path, *, principal: str) -> Path:
    """A new Ed25519 signing key at ``path`` (private) and ``path.pub``; refuses to overwrite."""
    if path.exists():
        raise SigningError(
            f"la llave {path} ya existe; no se sobrescribe.",
            hint="Use otra ruta, o conserve la llave actual: es la que conocen los difusores.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    result = _run(["-q", "-t", "ed25519", "-N", "", "-C", principal, "-f", str(path)])
    if result.returncode != 0:
        raise SigningError(
            f"ssh-keygen no pudo crear la llave {path}: {result.stderr.decode().strip()}"
        )
    path.chmod(0o600)
    return path


def public_key(key: Path) -> str:
    """The public half (``ssh-ed25519 AAAA…``) of a private key file."""
    result = _run(["-y", "-f", str(key)])
    if result.returncode != 0:
        raise SigningError(
            f"no se pudo leer la llave de firma {key}: {result.stderr.decode().strip()}",
            hint="Genere una con «openprep corte llave» o revise la ruta y sus permisos.",
        )
    algorithm, blob = result.stdout.decode().split()[:2]
    return f"{algorithm} {blob}"


def allowed_signers(*, principal: str, key: Path) -> str:
    """The ``allowed_signers`` line that lets ``ssh-keygen -Y verify`` accept our signatures."""
    return f'{principal} namespaces="{NAMESPACE}" {public_key(key)}\n'


def sign(data: bytes, *, key: Path) -> bytes:
    """An armored SSHSIG signature of ``data`` in the corte namespace."""
    result = _run(["-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE], data=data)
    if result.returncode != 0:
        raise SigningError(f"ssh-keygen no pudo firmar: {result.stderr.decode().strip()}")
    return result.stdout


def verify(data: bytes, *, signature: Path, allowed: Path, principal: str) -> tuple[bool, str]:
    """Whether ``signature`` is a good corte signature of ``data`` by ``principal``."""
    result = _run(
        [
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            principal,
            "-n",
            NAMESPACE,
            "-s",
            str(signature),
        ],
        data=data,
    )
    message = (result.stdout + result.stderr).decode().strip()
    return result.returncode == 0, message
