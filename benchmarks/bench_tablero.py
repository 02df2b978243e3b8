"""Benchmark of the coordinator dashboard's figures at national scale (see benchmarks/README.md).

1. Copies the national corte benchmark's database (``bench_corte.py``'s
   ``openprep_bench_corte_<N>``: 511,944 actas, all verified; ``make bench-corte`` makes
   it) into ``openprep_bench_tablero`` and adds what a night would have and that one
   lacks: ``--catds`` CATDs with the casillas dealt among them (by casilla id), and each
   acta's events (ACOPIO at its casilla's CATD, DIGITALIZACION, two CAPTURA, VERIFICACION:
   2.56 million rows).
2. Times ``coordinacion.metrics.figures`` (what ``GET /coordinacion/`` computes) in a fresh
   process, three calls in a row (the first decides every verified acta: a new server
   process's memo is empty), for a coordinator of one CATD and for one of every CATD,
   with the number of SQL statements and the slowest ones.

Results: ``build/bench/tablero/resultado.json``. The copy is dropped unless ``--conservar``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench" / "tablero"
PG = os.environ.get("OPENPREP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = "openprep_bench_tablero"
FUENTE = "openprep_bench_corte_170648"

PREPARAR = (
    """INSERT INTO accounts_catd (clave, nombre)
    SELECT 'CATD-' || lpad(g::text, 3, '0'), 'CATD ' || g FROM generate_series(1, %(catds)s) g""",
    """UPDATE catalog_casilla c SET catd_id = d.id FROM accounts_catd d
    WHERE d.clave = 'CATD-' || lpad(((c.id %% %(catds)s) + 1)::text, 3, '0')""",
    """INSERT INTO intake_eventoacta
    (acta_id, tipo, estado_anterior, estado_nuevo, usuario_id, catd, cuando, registrado, datos)
    SELECT a.id, t.tipo, t.antes, t.despues, %(usuario)s, COALESCE(d.clave, ''),
           a.fecha_hora_verificacion, now(), '{}'::jsonb
    FROM intake_acta a
    JOIN catalog_actaesperada e ON e.id = a.esperada_id
    JOIN catalog_casilla c ON c.id = e.casilla_id
    LEFT JOIN accounts_catd d ON d.id = c.catd_id
    CROSS JOIN (VALUES ('ACOPIO', 'ESPERADA', 'ACOPIADA'),
                       ('DIGITALIZACION', 'ACOPIADA', 'DIGITALIZADA'),
                       ('CAPTURA', 'DIGITALIZADA', 'DIGITALIZADA'),
                       ('CAPTURA', 'DIGITALIZADA', 'CAPTURADA'),
                       ('VERIFICACION', 'CAPTURADA', 'VERIFICADA')) t(tipo, antes, despues)""",
)


def sql(db: str, *statements: str, params: dict | None = None) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement, params)  # type: ignore[arg-type]


def preparar(catds: int) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (FUENTE,)).fetchone()
            is None
        ):
            raise SystemExit(f"falta la base {FUENTE}: corra antes «make bench-corte».")
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB} TEMPLATE {FUENTE}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "DJANGO_SETTINGS_MODULE": "openprep.settings",
    }
    subprocess.run([sys.executable, "-m", "openprep", "migrate", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, __file__, "--paso", "cuentas"], env=env, check=True, cwd=ROOT)
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        (usuario,) = conn.execute("SELECT min(id) FROM auth_user").fetchone()
    started = time.perf_counter()
    sql(DB, *PREPARAR, params={"catds": catds, "usuario": usuario})
    sql(DB, "VACUUM ANALYZE")
    print(f"preparación: {catds} CATD y eventos en {time.perf_counter() - started:.0f} s")


def cuentas() -> None:
    """Two coordinators (one CATD, every CATD); the CATDs are added after, by SQL."""
    import django

    django.setup()
    from openprep.accounts.models import CATD, Rol
    from openprep.accounts.services import registrar_catd, registrar_operador

    primera = CATD.objects.order_by("clave").first() or registrar_catd(
        clave="CATD-000", nombre="Central"
    )
    registrar_operador(usuario="banco-nacional", rol=Rol.COORDINADOR, clave="x" * 20,
                       catd=primera, todas_las_catd=True)  # fmt: skip


def medir(usuario: str, clave_catd: str | None) -> dict:
    """Three dashboards in a row for ``usuario`` (moved to ``clave_catd`` if given)."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from openprep.accounts.models import CATD, Rol
    from openprep.accounts.services import registrar_operador
    from openprep.coordinacion import metrics

    if clave_catd is not None and not get_user_model().objects.filter(username=usuario).exists():
        registrar_operador(usuario=usuario, rol=Rol.COORDINADOR, clave="x" * 20,
                           catd=CATD.objects.get(clave=clave_catd))  # fmt: skip
    user = get_user_model().objects.get(username=usuario)
    llamadas = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            figures = metrics.figures(user, ahora=timezone.now(), minutos=30)
        llamadas.append(
            {
                "segundos": round(time.perf_counter() - wall, 2),
                "cpu_python": round(time.process_time() - cpu, 2),
                "sentencias": len(queries.captured_queries),
                "mas_lentas": [
                    [float(q["time"]), q["sql"][:120]]
                    for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
                ],
            }
        )
    total = figures.avance_de()
    return {"usuario": usuario, "verificadas": total.verificadas, "llamadas": llamadas}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--catds", type=int, default=300)
    parser.add_argument("--conservar", action="store_true", help=f"no borra {DB}")
    parser.add_argument("--paso", help=argparse.SUPPRESS)
    parser.add_argument("--usuario", help=argparse.SUPPRESS)
    parser.add_argument("--catd", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.paso == "cuentas":
        cuentas()
        return 0
    if args.paso == "medir":
        print(json.dumps(medir(args.usuario, args.catd)))
        return 0

    BUILD.mkdir(parents=True, exist_ok=True)
    preparar(args.catds)
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "DJANGO_SETTINGS_MODULE": "openprep.settings",
    }
    resultados = []
    try:
        for usuario, catd in (("banco-catd-007", "CATD-007"), ("banco-nacional", None)):
            argv = [sys.executable, __file__, "--paso", "medir", "--usuario", usuario]
            salida = subprocess.run(
                argv + (["--catd", catd] if catd else []),
                env=env, check=True, cwd=ROOT, capture_output=True, text=True,
            )  # fmt: skip
            resultado = json.loads(salida.stdout.strip().splitlines()[-1])
            resultado["carga_1min"] = os.getloadavg()[0]
            resultados.append(resultado)
            print(json.dumps(resultado, ensure_ascii=False))
    finally:
        if not args.conservar:
            sql("postgres", f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    (BUILD / "resultado.json").write_text(json.dumps(resultados, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
