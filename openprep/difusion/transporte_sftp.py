"""SFTP to a difusor's OpenSSH server, with paramiko.

The server's host key is pinned: the difusor's registered ``llave_host`` must match, and
when none is registered the first key seen is returned for the caller to record (trust on
first use, recorded as an incident so an administrator can check it against the
difusor's own fingerprint). Unchanged files of the next corte are hard-linked on the
server from the corte the difusor already has (OpenSSH's ``hardlink@openssh.com``), so a
corte after the first sends only what changed; published cortes never change, so
sharing their files is safe.
"""

from __future__ import annotations

import io
import shutil
import socket
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import paramiko
from paramiko.sftp import CMD_EXTENDED

from openprep.difusion.lote_sftp import SFTP, LoteSFTP
from openprep.difusion.transporte import FallaDeDifusor, subir_uno_por_uno, unir

_CLAVES = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def leer_clave_privada(texto: str) -> paramiko.PKey:
    """An OpenSSH or PEM private key (Ed25519, ECDSA or RSA) from its text."""
    for tipo in _CLAVES:
        try:
            return tipo.from_private_key(io.StringIO(texto))
        except (paramiko.SSHException, ValueError):
            continue
    raise FallaDeDifusor(
        "la llave SSH privada del difusor no se puede leer (se aceptan Ed25519, ECDSA y RSA "
        "sin frase de paso).",
        hint="Registre de nuevo la llave con «openprep difusor add … --clave-ssh ARCHIVO».",
    )


def linea_de_llave(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.get_base64()}"


class DestinoSFTP:
    def __init__(
        self,
        sftp: paramiko.SFTPClient,
        transport: paramiko.Transport,
        base: str,
        lote: LoteSFTP | None,
    ):
        self._sftp = sftp
        self._transport = transport
        self._base = base
        self._lote = lote
        self._enlaces = True

    @classmethod
    def abrir(
        cls,
        *,
        host: str,
        puerto: int,
        usuario: str,
        contrasena: str,
        clave: str,
        llave_host: str,
        carpeta: str,
        timeout: float,
    ) -> tuple[DestinoSFTP, str]:
        """Connect and log in; also the server's key line (to record when none was)."""
        where = f"{usuario}@{host}:{puerto}"
        try:
            sock = socket.create_connection((host, puerto), timeout=timeout)
        except OSError as exc:
            raise FallaDeDifusor(f"no hay conexión con {where} ({exc}).") from exc
        transport = paramiko.Transport(sock)
        transport.banner_timeout = transport.auth_timeout = timeout
        opciones = transport.get_security_options()
        # AES-GCM first: one AEAD call per packet instead of AES-CTR plus HMAC-SHA-256
        # (paramiko's default order), less CPU on both ends of a national corte.
        opciones.ciphers = tuple(sorted(opciones.ciphers, key=lambda c: "gcm" not in c))
        try:
            transport.start_client(timeout=timeout)
            presentada = linea_de_llave(transport.get_remote_server_key())
            if llave_host and llave_host.split()[:2] != presentada.split()[:2]:
                raise FallaDeDifusor(
                    f"la llave del servidor {where} no es la registrada ({presentada.split()[0]}).",
                    hint="Podría ser otro servidor. Confirme la huella con el difusor y "
                    "actualice «llave pública del servidor» en la administración.",
                )
            if clave:
                transport.auth_publickey(usuario, leer_clave_privada(clave))
            else:
                transport.auth_password(usuario, contrasena)
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            sftp.get_channel().settimeout(timeout)
        except FallaDeDifusor:
            transport.close()
            raise
        except paramiko.AuthenticationException as exc:
            transport.close()
            raise FallaDeDifusor(
                f"{where} rechazó las credenciales ({exc}).",
                hint="Pida al difusor que revise el usuario, la contraseña o la llave "
                "autorizada, y regístrelas de nuevo.",
            ) from exc
        except (paramiko.SSHException, OSError, EOFError) as exc:
            transport.close()
            raise FallaDeDifusor(f"falló la conexión SSH con {where} ({exc}).") from exc
        lote = (
            LoteSFTP(
                host=host,
                puerto=puerto,
                usuario=usuario,
                clave=clave,
                llave_host=presentada,
                timeout=timeout,
            )
            if clave and shutil.which(SFTP)
            else None
        )
        return cls(sftp, transport, carpeta, lote), presentada

    def _ruta(self, ruta: str) -> str:
        return unir(self._base, ruta)

    def listar(self, carpeta: str) -> dict[str, int]:
        try:
            entries = self._sftp.listdir_attr(self._ruta(carpeta))
        except FileNotFoundError:
            return {}
        return {
            e.filename: e.st_size or 0
            for e in entries
            if e.st_mode is not None and stat.S_ISREG(e.st_mode)
        }

    def crear_carpeta(self, ruta: str) -> None:
        partes = [p for p in ruta.split("/") if p and p != "."]
        for n in range(1, len(partes) + 1):
            path = self._ruta("/".join(partes[:n]))
            try:
                self._sftp.stat(path)
            except FileNotFoundError:
                self._sftp.mkdir(path)

    def subir(self, local: Path, remota: str, *, vigilar: Callable[[], None]) -> int:
        with local.open("rb") as handle:
            self._sftp.putfo(
                handle, self._ruta(remota), confirm=False, callback=lambda _sent, _total: vigilar()
            )
        return local.stat().st_size

    def subir_lote(
        self,
        pares: Sequence[tuple[Path, str]],
        *,
        vigilar: Callable[[], None],
        avance: Callable[[str], None],
    ) -> int:
        if self._lote is None:  # password authentication: paramiko, one file at a time
            return subir_uno_por_uno(self, pares, vigilar=vigilar, avance=avance)
        rutas = {self._ruta(remota): remota for _, remota in pares}
        return self._lote.subir(
            [(local, self._ruta(remota)) for local, remota in pares],
            vigilar=vigilar,
            avance=lambda ruta: avance(rutas[ruta]),
        )

    def renombrar(self, origen: str, destino: str) -> None:
        self._sftp.posix_rename(self._ruta(origen), self._ruta(destino))

    def enlazar(self, origen: str, destino: str) -> bool:
        if not self._enlaces:
            return False
        try:
            # paramiko has no public call for this OpenSSH extension (sftp-server ≥ 5.7).
            self._sftp._request(
                CMD_EXTENDED, "hardlink@openssh.com", self._ruta(origen), self._ruta(destino)
            )
        except OSError:
            self._enlaces = False  # unsupported, or the source is gone: upload instead
            return False
        return True

    def borrar_arbol(self, ruta: str) -> None:
        path = self._ruta(ruta)
        try:
            mode = self._sftp.lstat(path).st_mode or 0
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(mode):
            self._sftp.remove(path)
            return
        for entry in self._sftp.listdir_attr(path):
            self.borrar_arbol(unir(ruta, entry.filename))
        self._sftp.rmdir(path)

    def leer(self, ruta: str) -> bytes | None:
        try:
            with self._sftp.open(self._ruta(ruta), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def sha256(self, ruta: str) -> str | None:
        return None  # OpenSSH's sftp-server offers no "check-file"; sizes and read-backs only

    def cerrar(self) -> None:
        self._sftp.close()
        self._transport.close()
