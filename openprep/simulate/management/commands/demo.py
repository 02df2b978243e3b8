"""``openprep demo``: a whole election night on this machine, in one command.

A synthetic state-sized election is generated and imported; the operator console
(``openprep serve``), the corte scheduler (``openprep worker``, a corte every few seconds)
and a static web server for the public site start as child processes; the night is then
driven through HTTP as the operators would (``openprep simulate night``). Everything keeps
running, so the console and the site can be explored, until Ctrl-C stops it all.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from django.conf import settings

from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError

_ROLES_SHOWN = ("coordinador", "capturista", "verificador", "acopiador", "administrador")


class Command(OpenprepCommand):
    help = (
        "Simulacro completo en esta máquina: genera una elección, levanta la consola de "
        "operación, los cortes y el sitio público, y simula la noche por HTTP. Ctrl-C detiene todo."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--casillas", type=int, default=1500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--puerto", type=int, default=8000, help="consola de operación")
        parser.add_argument("--puerto-sitio", type=int, default=8001, help="sitio público")
        parser.add_argument(
            "--intervalo-segundos", type=int, default=10, help="segundos entre cortes"
        )
        parser.add_argument(
            "--sin-esperar",
            action="store_true",
            help="termina al acabar la noche en vez de esperar Ctrl-C (pruebas)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = Path(settings.DATA_DIR)
        paquete = data / "paquete"
        publicacion = Path(settings.OPENPREP_PUBLICACION)
        self.children: list[subprocess.Popen[bytes]] = []
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            if not paquete.exists():
                self.openprep(
                    "simulate",
                    "package",
                    "--casillas",
                    str(options["casillas"]),
                    "--seed",
                    str(options["seed"]),
                    "--out",
                    str(paquete),
                )
            self.openprep("catalog", "import", str(paquete))
            consola = f"http://127.0.0.1:{options['puerto']}"
            sitio = f"http://127.0.0.1:{options['puerto_sitio']}"
            self.spawn("serve", "--port", str(options["puerto"]))
            self.spawn("worker", "--intervalo-segundos", str(options["intervalo_segundos"]))
            publicacion.mkdir(parents=True, exist_ok=True)
            self.children.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "http.server",
                        str(options["puerto_sitio"]),
                        "--bind",
                        "127.0.0.1",
                        "--directory",
                        str(publicacion),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            self.wait_for(consola + "/entrar/")
            self.announce(consola=consola, sitio=sitio, paquete=paquete)
            night = self.openprep(
                "simulate", "night", "--server", consola, "--package", str(paquete), check=False
            )
            self.stdout.write(
                "La noche simulada terminó "
                + ("y el sistema coincide con la verdad." if night == 0 else "con diferencias.")
            )
            if options["sin_esperar"]:
                return
            self.stdout.write(f"Sigue en línea: consola {consola}, sitio {sitio}. Ctrl-C termina.")
            while not stop["now"]:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_children()
            self.stdout.write("Simulacro detenido.")

    def env(self) -> dict[str, str]:
        return {**os.environ, "OPENPREP_DATA_DIR": str(settings.DATA_DIR)}

    def openprep(self, *args: str, check: bool = True) -> int:
        code = subprocess.call([sys.executable, "-m", "openprep", *args], env=self.env())
        if check and code != 0:
            raise UserError(f"«openprep {' '.join(args[:2])}» terminó con código {code}.")
        return code

    def spawn(self, *args: str) -> None:
        self.children.append(
            subprocess.Popen([sys.executable, "-m", "openprep", *args], env=self.env())
        )

    def wait_for(self, url: str, *, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.3)
        raise UserError(f"la consola no respondió en {url}.", hint="Revise el puerto.")

    def announce(self, *, consola: str, sitio: str, paquete: Path) -> None:
        self.stdout.write("")
        self.stdout.write(f"Consola de operación: {consola}/")
        self.stdout.write(f"Sitio público:        {sitio}/")
        self.stdout.write("Cuentas del simulacro (usuario / contraseña):")
        shown: set[str] = set()
        with (paquete / "operadores.csv").open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["ROL"] in _ROLES_SHOWN and row["ROL"] not in shown:
                    shown.add(row["ROL"])
                    self.stdout.write(f"  {row['ROL']:<14} {row['USUARIO']} / {row['CLAVE']}")
        self.stdout.write("")

    def stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
