"""``openprep replay FILE --out DIR``: rebuild a published corte through the services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from openprep.audit.replay import replay
from openprep.commands import OpenprepCommand, add_rule_arguments, rule_settings


class Command(OpenprepCommand):
    help = (
        "Reproduce una base de datos PREP publicada: crea el catálogo, registra cada acta "
        "(acopio, digitalización, dos capturas y verificación, o SIN ACTA) con los servicios "
        "de la aplicación y escribe el corte a la hora publicada en DIR/<nombre del archivo>."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="base de datos PREP publicada (CSV)")
        parser.add_argument("--out", required=True, help="carpeta donde escribir el corte")
        add_rule_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        settings = rule_settings(options)
        call_command("migrate", verbosity=0, interactive=False)
        with Progress(
            TextColumn("Reproduciendo actas"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stderr._out, stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("actas", total=None)
            result = replay(
                Path(options["file"]),
                out_dir=Path(options["out"]),
                settings=settings,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        summary = result.database.summary
        self.stdout.write(
            f"Corte {result.database.corte} de {result.eleccion.nombre}: "
            f"{result.database.actas:,} actas registradas, "
            f"{summary['ACTAS_CONTABILIZADAS']} contabilizadas, "
            f"participación {summary['PORCENTAJE_PARTICIPACION_CIUDADANA']} %."
        )
        self.stdout.write(f"Escrito en {result.output}")
