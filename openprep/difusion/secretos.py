"""Difusores' passwords and SSH keys, encrypted at rest with a key kept outside the database.

The key is a Fernet key (AES-128-CBC + HMAC-SHA256, from ``cryptography``) in the file
``OPENPREP_LLAVE_SECRETOS``, created on first use with mode 600. A copy of the database
(a backup, a replica) reveals no credential without that file; losing the file means
entering the difusores' credentials again, nothing else.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from openprep.core.errors import UserError


class SecretoIlegible(UserError):
    """A stored credential that the configured key cannot open."""


def _llave() -> Fernet:
    path = Path(settings.OPENPREP_LLAVE_SECRETOS)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    return Fernet(path.read_bytes().strip())


def cifrar(texto: str) -> str:
    """``texto`` encrypted for the database; the empty string stays empty (no secret)."""
    return _llave().encrypt(texto.encode()).decode() if texto else ""


def descifrar(cifrado: str, *, que: str) -> str:
    if not cifrado:
        return ""
    try:
        return _llave().decrypt(cifrado.encode()).decode()
    except InvalidToken as exc:
        raise SecretoIlegible(
            f"{que} no se puede descifrar con la llave {settings.OPENPREP_LLAVE_SECRETOS}.",
            hint="La llave de secretos cambió o se perdió: capture de nuevo la credencial "
            "del difusor (openprep difusor add … o la administración).",
        ) from exc
