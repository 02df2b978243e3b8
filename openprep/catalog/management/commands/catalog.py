"""``openprep catalog import DIR``: load the election package into the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command

from openprep.catalog.errors import CatalogError
from openprep.catalog.package import leer_paquete
from openprep.catalog.services import TABLAS, Conteo, ResultadoImportacion, importar_paquete
from openprep.commands import OpenprepCommand

_FEMENINAS = {"elecciones", "candidaturas", "casillas", "actas esperadas"}


class Command(OpenprepCommand):
    help = "Catálogo de la elección: importa el paquete electoral (openprep catalog import DIR)."

    def add_arguments(self, parser: Any) -> None:
        acciones = parser.add_subparsers(dest="accion", required=True, metavar="ACCIÓN")
        importar = acciones.add_parser(
            "import",
            help="importa o actualiza el catálogo desde la carpeta de un paquete electoral",
            description=(
                "Lee proceso.toml, casillas.csv, elecciones.csv y contendientes.csv de DIR, "
                "los valida (informa todos los errores a la vez) y deja el catálogo igual al "
                "paquete. Importar el mismo paquete dos veces no cambia nada. Una vez iniciada "
                "la publicación el catálogo está bloqueado: solo un administrador puede "
                "cambiarlo, con --forzar, y cada cambio queda registrado."
            ),
        )
        importar.add_argument("dir", metavar="DIR", help="carpeta del paquete electoral")
        importar.add_argument(
            "--forzar",
            action="store_true",
            help="aplica los cambios aunque la publicación ya haya iniciado (requiere --usuario)",
        )
        importar.add_argument(
            "--usuario", help="nombre de usuario del administrador que hace el cambio"
        )
        importar.add_argument(
            "--motivo", default="", help="por qué se cambia el catálogo (queda registrado)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accion"] == "import":
            self.importar(options)

    def importar(self, options: dict[str, Any]) -> None:
        directorio = Path(options["dir"])
        paquete = leer_paquete(directorio)
        call_command("migrate", verbosity=0, interactive=False)
        usuario = None
        if options["usuario"]:
            usuario = get_user_model().objects.filter(username=options["usuario"]).first()
            if usuario is None:
                raise CatalogError(
                    f"no existe el usuario {options['usuario']!r}.",
                    hint="Escriba el nombre de usuario de un administrador.",
                )
        resultado = importar_paquete(
            paquete, usuario=usuario, forzar=options["forzar"], motivo=options["motivo"]
        )
        self.stdout.write(resumen(resultado, directorio=directorio))


def resumen(resultado: ResultadoImportacion, *, directorio: Path) -> str:
    """What an import did, table by table, in Spanish."""
    if resultado.sin_cambios:
        return f"Sin cambios: el catálogo ya es igual al paquete electoral de {directorio}."
    lineas = [f"Paquete electoral de {directorio} importado:"]
    for tabla in TABLAS:
        lineas.append(f"  {tabla}: {_conteo(resultado.conteos[tabla], tabla in _FEMENINAS)}")
    if resultado.bloqueado:
        n = resultado.cambios_registrados
        registrados = "cambio quedó registrado" if n == 1 else "cambios quedaron registrados"
        lineas.append(
            f"La publicación ya había iniciado: {n} {registrados} en la bitácora de cambios "
            "al catálogo."
        )
    return "\n".join(lineas)


def _conteo(conteo: Conteo, femenina: bool) -> str:
    if conteo.total == 0:
        return "sin cambios"
    partes = []
    for numero, raiz, cola in (
        (conteo.creados, "cread", ""),
        (conteo.actualizados, "actualizad", ""),
        (conteo.eliminados, "eliminad", ""),
        (conteo.reordenados, "cambiad", " de lugar en el orden de publicación"),
    ):
        if numero:
            plural = "" if numero == 1 else "s"
            partes.append(f"{numero:,} {raiz}{'a' if femenina else 'o'}{plural}{cola}")
    return ", ".join(partes)
