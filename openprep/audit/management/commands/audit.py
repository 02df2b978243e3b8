"""``openprep audit FILE``: recompute a published PREP database and compare."""

from __future__ import annotations

import json
from typing import Any

from openprep.audit.report import render_report
from openprep.commands import OpenprepCommand, add_rule_arguments, rule_settings
from openprep.core.columnar import audit_file


class Command(OpenprepCommand):
    help = (
        "Recalcula cada acta y el resumen de una base de datos PREP publicada y los compara "
        "con lo publicado. Sale con 0 si es consistente, 1 si hay discrepancias y 2 si el "
        "archivo no se puede leer."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="base de datos PREP (CSV)")
        parser.add_argument("--json", action="store_true", help="imprime un solo objeto JSON")
        add_rule_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        settings = rule_settings(options)
        report = audit_file(options["file"], settings=settings)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
        else:
            render_report(report, out=self.stdout)
        if not report.consistent:
            raise SystemExit(1)
