"""What the push needs from a difusor's server, whatever protocol it speaks.

A :class:`Destino` is one open connection to one difusor, with every path relative to
the difusor's publication folder. Implementations: :mod:`.transporte_sftp` (paramiko)
and :mod:`.transporte_ftp` (ftplib, FTP and explicit FTPS). Every failure a server can
cause (refused, timed out, dropped, denied, full) surfaces as :class:`FallaDeDifusor`
with Spanish text: it ends the attempt, and the mirror keeps a whole corte because
nothing is renamed into place until it is complete.
"""

from __future__ import annotations

import errno
import ftplib
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from openprep.core.errors import UserError


class FallaDeDifusor(UserError):
    """A delivery attempt that failed on the difusor's side (or on the way to it)."""


class Destino(Protocol):
    def listar(self, carpeta: str) -> dict[str, int]:
        """Regular files in ``carpeta`` by name with their sizes; empty if it is missing."""

    def crear_carpeta(self, ruta: str) -> None:
        """Create ``ruta`` and its parents where missing."""

    def subir(self, local: Path, remota: str, *, vigilar: Callable[[], None]) -> int:
        """Upload ``local`` to ``remota`` (overwriting); the bytes sent. ``vigilar`` is
        called after every block and may raise to abandon the upload (the period ended)."""

    def subir_lote(
        self,
        pares: Sequence[tuple[Path, str]],
        *,
        vigilar: Callable[[], None],
        avance: Callable[[str], None],
    ) -> int:
        """Upload many ``(local, remota)`` pairs in order (``avance`` as each starts)."""

    def renombrar(self, origen: str, destino: str) -> None:
        """Move ``origen`` to ``destino``, replacing a file already there."""

    def enlazar(self, origen: str, destino: str) -> bool:
        """Hard-link ``origen`` as ``destino`` on the server; False if it cannot."""

    def borrar_arbol(self, ruta: str) -> None:
        """Remove ``ruta`` (a file or a folder and everything in it) if it exists."""

    def leer(self, ruta: str) -> bytes | None:
        """The bytes of a small file, or None if it does not exist."""

    def sha256(self, ruta: str) -> str | None:
        """The server's SHA-256 of ``ruta``, or None if the server cannot compute it."""

    def cerrar(self) -> None: ...


def unir(*partes: str) -> str:
    """A remote path from parts, POSIX style, without empty or '.' parts."""
    pieces = [p.strip("/") for p in partes if p and p.strip("/") not in ("", ".")]
    absolute = bool(partes) and partes[0].startswith("/")
    joined = "/".join(pieces)
    return ("/" + joined) if absolute else (joined or ".")


def describir(exc: BaseException) -> str:
    """A network or server failure in words an operator can act on."""
    detalle = f"{exc.__class__.__name__}: {exc}".strip()
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"el servidor dejó de responder (tiempo de espera agotado; {detalle})."
    if isinstance(exc, ConnectionError | EOFError):
        return f"se cortó la conexión con el servidor ({detalle})."
    if getattr(exc, "errno", None) == errno.ENOSPC or str(exc).startswith("452"):
        return f"el servidor no tiene espacio en disco ({detalle})."
    if isinstance(exc, ftplib.error_perm):
        return f"el servidor FTP rechazó una operación ({detalle})."
    return f"falló la transferencia ({detalle})."


def subir_uno_por_uno(
    destino: Destino,
    pares: Sequence[tuple[Path, str]],
    *,
    vigilar: Callable[[], None],
    avance: Callable[[str], None],
) -> int:
    """:meth:`Destino.subir_lote` for a protocol without a bulk path."""
    sent = 0
    for local, remota in pares:
        vigilar()
        avance(remota)
        sent += destino.subir(local, remota, vigilar=vigilar)
    return sent
