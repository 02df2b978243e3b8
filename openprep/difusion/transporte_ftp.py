"""FTP and explicit FTPS (``AUTH TLS``, protected data channel) to a difusor, with ftplib.

FTP has no hard links, so every file of a new corte is sent; images already on the
server are still skipped. Sizes come from ``MLSD`` (RFC 3659) or, on older servers,
``SIZE``; a SHA-256 from the server is asked for with ``HASH`` where the server offers it.
"""

from __future__ import annotations

import contextlib
import ftplib
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path

from openprep.difusion.transporte import FallaDeDifusor, subir_uno_por_uno, unir

_BLOQUE = 1 << 16


class DestinoFTP:
    def __init__(self, ftp: ftplib.FTP, base: str):
        self._ftp = ftp
        self._base = base
        self._carpetas: set[str] = set()
        self._hash: bool | None = None

    @classmethod
    def abrir(
        cls,
        *,
        host: str,
        puerto: int,
        usuario: str,
        contrasena: str,
        carpeta: str,
        timeout: float,
        tls: bool,
        contexto_tls: ssl.SSLContext | None = None,
    ) -> DestinoFTP:
        where = f"{usuario}@{host}:{puerto}"
        ftp: ftplib.FTP = (
            ftplib.FTP_TLS(context=contexto_tls or ssl.create_default_context(), timeout=timeout)
            if tls
            else ftplib.FTP(timeout=timeout)
        )
        try:
            ftp.connect(host, puerto, timeout=timeout)
        except (OSError, EOFError, ftplib.Error) as exc:
            raise FallaDeDifusor(f"no hay conexión con {where} ({exc}).") from exc
        try:
            ftp.login(usuario, contrasena)
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.voidcmd("TYPE I")
        except ftplib.error_perm as exc:
            ftp.close()
            raise FallaDeDifusor(
                f"{where} rechazó las credenciales ({exc}).",
                hint="Pida al difusor que revise el usuario y la contraseña, y regístrelos "
                "de nuevo.",
            ) from exc
        except (OSError, EOFError, ftplib.Error) as exc:
            ftp.close()
            raise FallaDeDifusor(f"falló el inicio de sesión FTP en {where} ({exc}).") from exc
        return cls(ftp, carpeta)

    def _ruta(self, ruta: str) -> str:
        return unir(self._base, ruta)

    def listar(self, carpeta: str) -> dict[str, int]:
        path = self._ruta(carpeta)
        try:
            return {
                name: int(facts.get("size", 0))
                for name, facts in self._ftp.mlsd(path, facts=["type", "size"])
                if facts.get("type") == "file"
            }
        except ftplib.error_perm as exc:
            if not str(exc).startswith("500") and not str(exc).startswith("502"):
                return {}  # 550: no such folder
        # no MLSD: names, then one SIZE each
        try:
            names = [n.rsplit("/", 1)[-1] for n in self._ftp.nlst(path)]
        except ftplib.error_perm:
            return {}
        sizes = {}
        for name in names:
            try:
                size = self._ftp.size(unir(path, name))
            except ftplib.error_perm:
                continue  # a folder
            if size is not None:
                sizes[name] = size
        return sizes

    def crear_carpeta(self, ruta: str) -> None:
        partes = [p for p in ruta.split("/") if p and p != "."]
        for n in range(1, len(partes) + 1):
            path = self._ruta("/".join(partes[:n]))
            if path in self._carpetas:
                continue
            with contextlib.suppress(ftplib.error_perm):  # it exists; a real failure
                self._ftp.mkd(path)  # shows at the first upload into it
            self._carpetas.add(path)

    def subir(self, local: Path, remota: str, *, vigilar: Callable[[], None]) -> int:
        with local.open("rb") as handle:
            self._ftp.storbinary(
                f"STOR {self._ruta(remota)}",
                handle,
                blocksize=_BLOQUE,
                callback=lambda _block: vigilar(),
            )
        return local.stat().st_size

    def subir_lote(
        self,
        pares: Sequence[tuple[Path, str]],
        *,
        vigilar: Callable[[], None],
        avance: Callable[[str], None],
    ) -> int:
        return subir_uno_por_uno(self, pares, vigilar=vigilar, avance=avance)

    def renombrar(self, origen: str, destino: str) -> None:
        try:
            self._ftp.rename(self._ruta(origen), self._ruta(destino))
        except ftplib.error_perm:
            # Servers that refuse to rename over a file: remove it first (a moment without
            # it; only latest.json and the entry page are ever replaced).
            self._ftp.delete(self._ruta(destino))
            self._ftp.rename(self._ruta(origen), self._ruta(destino))

    def enlazar(self, origen: str, destino: str) -> bool:
        return False

    def borrar_arbol(self, ruta: str) -> None:
        path = self._ruta(ruta)
        try:
            entries = list(self._ftp.mlsd(path, facts=["type"]))
        except ftplib.error_perm:
            with contextlib.suppress(ftplib.error_perm):  # not there
                self._ftp.delete(path)
            return
        for name, facts in entries:
            if facts.get("type") == "dir":
                self.borrar_arbol(unir(ruta, name))
            elif facts.get("type") == "file":
                self._ftp.delete(unir(path, name))
        self._ftp.rmd(path)
        self._carpetas = {c for c in self._carpetas if not c.startswith(path)}

    def leer(self, ruta: str) -> bytes | None:
        chunks: list[bytes] = []
        try:
            self._ftp.retrbinary(f"RETR {self._ruta(ruta)}", chunks.append)
        except ftplib.error_perm:
            return None
        return b"".join(chunks)

    def sha256(self, ruta: str) -> str | None:
        if self._hash is False:
            return None
        try:
            if self._hash is None:
                self._ftp.sendcmd("OPTS HASH SHA-256")
            reply = self._ftp.sendcmd(f"HASH {self._ruta(ruta)}")
        except ftplib.error_perm:
            self._hash = False
            return None
        self._hash = True
        # "213 SHA-256 0-49 <hex> <name>" (draft-bryan-ftp-hash)
        hexes = [t.lower() for t in reply.split() if len(t) == 64]
        return hexes[0] if hexes else None

    def cerrar(self) -> None:
        try:
            self._ftp.quit()
        except (OSError, EOFError, ftplib.Error):
            self._ftp.close()
