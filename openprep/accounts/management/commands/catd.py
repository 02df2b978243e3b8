"""``openprep catd add --clave C --nombre N``: register a collection centre."""

from __future__ import annotations

from typing import Any

from openprep.accounts.services import CuentaError, registrar_catd
from openprep.commands import OpenprepCommand


class Command(OpenprepCommand):
    help = "Da de alta una CATD (Centro de Acopio y Transmisión de Datos)."

    def add_arguments(self, parser: Any) -> None:
        # Checked here, not by argparse, so that every mistake is reported in Spanish.
        parser.add_argument("accion", nargs="?", help="add")
        parser.add_argument("--clave", help="clave de la CATD, p. ej. CATD-01")
        parser.add_argument("--nombre", help="nombre de la CATD")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accion"] != "add":
            raise CuentaError(
                f"acción {options['accion'] or '(ninguna)'!r} desconocida.",
                hint="Use «openprep catd add --clave C --nombre N».",
            )
        faltan = [f"--{o}" for o in ("clave", "nombre") if options[o] is None]
        if faltan:
            raise CuentaError(f"falta {' y '.join(faltan)}.", hint="Indique --clave y --nombre.")
        catd = registrar_catd(clave=options["clave"], nombre=options["nombre"])
        self.stdout.write(f"CATD registrada: {catd}")
