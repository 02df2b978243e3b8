"""``openprep operador add --usuario U --rol R --catd C [--clave-archivo F]``.

The password never goes on the command line (where ``ps`` and the shell history show it):
it is read from a file or typed twice at a prompt.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from openprep.accounts.models import Rol
from openprep.accounts.services import (
    CuentaError,
    buscar_catd,
    registrar_operador,
    rol_desde_texto,
)
from openprep.commands import OpenprepCommand


class Command(OpenprepCommand):
    help = "Da de alta a un operador: usuario, rol y CATD."

    def add_arguments(self, parser: Any) -> None:
        # Checked here, not by argparse, so that every mistake is reported in Spanish.
        parser.add_argument("accion", nargs="?", help="add")
        parser.add_argument("--usuario", help="nombre de usuario")
        parser.add_argument("--rol", help=", ".join(r.value for r in Rol))
        parser.add_argument("--catd", help="clave de la CATD del operador")
        parser.add_argument(
            "--clave-archivo",
            help="archivo cuya primera línea es la contraseña (si falta, se pide en la terminal)",
        )
        parser.add_argument(
            "--catd-adicional",
            action="append",
            default=[],
            help="otra CATD que un coordinador supervisa (puede repetirse)",
        )
        parser.add_argument(
            "--todas-las-catd",
            action="store_true",
            help="el coordinador supervisa todas las CATD",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accion"] != "add":
            raise CuentaError(
                f"acción {options['accion'] or '(ninguna)'!r} desconocida.",
                hint="Use «openprep operador add --usuario U --rol R --catd C».",
            )
        faltan = [f"--{o}" for o in ("usuario", "rol") if not options[o]]
        if faltan:
            raise CuentaError(f"falta {' y '.join(faltan)}.", hint="Indique --usuario y --rol.")
        rol = rol_desde_texto(options["rol"])
        catd = buscar_catd(options["catd"]) if options["catd"] else None
        adicionales = [buscar_catd(c) for c in options["catd_adicional"]]
        clave = self.leer_clave(options["clave_archivo"])
        operador = registrar_operador(
            usuario=options["usuario"],
            rol=rol,
            clave=clave,
            catd=catd,
            catds_adicionales=adicionales,
            todas_las_catd=options["todas_las_catd"],
        )
        donde = f" en la CATD {operador.catd.clave}" if operador.catd else ""
        self.stdout.write(
            f"Operador registrado: {operador.user.get_username()}, "
            f"{operador.get_rol_display().lower()}{donde}."
        )

    def leer_clave(self, archivo: str | None) -> str:
        if archivo is not None:
            ruta = Path(archivo)
            try:
                texto = ruta.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CuentaError(
                    f"no se pudo leer el archivo de contraseña {ruta}: "
                    f"{exc.strerror if isinstance(exc, OSError) else 'no es texto UTF-8'}.",
                    hint="Indique un archivo de texto cuya primera línea sea la contraseña.",
                ) from None
            clave = texto.split("\n", 1)[0].rstrip("\r")
            if not clave:
                raise CuentaError(
                    f"el archivo de contraseña {ruta} está vacío.",
                    hint="Escriba la contraseña en su primera línea.",
                )
            return clave
        if not sys.stdin.isatty():
            raise CuentaError(
                "no hay terminal para pedir la contraseña.",
                hint="Use --clave-archivo F con la contraseña en la primera línea de F.",
            )
        clave = getpass.getpass("Contraseña: ")
        if clave != getpass.getpass("Repita la contraseña: "):
            raise CuentaError("las contraseñas no coinciden.", hint="Vuelva a intentarlo.")
        return clave
