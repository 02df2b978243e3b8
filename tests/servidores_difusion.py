"""Real difusor servers for the tests and the benchmark: OpenSSH's sshd with chrooted SFTP
users, and pyftpdlib for FTP/FTPS. Both listen on loopback ports chosen at start.

sshd needs root (chroot) and Debian's openssh-server (``make system-packages``). Each
difusor is a system user ``opdifN`` jailed in ``<raiz>/jaulas/<user>`` (root-owned, as
sshd requires) whose writable folder is ``publicacion``.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
CONTRASENA = "clave-de-prueba-9"


def puerto_libre() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(*args: str, stdin: str | None = None) -> None:
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True)


@dataclass
class CuentaSFTP:
    usuario: str
    jaula: Path
    clave_privada: Path

    @property
    def carpeta(self) -> Path:
        """The mirror as the difusor's web server would serve it."""
        return self.jaula / "publicacion"


class ServidorSSH:
    def __init__(self) -> None:
        # sshd wants every component of a chroot path root-owned and not writable by others:
        # /tmp (1777) will not do, /srv will.
        self.raiz = Path(tempfile.mkdtemp(prefix="openprep-sshd-", dir="/srv"))
        self.raiz.chmod(0o755)
        self.puerto = puerto_libre()
        self.proceso: subprocess.Popen[bytes] | None = None
        self.cuentas: list[CuentaSFTP] = []
        self.montajes: list[Path] = []

    def cuenta(self, n: int) -> CuentaSFTP:
        usuario = f"opdif{n}"
        if subprocess.run(["id", usuario], capture_output=True).returncode != 0:
            _run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", usuario)
        _run("chpasswd", stdin=f"{usuario}:{CONTRASENA}\n")
        jaula = self.raiz / "jaulas" / usuario
        (jaula / "publicacion").mkdir(parents=True)
        shutil.chown(jaula / "publicacion", user=usuario, group=usuario)
        llaves = self.raiz / "llaves"
        llaves.mkdir(exist_ok=True)
        privada = self.raiz / f"cliente_{usuario}"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", usuario, "-f", str(privada))
        shutil.copyfile(f"{privada}.pub", llaves / usuario)
        cuenta = CuentaSFTP(usuario=usuario, jaula=jaula, clave_privada=privada)
        self.cuentas.append(cuenta)
        return cuenta

    def iniciar(self) -> ServidorSSH:
        Path("/run/sshd").mkdir(exist_ok=True)
        llave = self.raiz / "ssh_host_ed25519_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(llave))
        config = self.raiz / "sshd_config"
        config.write_text(
            f"Port {self.puerto}\nListenAddress 127.0.0.1\nHostKey {llave}\n"
            f"PidFile {self.raiz / 'sshd.pid'}\nUsePAM no\nPasswordAuthentication yes\n"
            f"KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            f"AuthorizedKeysFile {self.raiz / 'llaves'}/%u\nMaxStartups 100:30:200\n"
            f"MaxSessions 50\nSubsystem sftp internal-sftp\n"
            f"Match User opdif*\n  ChrootDirectory {self.raiz / 'jaulas'}/%u\n"
            f"  ForceCommand internal-sftp -d /publicacion\n  AllowTcpForwarding no\n"
            f"  X11Forwarding no\n"
        )
        self.proceso = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.puerto), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def llave_host(self) -> str:
        tipo, b64 = (self.raiz / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        return f"{tipo} {b64}"

    def cortar_sesiones(self, usuario: str) -> None:
        """Kill the server side of every connection of ``usuario`` (a dropped link)."""
        subprocess.run(["pkill", "-KILL", "-f", f"sshd: {usuario}"], capture_output=True)

    def disco_lleno(self, cuenta: CuentaSFTP, *, bytes_libres: int) -> None:
        """Mount a tiny tmpfs on the account's folder: a real full disk for the server."""
        destino = cuenta.carpeta
        _run("mount", "-t", "tmpfs", "-o", f"size={bytes_libres},mode=0755", "tmpfs", str(destino))
        shutil.chown(destino, user=cuenta.usuario, group=cuenta.usuario)
        self.montajes.append(destino)

    def detener(self) -> None:
        if self.proceso is not None:
            self.proceso.send_signal(signal.SIGTERM)
            self.proceso.wait(10)
        for cuenta in self.cuentas:
            self.cortar_sesiones(cuenta.usuario)
        for montaje in self.montajes:
            subprocess.run(["umount", "-l", str(montaje)], capture_output=True)
        shutil.rmtree(self.raiz, ignore_errors=True)


class ServidorFTP:
    """pyftpdlib in a thread: a real FTP (or FTPS) server on a loopback port."""

    def __init__(
        self, raiz: Path, *, bytes_por_segundo: int = 0, tls_cert: Path | None = None
    ) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        self.raiz = raiz
        self.autorizador = DummyAuthorizer()
        handler: type[FTPHandler]
        if tls_cert is not None:
            from pyftpdlib.handlers import TLS_FTPHandler

            handler = type("Handler", (TLS_FTPHandler,), {})
            handler.certfile = str(tls_cert)
            handler.tls_control_required = handler.tls_data_required = True
        else:
            handler = type("Handler", (FTPHandler,), {})
        handler.authorizer = self.autorizador
        handler.permit_foreign_addresses = True
        if bytes_por_segundo:
            dtp = type("Lento", (ThrottledDTPHandler,), {})
            dtp.read_limit = dtp.write_limit = bytes_por_segundo
            handler.dtp_handler = dtp
        # One IOLoop per server: pyftpdlib's default is a process-wide singleton.
        self.servidor = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
        self.puerto = self.servidor.address[1]
        self.hilo = threading.Thread(
            target=self.servidor.serve_forever,
            kwargs={"timeout": 0.2, "handle_exit": False},  # wakes up to notice close_all
            daemon=True,
        )

    def cuenta(self, usuario: str) -> Path:
        carpeta = self.raiz / usuario
        carpeta.mkdir(parents=True)
        self.autorizador.add_user(usuario, CONTRASENA, str(carpeta), perm="elradfmwMT")
        return carpeta

    def iniciar(self) -> ServidorFTP:
        self.hilo.start()
        return self

    def detener(self) -> None:
        self.servidor.close_all()
        self.hilo.join(10)


def certificado_tls(carpeta: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (key and cert in one PEM), for FTPS."""
    pem = carpeta / "ftps.pem"
    _run(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", str(pem), "-out", str(pem),
    )  # fmt: skip
    return pem


def sin_servidor() -> int:
    """A loopback port nobody listens on: a dead host."""
    return puerto_libre()
