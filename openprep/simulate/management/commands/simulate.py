"""``openprep simulate package|night``: drills with fictitious data (simulacros).

``package`` writes an election package with its accounts and ground truth; ``night``
drives a running server through HTTP as the night's operators would and compares the
databases it publishes with the truth. Exit codes of ``night``: 0 the server's databases
equal the truth, 1 they differ, 2 unusable input (package, server address).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError
from openprep.simulate.client import comprobar_servidor
from openprep.simulate.night import (
    Noche,
    PaqueteSimulado,
    ResultadoNoche,
    leer_paquete_simulado,
    percentil,
)

DIFERENCIAS_MOSTRADAS = 20
EXIT_DIFIERE = 1


class SimulacroError(UserError):
    """A drill asked for with values that cannot work."""


class Command(OpenprepCommand):
    help = "Simulacros: genera un paquete electoral ficticio o simula la noche contra un servidor."

    def add_arguments(self, parser: Any) -> None:
        acciones = parser.add_subparsers(dest="accion", required=True, metavar="ACCIÓN")
        paquete = acciones.add_parser(
            "package",
            help="escribe un paquete electoral ficticio con cuentas y verdad",
            description="Escribe en --out un paquete electoral ficticio (importable con "
            "«openprep catalog import»), las cuentas del simulacro (operadores.csv) y la "
            "verdad: la base de datos PREP que debe resultar de la noche (verdad/).",
        )
        paquete.add_argument("--casillas", type=int, required=True, help="número de casillas")
        paquete.add_argument("--seed", type=int, default=1, help="semilla (predeterminada: 1)")
        paquete.add_argument("--out", required=True, help="carpeta donde escribir el paquete")
        noche = acciones.add_parser(
            "night",
            help="simula la noche por HTTP y compara el resultado con la verdad",
            description="Acopio, digitalización, captura y verificación de cada acta de la "
            "verdad del paquete, por HTTP, como lo harían los operadores; al final descarga "
            "la base de datos de cada elección y la compara con la verdad. Código de salida: "
            "0 igual, 1 diferente, 2 datos inutilizables.",
        )
        noche.add_argument("--server", required=True, help="p. ej. http://127.0.0.1:8000")
        noche.add_argument("--package", required=True, help="carpeta del paquete simulado")
        noche.add_argument(
            "--operators",
            type=int,
            default=None,
            help="capturistas trabajando a la vez (predeterminado: todos los del paquete)",
        )
        noche.add_argument(
            "--typos",
            type=float,
            default=0.02,
            help="proporción de capturas con un campo equivocado (predeterminado: 0.02)",
        )
        noche.add_argument("--seed", type=int, default=1, help="semilla (predeterminada: 1)")
        noche.add_argument(
            "--espera",
            type=float,
            default=60.0,
            help="segundos sin avance tras los que la noche se da por detenida (60)",
        )
        noche.add_argument(
            "--comparar",
            action="store_true",
            help="no simula nada: solo descarga las bases de datos y las compara con la verdad",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.console = Console(file=self.stdout._out, width=120, highlight=False, soft_wrap=True)
        if options["accion"] == "package":
            self.paquete(options)
        else:
            self.noche(options)

    def paquete(self, options: dict[str, Any]) -> None:
        from openprep.simulate.package import write_package

        salida = Path(options["out"])
        write_package(out=salida, casillas=options["casillas"], seed=options["seed"])
        resumen_paquete(leer_paquete_simulado(salida), console=self.console)

    def noche(self, options: dict[str, Any]) -> None:
        if not 0 <= options["typos"] <= 1:
            raise SimulacroError(
                f"--typos {options['typos']} no es una proporción.",
                hint="Use un número entre 0 y 1, p. ej. 0.02.",
            )
        if options["operators"] is not None and options["operators"] < 2:
            raise SimulacroError(
                "--operators debe ser 2 o más: cada acta se captura dos veces, a ciegas.",
                hint="P. ej. --operators 8.",
            )
        paquete = leer_paquete_simulado(Path(options["package"]))
        servidor = options["server"].rstrip("/")
        comprobar_servidor(servidor)
        noche = Noche(
            servidor=servidor,
            paquete=paquete,
            capturistas=options["operators"],
            typos=options["typos"],
            seed=options["seed"],
            espera=options["espera"],
            avisar=lambda texto: self.stderr.write(texto),
        )
        if options["comparar"]:
            resultado = noche.comparar()
        else:
            self.console.print(
                f"Simulando la noche contra {escape(servidor)}: {len(paquete.filas):,} actas "
                f"de {len(paquete.verdad)} elecciones…"
            )
            resultado = noche.correr()
        informe(resultado, console=self.console)
        if not resultado.iguales:
            sys.exit(EXIT_DIFIERE)


def resumen_paquete(paquete: PaqueteSimulado, *, console: Console) -> None:
    roles = Counter(c.rol for c in paquete.cuentas)
    console.print(f"Paquete simulado escrito en {escape(str(paquete.directorio))}:")
    tabla = Table(title="Verdad de la noche", title_justify="left")
    for columna in ("Elección", "Nombre", "Actas", "SIN ACTA", "Fuera de catálogo"):
        tabla.add_column(columna, justify="left" if columna in {"Elección", "Nombre"} else "right")
    for clave, base in paquete.verdad.items():
        filas = base.filas.values()
        sin_acta = sum(1 for f in filas if f["OBSERVACIONES"].upper().startswith("SIN ACTA"))
        fuera = sum(1 for f in filas if f["CLAVE_CASILLA"] == "-")
        tabla.add_row(
            escape(clave),
            escape(base.nombre),
            f"{len(base.filas):,}",
            f"{sin_acta:,}",
            f"{fuera:,}",
        )
    console.print(tabla)
    cuentas = ", ".join(f"{n} {rol}" for rol, n in sorted(roles.items()))
    console.print(f"Cuentas del simulacro (operadores.csv): {cuentas}.")
    console.print(
        f"Siguiente paso: openprep catalog import {escape(str(paquete.directorio))}, "
        "openprep serve y openprep simulate night."
    )


def _ms(segundos: float) -> str:
    return f"{segundos * 1000:.0f} ms"


def informe(resultado: ResultadoNoche, *, console: Console) -> None:
    """The night in Spanish: per election, the work done, speed, and the first differences."""
    diferencias_por = Counter(d.eleccion for d in resultado.diferencias)
    tabla = Table(title="Resultado por elección", title_justify="left")
    for columna in ("Elección", "Nombre", "Actas en la verdad", "Publicadas", "Diferencias", ""):
        tabla.add_column(columna)
    for clave, (nombre, esperadas, publicadas) in resultado.elecciones.items():
        n = diferencias_por[clave]
        marca = "[green]✓ igual[/]" if n == 0 else "[red]✗ difiere[/]"
        tabla.add_row(
            escape(clave), escape(nombre), f"{esperadas:,}", f"{publicadas:,}", str(n), marca
        )
    console.print(tabla)

    if resultado.latencias:
        _trabajo(resultado, console=console)
    _problemas(resultado, console=console)


def _trabajo(resultado: ResultadoNoche, *, console: Console) -> None:
    c = resultado.contadores
    trabajo = Table(title="Trabajo de la noche", title_justify="left")
    for columna in ("Paso", "Peticiones", "p50", "p99"):
        trabajo.add_column(columna, justify="left" if columna == "Paso" else "right")
    pasos = (
        ("acopio", "Acopio"),
        ("digitalizacion", "Digitalización (CATD)"),
        ("casilla_api", "PREP Casilla (API)"),
        ("sin_acta", "SIN ACTA"),
        ("siguiente", "Captura: siguiente"),
        ("captura", "Captura"),
        ("siguiente_verificacion", "Verificación: siguiente"),
        ("verificacion", "Verificación y cotejo"),
    )
    for clave, nombre in pasos:
        valores = resultado.latencias.get(clave, [])
        trabajo.add_row(
            nombre, f"{len(valores):,}", _ms(percentil(valores, 0.5)), _ms(percentil(valores, 0.99))
        )
    console.print(trabajo)
    captura = resultado.latencias.get("captura", [])
    console.print(
        f"Capturas: {len(captura):,} en {resultado.segundos_captura:.1f} s = "
        f"[bold]{resultado.capturas_por_segundo:.1f} capturas/s[/]; latencia del POST de "
        f"captura p50 {_ms(percentil(captura, 0.5))}, p99 {_ms(percentil(captura, 0.99))}. "
        f"Actas a cotejo: {c['cotejo']:,}. Duración total: {resultado.segundos:.1f} s."
    )


def _problemas(resultado: ResultadoNoche, *, console: Console) -> None:
    if resultado.rechazos:
        console.print(f"[bold]Peticiones rechazadas: {len(resultado.rechazos):,}[/]")
        for r in resultado.rechazos[:DIFERENCIAS_MOSTRADAS]:
            console.print(
                f"  {escape(r.peticion)} ({escape(r.usuario)}): {r.status} {escape(r.mensaje)}"
            )
    for incidente in resultado.incidentes:
        console.print(f"[red bold]Incidente:[/] {escape(incidente)}")
    if resultado.diferencias:
        primeras = Table(
            title=f"Primeras diferencias (de {len(resultado.diferencias):,})", title_justify="left"
        )
        for columna in ("Elección", "CLAVE_ACTA", "Campo", "Verdad", "Servidor"):
            primeras.add_column(columna)
        for d in resultado.diferencias[:DIFERENCIAS_MOSTRADAS]:
            celdas = (d.eleccion, d.clave_acta or "(resumen)", d.campo, d.esperado, d.obtenido)
            primeras.add_row(*(escape(x) for x in celdas))
        console.print(primeras)
    if resultado.iguales:
        console.print(
            "[green bold]Igual a la verdad:[/] cada acta y cada cifra del resumen de cada "
            "elección coinciden."
        )
    else:
        console.print(
            "[red bold]Diferente de la verdad:[/] revise las diferencias y los incidentes."
        )
