"""Benchmark of ``openprep audit`` at national scale (see benchmarks/README.md).

Synthesizes a PREP database of ``--rows`` actas (500,000 by default) by repeating the
reference rows (QROO 2019) under new, unique keys, then measures, best of ``--runs``:

* ``openprep audit FILE --json`` as a subprocess (the columnar path): wall time, peak RSS;
* a plain ``csv.reader`` pass over the same file, in a subprocess of the same Python;
* the row path (``PrepDbReader.rows()`` → ``core.audit.audit``) for comparison.

The synthesized file audits clean (exit 0): each copy of the reference gets its own
entidad and block of secciones, so CLAVE_CASILLA, CLAVE_ACTA, ID_ESTADO and SECCION
stay consistent, every SHA is unique and the summary is recomputed for the new rows.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path(
    os.environ.get(
        "OPENPREP_REFERENCE", ROOT.parent / "shared" / "reference" / "QROO_DIP_LOC_2019.csv"
    )
)
BUILD = ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
GENERATOR_VERSION = 1

ENTIDADES = 32
SECCION_BLOCK = 1000
"""Copy k of the reference lives in entidad k % 32 + 1, secciones + 1000 × (k // 32)."""

CSV_PASS = """
import csv, sys
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    for _ in csv.reader(f, delimiter="|"):
        pass
"""

ROW_PATH = """
import sys
from openprep.core.audit import audit
from openprep.core.prepdb import PrepDbReader
from openprep.core.rules import RuleSettings
settings = RuleSettings()
with PrepDbReader(sys.argv[1], settings=settings) as reader:
    report = audit(reader.header, reader.rows(), settings=settings)
sys.exit(0 if report.consistent else 1)
"""


# -- the synthetic database --------------------------------------------------------


def synthesize(target: Path, *, rows: int, reference: Path = REFERENCE) -> None:
    """Write ``rows`` actas built from the reference rows, with a recomputed summary."""
    from openprep.core.prepdb import PrepDbReader
    from openprep.core.rules import RuleSettings, contabilizar
    from openprep.core.tally import SUMMARY_FIELDS, Summary

    settings = RuleSettings()
    with PrepDbReader(reference, settings=settings) as reader:
        header = reader.header
        published = [
            (row, contabilizar(row.acta, election=header.election, settings=settings))
            for row in reader.rows()
        ]
    with open(reference, encoding="utf-8-sig", newline="") as f:
        lines = f.read().splitlines()
    top, column_line = lines[:3], lines[6]
    raw_rows = [line for line in lines[7:] if line.strip()]
    assert len(raw_rows) == len(published)
    columns = header.columns
    at = {name: i for i, name in enumerate(columns)}
    copies = -(-rows // len(raw_rows))
    if copies > ENTIDADES * 9:
        raise SystemExit(f"--rows admite a lo más {ENTIDADES * 9 * len(raw_rows):,} actas.")

    summary = Summary(actas_esperadas=rows)
    for i in range(rows):
        row, decision = published[i % len(published)]
        summary.add(row.acta, decision)
    values = summary.fields(participacion=settings.participacion)

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with open(partial, "w", encoding="utf-8", newline="") as out:
        out.write("\n".join(top) + "\n")
        out.write("|".join(SUMMARY_FIELDS) + "\n")
        out.write("|".join(values[name] for name in SUMMARY_FIELDS) + "\n\n")
        out.write(column_line + "\n")
        written = 0
        for copy in range(copies):
            entidad = copy % ENTIDADES + 1
            block = copy // ENTIDADES * SECCION_BLOCK
            chunk: list[str] = []
            for text in raw_rows[: rows - written]:
                cells = text.split("|")
                seccion = int(cells[at["SECCION"]]) + block
                clave = (
                    f"{entidad:02d}{seccion:04d}{cells[at['TIPO_CASILLA']]}"
                    f"{int(cells[at['ID_CASILLA']]):02d}{int(cells[at['EXT_CONTIGUA']]):02d}"
                )
                cells[at["CLAVE_CASILLA"]] = f'="{clave}"'
                cells[at["CLAVE_ACTA"]] = clave + cells[at["TIPO_ACTA"]].zfill(2)
                cells[at["ID_ESTADO"]] = str(entidad)
                cells[at["SECCION"]] = str(seccion)
                if cells[at["SHA"]]:
                    seed = f"{copy}:{cells[at['SHA']]}".encode()
                    cells[at["SHA"]] = hashlib.sha256(seed).hexdigest()
                chunk.append("|".join(cells))
            out.write("\n".join(chunk) + "\n")
            written += len(chunk)
        out.write("\n")
    os.replace(partial, target)
    meta = {"rows": rows, "bytes": target.stat().st_size, "version": GENERATOR_VERSION}
    target.with_suffix(".json").write_text(json.dumps(meta) + "\n")


def ensure_database(rows: int) -> Path:
    """The synthetic database of ``rows`` actas, reused when already built."""
    target = BUILD / f"PREP_SINTETICA_{rows}.csv"
    meta_path = target.with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text())
        if meta == {"rows": rows, "bytes": target.stat().st_size, "version": GENERATOR_VERSION}:
            return target
    except (OSError, ValueError):
        pass
    print(f"Generando {target} ({rows:,} actas)…", file=sys.stderr)
    synthesize(target, rows=rows)
    return target


# -- measuring ---------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    wall: float
    peak_mb: float
    exit_code: int


def measure(argv: Sequence[str]) -> Run:
    """Wall time and peak RSS of one subprocess (``wait4`` gives that child's own rusage)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} falló ({process.returncode}):\n{stderr}")
    return Run(wall=wall, peak_mb=usage.ru_maxrss / 1024, exit_code=process.returncode)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Mide openprep audit a escala nacional.")
    parser.add_argument("--rows", type=int, default=500_000, help="actas (500,000)")
    parser.add_argument("--runs", type=int, default=3, help="se toma la mejor de N corridas (3)")
    parser.add_argument(
        "--row-path-runs",
        type=int,
        default=1,
        help="corridas del camino fila por fila, el lento (1; 0 lo omite)",
    )
    args = parser.parse_args(argv)

    database = ensure_database(args.rows)
    size_mb = database.stat().st_size / 1e6
    python = str(BIN / "python")
    commands = {
        "audit": [str(BIN / "openprep"), "audit", str(database), "--json"],
        "csv": [python, "-c", CSV_PASS, str(database)],
        "filas": [python, "-c", ROW_PATH, str(database)],
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for i in range(max(args.runs, args.row_path_runs)):
        # Interleaved, so that a busy moment of the machine weighs on both sides.
        for name, command in commands.items():
            if i < (args.row_path_runs if name == "filas" else args.runs):
                runs[name].append(measure(command))
                print(f"  {name}: {runs[name][-1]}", file=sys.stderr)
    if any(run.exit_code != 0 for run in runs["audit"]):
        raise SystemExit("La base sintética debe auditarse sin diferencias (salida 0).")
    audit = min(runs["audit"], key=lambda r: r.wall)
    reader = min(runs["csv"], key=lambda r: r.wall)
    rows_path = min(runs["filas"], key=lambda r: r.wall) if runs["filas"] else None

    print(
        f"máquina: {os.cpu_count()} núcleos, Python {platform.python_version()}, "
        f"polars {_polars()}; mejor de {args.runs}"
    )
    print("      filas   tamaño  audit s    csv s   razón  pico MB  filas s  pico filas MB")
    print(
        f"{args.rows:>11,} {size_mb:>6.0f}MB {audit.wall:>8.2f} {reader.wall:>8.2f} "
        f"{audit.wall / reader.wall:>7.2f} {audit.peak_mb:>8.0f} "
        f"{(f'{rows_path.wall:.2f}' if rows_path else '-'):>8} "
        f"{(f'{rows_path.peak_mb:.0f}' if rows_path else '-'):>14}"
    )
    verdict = audit.wall < 10 and audit.peak_mb < 1024 and audit.wall <= 3 * reader.wall
    print("meta (< 10 s, < 1 GB, ≤ 3 × csv.reader): " + ("cumplida" if verdict else "NO cumplida"))


def _polars() -> str:
    import polars

    return polars.__version__


if __name__ == "__main__":
    main()
