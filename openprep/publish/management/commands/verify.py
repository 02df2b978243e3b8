"""``openprep verify DIR_OR_URL``: the check difusores, parties, auditors and journalists run."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from openprep.commands import OpenprepCommand, add_rule_arguments, rule_settings
from openprep.core.audit import AuditReport
from openprep.core.manifest import MANIFEST_NAME, parse_manifest
from openprep.publish.folder import CORTES, read_latest
from openprep.publish.mirror import fetch_latest_corte, previous_manifests
from openprep.publish.verify import CorteCheck, audit_downloads, check_corte, check_publication


class Command(OpenprepCommand):
    help = (
        "Verifica una publicación del PREP (carpeta local o URL de la carpeta que contiene "
        "latest.json): la firma de cada corte, la huella de cada archivo, la cadena de cortes "
        "y, con las reglas de contabilización, cada base de datos del corte vigente. Sale con "
        "0 solo si todo se cumple."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("origen", help="carpeta de publicación o URL (http/https)")
        parser.add_argument(
            "--cadena",
            type=int,
            default=1000,
            help="con una URL: cuántos cortes anteriores recorrer (predeterminado: 1000)",
        )
        add_rule_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=self.stdout, width=120, highlight=False, soft_wrap=True)
        origen: str = options["origen"]
        settings = rule_settings(options)
        problems: list[str] = []
        with tempfile.TemporaryDirectory(prefix="openprep-verify-") as scratch:
            if origen.startswith(("http://", "https://")):
                latest, folder = fetch_latest_corte(origen, Path(scratch))
                check = check_corte(folder)
                checks = [check]
                if check.ok:
                    problems += self._chain_over_http(origen, folder, options["cadena"])
            else:
                root = Path(origen)
                latest = read_latest(root)
                checks = check_publication(root)
                folder = root / CORTES / latest.corte if latest else root
            for c in checks:
                problems += c.problems
                self._print_check(console, c)
            if latest is not None and all(c.manifest_sha256 for c in checks):
                for name, result in audit_downloads(folder, settings=settings):
                    problems += self._print_audit(console, name, result)
        if problems:
            console.print(f"[red bold]No verificado:[/] {len(problems)} problema(s).")
            for p in problems[:50]:
                console.print(f"  • {escape(p)}")
            raise SystemExit(1)
        console.print(
            "[green bold]Verificado:[/] firma válida, cada archivo coincide con el manifiesto, "
            "la cadena de cortes está completa y las bases de datos son consistentes."
        )

    def _chain_over_http(self, origen: str, folder: Path, limit: int) -> list[str]:
        """Each earlier manifest must hash to what the next one chains to."""
        manifest = parse_manifest((folder / MANIFEST_NAME).read_bytes())
        expected = manifest.anterior_sha256
        for corte, data in previous_manifests(origen, manifest, limit=limit):
            if hashlib.sha256(data).hexdigest() != expected:
                return [f"la cadena se rompe en el corte {corte}: su manifiesto cambió."]
            expected = parse_manifest(data).anterior_sha256
        return []

    def _print_check(self, console: Console, check: CorteCheck) -> None:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        console.print(f"{mark} {escape(str(check.folder))}")

    def _print_audit(
        self, console: Console, name: str, result: AuditReport | Exception
    ) -> list[str]:
        if not isinstance(result, AuditReport):
            console.print(f"[red]✗[/] {escape(name)}: {escape(str(result))}")
            return [str(result)]
        if result.consistent:
            console.print(
                f"[green]✓[/] {escape(name)}: {result.actas:,} actas, consistente con las reglas"
            )
            return []
        console.print(f"[red]✗[/] {escape(name)}: {len(result.discrepancies)} diferencias")
        return [
            f"{name}: línea {d.line}, {d.clave_acta or 'resumen'}, {d.field}: publicado "
            f"{d.published!r}, recalculado {d.recomputed!r}"
            for d in result.discrepancies
        ]
