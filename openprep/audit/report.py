"""The audit report as a person reads it (Spanish), with rich tables."""

from __future__ import annotations

from typing import IO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from openprep.core.audit import AuditReport
from openprep.core.tally import SUMMARY_FIELDS

SHOWN = 100
"""Rows of each list printed; --json has them all."""


def render_report(report: AuditReport, *, out: IO[str]) -> None:
    console = Console(file=out, width=120, highlight=False, soft_wrap=True)
    # Text from the file is escaped: "[...]" in a published cell is data, not markup.
    election, corte = escape(report.election), escape(report.corte)
    console.print(f"[bold]{election}[/] · corte {corte} · {report.actas:,} actas")
    summary = Table(title="Resumen", title_justify="left")
    summary.add_column("Campo")
    summary.add_column("Publicado", justify="right")
    summary.add_column("Recalculado", justify="right")
    summary.add_column("")
    for name in SUMMARY_FIELDS:
        published, recomputed = report.published[name], report.recomputed[name]
        mark = "[green]✓[/]" if published == recomputed else "[red]✗ difiere[/]"
        summary.add_row(name, escape(published), escape(recomputed), mark)
    console.print(summary)

    actas = [d for d in report.discrepancies if d.clave_acta is not None]
    if actas:
        table = Table(title=f"Actas con diferencias: {len(actas):,}", title_justify="left")
        for column in ("Línea", "CLAVE_ACTA", "Campo", "Publicado", "Recalculado"):
            table.add_column(column)
        for d in actas[:SHOWN]:
            cells = (d.clave_acta or "", d.field, d.published, d.recomputed)
            table.add_row(str(d.line), *(escape(c) for c in cells))
        console.print(table)
        if len(actas) > SHOWN:
            console.print(f"… y {len(actas) - SHOWN:,} más; use --json para la lista completa.")
    if report.warnings:
        console.print(
            f"[bold]Advertencias: {len(report.warnings):,}[/] (datos válidos pero inusuales)"
        )
        for w in report.warnings[:SHOWN]:
            console.print(f"  línea {w.line} · {escape(w.clave_acta)}: {escape(w.message)}")
        if len(report.warnings) > SHOWN:
            console.print(
                f"  … y {len(report.warnings) - SHOWN:,} más; use --json para verlas todas."
            )
    if report.consistent:
        console.print(
            "[green bold]Consistente:[/] las reglas reproducen cada acta y el resumen publicados."
        )
    else:
        console.print(
            f"[red bold]Inconsistente:[/] {len(report.discrepancies):,} diferencias entre lo "
            "publicado y lo recalculado."
        )
