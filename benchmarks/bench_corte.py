"""Benchmark of the corte build at national scale (see benchmarks/README.md).

1. ``prepare`` (a child process): a PostgreSQL database ``openprep_bench_corte_<N>``
   (``OPENPREP_BENCH_PG``, default ``postgresql://postgres@127.0.0.1:5432``), migrated,
   with a synthetic catalog of ``--casillas`` casillas (the simulator's geography and
   ballots: GUBERNATURA, DIPUTACIONES LOCALES, AYUNTAMIENTOS; every casilla has an acta of
   each) and every expected acta VERIFICADA, as a replay leaves them: values as text, the
   three timestamps, an :class:`Imagen` known by its hash only (no file), about 1 % SIN
   ACTA. Rows go in with COPY (74 s for the national database). The database is kept,
   with a marker in ``build/bench/corte/``, and reused by ``--reuse`` when it matches.
2. ``build`` (a child process): ``openprep.publish.builder.build`` into a fresh
   publication folder, timed with ``time.perf_counter``; its peak RSS is the child's
   ``ru_maxrss`` (``os.wait4``), and the parent samples the tree's summed PSS every
   second (the builder is one process: it writes the elections in threads). The CPU
   time of the whole machine during the build (the database server's included) and the
   time stolen by the hypervisor come from ``/proc/stat``.
3. ``phases`` (a child process): the same work the builder does, one election after the
   other, timed phase by phase (decide: read the expected actas and the actas, decide
   them; write the zip; the site's pages; then images, root pages, manifest + hashes +
   signature + swap); ``--perfil`` adds a cProfile of this run.
4. ``floor`` (a child process, right after each build): the three corte CSVs' bytes
   (taken from the zips the build wrote, loaded before the clock starts) written to files
   and zipped as the builder zips them (``ZIP_DEFLATED``), nothing else. Best of 3. The
   ratio is the median over the ``--runs`` pairs of build / floor: this machine's speed
   drifts by 10-20 % from one minute to the next, and both sides of a pair share it.

Results also go to ``build/bench/corte/resultado-<N>.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench" / "corte"
PG = os.environ.get("OPENPREP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
NATIONAL = 170_648
GENERATOR = 2
"""Bump when the generated data or the schema changes: a kept database with another version
is rebuilt (2: ``intake_acta.valores_lectura``, migration ``intake/0005``)."""
SEED = 2027
TZ = "America/Mexico_City"
JORNADA = datetime(2027, 6, 7, 0, 0, tzinfo=UTC)  # 18:00 local, polls close
HASTA = datetime(2027, 6, 8, 2, 0, tzinfo=UTC)  # every acta verified by then


def db_name(casillas: int) -> str:
    return f"openprep_bench_corte_{casillas}"


def marker(casillas: int) -> Path:
    return BUILD / f"{db_name(casillas)}.json"


def child_env(casillas: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{PG}/{db_name(casillas)}",
        "OPENPREP_DATA_DIR": str(BUILD / "data"),
        "DJANGO_SETTINGS_MODULE": "openprep.settings",
    }


def django_setup() -> None:
    import django

    django.setup()


# --- 1. prepare ------------------------------------------------------------------------


def _votes(
    rng: random.Random,
    *,
    columnas: tuple[str, ...],
    boleta: frozenset[str],
    lista: int,
    especial: bool,
) -> dict[str, str]:
    """One acta's captured values (text), roughly like a real one."""
    votantes = rng.randint(50, 700) if especial else int(lista * (0.4 + 0.35 * rng.random()))
    valores: dict[str, str] = {}
    restantes = votantes
    for c in columnas:
        if c in boleta:
            peso = 0.03 if c.startswith("C_") else 0.25
            v = min(restantes, int(votantes * peso * rng.random()))
            restantes -= v
            valores[c] = str(v)
    nulos = min(restantes, int(votantes * 0.03 * rng.random()))
    no_registrados = min(restantes - nulos, rng.randint(0, 2))
    total = votantes - restantes + nulos + no_registrados
    valores["NO_REGISTRADOS"] = str(no_registrados)
    valores["NULOS"] = str(nulos)
    valores["TOTAL_VOTOS_ASENTADO"] = str(total)
    valores["TOTAL_BOLETAS_SOBRANTES"] = str(max(0, lista - total))
    valores["TOTAL_PERSONAS_VOTARON"] = str(total)
    valores["TOTAL_REP_PARTIDO_CI_VOTARON"] = str(rng.randint(0, 8))
    valores["TOTAL_VOTOS_SACADOS"] = str(total)
    if rng.random() < 0.01:  # an illegible or missing figure: an observation in the corte
        valores[rng.choice(list(valores))] = rng.choice(("ILEGIBLE", "SIN DATO"))
    return valores


CASILLA_COLUMNS = (
    "id id_entidad entidad id_distrito distrito id_municipio municipio seccion tipo id_casilla "
    "ext_contigua ubicacion lista_nominal"
)
ESPERADA_COLUMNS = "id eleccion casilla tipo_acta clave_acta orden representantes_pp_ci no_aplica"
ACTA_COLUMNS = (
    "id eleccion esperada clave_acta estado identidad_capturada mecanismo_traslado "
    "fecha_hora_acopio imagen origen digitalizacion tipo_documento motivo_sin_acta valores "
    "fecha_hora_captura fecha_hora_verificacion fecha_hora_digitalizacion num_capturas"
)


def _copy(cursor: Any, model: Any, fields: str, rows: Any) -> int:
    """COPY ``rows`` (tuples in the order of the space-separated ``fields``) into the table."""
    columns = ", ".join(model._meta.get_field(f).column for f in fields.split())
    n = 0
    with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def prepare(casillas: int) -> None:
    django_setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from openprep.catalog.models import (
        ActaEsperada,
        Candidatura,
        Casilla,
        Contendiente,
        Eleccion,
        Proceso,
    )
    from openprep.core import model as core
    from openprep.intake.models import Acta, Estado, Imagen
    from openprep.simulate import ballots, geography

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    territorio = geography.construir(casillas=casillas, rng=rng)
    simuladas = ballots.elecciones(territorio, rng=rng)
    with transaction.atomic():
        proceso = Proceso.objects.create(
            instituto="INSTITUTO ELECTORAL DE BANCO",
            id_entidad=geography.ID_ENTIDAD,
            entidad=geography.ENTIDAD,
            zona_horaria=TZ,
            inicio_publicacion=JORNADA + timedelta(hours=2),
            intervalo_minutos=15,
            fin_publicacion=JORNADA + timedelta(hours=26),
            representantes="contendientes",
            boletas_especial=750,
            etiquetas="referencia",
        )
        cursor = connection.connection.cursor()
        identity = CASILLA_COLUMNS.split()[1:-1]
        casillas_rows = (
            (i, *(getattr(s.casilla, f) for f in identity), s.lista_nominal)
            for i, s in enumerate(territorio.casillas, 1)
        )
        _copy(cursor, Casilla, CASILLA_COLUMNS, casillas_rows)
        esperada_id = acta_id = 0
        for sim in simuladas:
            eleccion = Eleccion.objects.create(
                proceso=proceso,
                clave=sim.clave,
                nombre=sim.nombre,
                ambito=sim.ambito,
                tipo_acta=sim.tipo_acta,
                tipo_acta_especial=sim.tipo_acta_especial,
                zona_horaria=TZ,
            )
            contendientes = {
                c: Contendiente.objects.create(
                    eleccion=eleccion, clave=c, tipo=core.Contender.from_column(c).tipo, orden=k
                )
                for k, c in enumerate(sim.columnas, 1)
            }
            Candidatura.objects.bulk_create(
                Candidatura(
                    eleccion=eleccion,
                    contendiente=contendientes[c.columna],
                    id_territorio=c.territorio,
                    propietario=c.propietario,
                    suplente=c.suplente,
                )
                for c in sim.candidaturas
            )
            esperadas, imagenes, actas = [], [], []
            for orden, s in enumerate(territorio.casillas, 1):
                casilla = s.casilla
                tipo_acta = sim.tipo_acta_de(casilla)
                if not tipo_acta:
                    continue
                esperada_id += 1
                acta_id += 1
                boleta = sim.boleta(casilla)
                clave = core.clave_acta(casilla, tipo_acta)
                no_aplica = json.dumps([c for c in sim.columnas if c not in boleta])
                identidad = (esperada_id, eleccion.id, orden, tipo_acta, clave, orden)
                esperadas.append((*identidad, rng.randint(4, 16), no_aplica))
                acopio = JORNADA + timedelta(minutes=rng.randint(30, 1200))
                captura = acopio + timedelta(minutes=rng.randint(3, 40))
                verificacion = captura + timedelta(minutes=rng.randint(1, 15))
                base = (acta_id, eleccion.id, esperada_id, clave, Estado.VERIFICADA.value, "{}")
                if rng.random() < 0.01:  # SIN ACTA: no image, no values
                    sin_acta = ("", None, None, "CATD", "", "", "PAQUETE_NO_ENTREGADO", "{}")
                    actas.append((*base, *sin_acta, captura, verificacion, None, 0))
                    continue
                sha = hashlib.sha256(f"{sim.clave}:{clave}".encode()).hexdigest()
                imagenes.append((sha, 180_000 + rng.randint(0, 40_000), "", acopio))
                valores = _votes(
                    rng,
                    columnas=sim.columnas,
                    boleta=boleta,
                    lista=s.lista_nominal,
                    especial=casilla.especial,
                )
                imagen = ("F", acopio, sha, "CATD", "ESCANER", "ACTA PREP", "")
                actas.append(
                    (*base, *imagen, json.dumps(valores), captura, verificacion, acopio, 2)
                )
            _copy(cursor, ActaEsperada, ESPERADA_COLUMNS, esperadas)
            _copy(cursor, Imagen, "sha256 tamano archivo recibida", imagenes)
            _copy(cursor, Acta, ACTA_COLUMNS, actas)
            print(f"  {sim.clave}: {len(actas):,} actas", flush=True)
        for model in (Casilla, ActaEsperada, Acta):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    marker(casillas).write_text(
        json.dumps({"casillas": casillas, "actas": acta_id, "generator": GENERATOR})
    )
    print(f"  base preparada en {time.perf_counter() - started:.1f} s", flush=True)


# --- 2. build, 3. phases -------------------------------------------------------------------


def publicacion_dir(casillas: int) -> Path:
    path = BUILD / f"publicacion-{casillas}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _cpu() -> float:
    """CPU seconds of this process and of the workers it has reaped (not the database
    server's)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _machine_cpu() -> tuple[float, float]:
    """CPU seconds the whole machine has spent busy (every process: the builder, the
    database server, anything else) and stolen by the hypervisor, from ``/proc/stat``."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + ticks[4]  # idle, iowait
    steal = ticks[7] if len(ticks) > 7 else 0
    return (sum(ticks[:8]) - idle - steal) / hz, steal / hz


def build(casillas: int, out: Path) -> None:
    django_setup()
    from openprep.publish.builder import build as build_corte
    from openprep.publish.builder import signing_key

    key = signing_key()
    publicacion = publicacion_dir(casillas)
    load = os.getloadavg()[0]
    cpu_started = _cpu()
    machine_started, steal_started = _machine_cpu()
    started = time.perf_counter()
    latest = build_corte(publicacion, hasta=HASTA, key=key)
    wall = time.perf_counter() - started
    cpu = _cpu() - cpu_started
    machine, steal = _machine_cpu()
    corte = publicacion / "cortes" / latest.corte
    files = [p for p in corte.rglob("*") if p.is_file()]
    floor = BUILD / f"floor-{casillas}"
    shutil.rmtree(floor, ignore_errors=True)
    floor.mkdir()
    for z in (corte / "descargas").glob("*.zip"):
        with zipfile.ZipFile(z) as archive:
            name = next(n for n in archive.namelist() if "_PREP_" in n)
            (floor / name).write_bytes(archive.read(name))
    out.write_text(
        json.dumps(
            {
                "wall": wall,
                "build_cpu": cpu,
                "machine_cpu": machine - machine_started,
                "steal": steal - steal_started,
                "load_before": load,
                "load_after": os.getloadavg()[0],
                "files": len(files),
                "bytes": sum(p.stat().st_size for p in files),
                "zip_bytes": sum(p.stat().st_size for p in (corte / "descargas").glob("*")),
                "csv_bytes": sum(p.stat().st_size for p in floor.iterdir()),
            }
        )
    )


def phases(casillas: int, out: Path, *, perfil: bool) -> None:
    """The builder's ``write_files`` and ``build_corte`` in one process (each election
    in turn, as a worker would write it), with a clock around each phase."""
    django_setup()
    from dataclasses import replace

    from openprep.catalog.models import Eleccion
    from openprep.catalog.services import zona_horaria
    from openprep.core.model import format_corte
    from openprep.core.rules import Participacion
    from openprep.publish import builder, lectura, signing
    from openprep.publish.corte import decide_corte, rule_settings_de
    from openprep.publish.download import election_key, write_download
    from openprep.publish.folder import build_corte, file_sha256
    from openprep.publish.site import (
        SiteCorte,
        SiteElection,
        write_election_site,
        write_site_root,
    )

    key = builder.signing_key()
    publicacion = publicacion_dir(casillas)
    t: dict[str, float] = {}

    cpu_at = [time.process_time()]

    def clock(name: str, since: float) -> float:
        """Add the wall time since ``since`` to phase ``name``, and the CPU time since
        the last clock (this process only: the database server's is not counted)."""
        now, cpu = time.perf_counter(), time.process_time()
        t[name] = t.get(name, 0.0) + now - since
        t[f"{name} (CPU)"] = t.get(f"{name} (CPU)", 0.0) + cpu - cpu_at[0]
        cpu_at[0] = cpu
        return now

    started = time.perf_counter()
    elecciones = list(Eleccion.objects.select_related("proceso").order_by("id"))
    tz = zona_horaria(elecciones[0].zona_horaria)
    proceso = elecciones[0].proceso
    final = proceso.fin_publicacion <= HASTA
    participacion = Participacion.FINAL if final else Participacion.OPERACION
    fecha_hora = format_corte(HASTA, tz=tz)

    def write_files(folder: Path, numero: int) -> None:
        descargas = folder / builder.DESCARGAS
        descargas.mkdir()
        site = SiteCorte(
            instituto=proceso.instituto,
            entidad=proceso.entidad,
            numero=numero,
            fecha_hora=fecha_hora,
            final=final,
            elections=[],
            public_key=signing.public_key(key.path),
            principal=key.principal,
            history=[],
            nav=[(election_key(e), e.nombre) for e in elecciones],
        )
        elections, escritas = [], []
        with builder.consistent_read():
            s = time.perf_counter()
            casillas = lectura.casillas()
            clock("casillas", s)
            for e in elecciones:
                s = time.perf_counter()
                settings = replace(rule_settings_de(e, hasta=HASTA), participacion=participacion)
                esperadas = lectura.esperadas(e, casillas=casillas)
                decided = decide_corte(e, hasta=HASTA, settings=settings, esperadas=esperadas)
                s = clock(f"decide {e.clave}", s)
                download = write_download(
                    e, hasta=HASTA, folder=descargas, settings=settings, decided=decided
                )
                size, sha = download.path.stat().st_size, file_sha256(download.path)
                s = clock(f"zip {e.clave}", s)
                election = SiteElection(
                    clave=election_key(e),
                    nombre=e.nombre,
                    ambito=e.ambito,
                    election=decided.election,
                    summary=decided.summary,
                    rows=decided.fuera,
                    tabla=decided.tabla,
                    download=download.path.name,
                    download_size=size,
                    download_sha256=sha,
                    esperadas=esperadas,
                    settings=settings,
                )
                point = (
                    election.clave,
                    fecha_hora,
                    int(election.summary["ACTAS_CAPTURADAS"]),
                    int(election.summary["ACTAS_CONTABILIZADAS"]),
                )
                one = replace(site, elections=[election], history=[point])
                escritas.append(write_election_site(folder, one))
                clock(f"site {e.clave}", s)
                elections.append(replace(election, rows=(), esperadas=(), tabla=None))
        s = time.perf_counter()
        builder.publish_images(publicacion, hasta=HASTA)
        s = clock("images", s)
        history = [
            (
                e.clave,
                fecha_hora,
                int(e.summary["ACTAS_CAPTURADAS"]),
                int(e.summary["ACTAS_CONTABILIZADAS"]),
            )
            for e in elections
        ]
        write_site_root(
            folder, replace(site, elections=elections, history=history, nav=()), escritas
        )
        (folder / builder.AVANCE).write_text(json.dumps(history, ensure_ascii=False))
        t["_write_files_end"] = clock("site root", s)

    def run() -> None:
        build_corte(
            publicacion,
            corte_id=builder.corte_id(HASTA, tz=tz),
            fecha_hora=fecha_hora,
            final=final,
            key=key.path,
            principal=key.principal,
            write_files=write_files,
        )

    cpu = time.process_time()
    if perfil:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(run)
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(45)
    else:
        run()
    end = time.perf_counter()
    t["manifest, hashes, signature, swap"] = end - t.pop("_write_files_end")
    t["total"] = end - started
    t["total CPU (this process)"] = time.process_time() - cpu
    out.write_text(json.dumps(t))


# --- 4. floor -----------------------------------------------------------------------------


def floor(casillas: int, out: Path) -> None:
    """Write each CSV and zip it, as the builder zips it: deflate at its ``ZIP_LEVEL``."""
    django_setup()
    from openprep.publish.download import ZIP_LEVEL

    source = BUILD / f"floor-{casillas}"
    data = {p.name: p.read_bytes() for p in sorted(source.iterdir())}
    target = BUILD / f"floor-out-{casillas}"
    best, cpu = float("inf"), 0.0
    for _ in range(3):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        started, cpu_started = time.perf_counter(), time.process_time()
        for name, blob in data.items():
            (target / name).write_bytes(blob)
            zpath = target / (name[:-4] + ".zip")
            with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                info = zipfile.ZipInfo(name, date_time=(2027, 6, 7, 20, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo alone means STORED
                archive.writestr(info, blob, compresslevel=ZIP_LEVEL)
        wall = time.perf_counter() - started
        if wall < best:
            best, cpu = wall, time.process_time() - cpu_started
    shutil.rmtree(target, ignore_errors=True)
    out.write_text(
        json.dumps(
            {
                "wall": best,
                "cpu": cpu,
                "level": ZIP_LEVEL,
                "csv_bytes": sum(map(len, data.values())),
            }
        )
    )


# --- the parent: no Django ------------------------------------------------------------------


def _tree_pss(root: int) -> int:
    """Summed PSS (bytes) of ``root`` and its descendants, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def run_child(step: str, casillas: int, *extra: str) -> dict[str, Any]:
    """Run one step in a fresh interpreter; its JSON result plus wall, max RSS and peak PSS."""
    out = BUILD / f"{step}-{casillas}.json"
    out.unlink(missing_ok=True)
    argv = [
        sys.executable,
        __file__,
        "--step",
        step,
        "--casillas",
        str(casillas),
        "--out",
        str(out),
        *extra,
    ]
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=child_env(casillas), cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(1.0):  # smaps_rollup walks page tables: not too often
            peak = max(peak, _tree_pss(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"el paso {step} falló (código {child.returncode})")
    result = json.loads(out.read_text()) if out.exists() else {}
    result.update(
        process_wall=time.perf_counter() - started,
        max_rss=usage.ru_maxrss * 1024,
        process_cpu=usage.ru_utime + usage.ru_stime,  # the child and the workers it reaped
        peak_tree_pss=peak,
    )
    return result


def ensure_database(casillas: int, *, reuse: bool) -> None:
    import psycopg

    name = db_name(casillas)
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        wanted = {"casillas": casillas, "generator": GENERATOR}
        kept = json.loads(marker(casillas).read_text()) if marker(casillas).exists() else {}
        if reuse and exists and all(kept.get(k) == v for k, v in wanted.items()):
            print(f"Reutilizo {name} ({kept.get('actas', 0):,} actas).", flush=True)
            return
        marker(casillas).unlink(missing_ok=True)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"Preparo {name}: {casillas:,} casillas × 3 elecciones…", flush=True)
    run_child("prepare", casillas)


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--casillas", type=int, default=NATIONAL)
    parser.add_argument("--reuse", action="store_true", help="reuse the kept database")
    parser.add_argument(
        "--runs", type=int, default=3, help="build + floor pairs to time (median ratio kept)"
    )
    parser.add_argument("--perfil", action="store_true", help="cProfile the phases run")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--sin-fases", action="store_true", help="skip the phases run")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    BUILD.mkdir(parents=True, exist_ok=True)
    if args.step == "prepare":
        return prepare(args.casillas)
    if args.step == "build":
        return build(args.casillas, args.out)
    if args.step == "phases":
        return phases(args.casillas, args.out, perfil=args.perfil)
    if args.step == "floor":
        return floor(args.casillas, args.out)

    ensure_database(args.casillas, reuse=args.reuse)
    # The machine's speed drifts by 10-20 % from one minute to the next: each build is
    # paired with a floor measured right after it, and the ratio is the median of the pairs.
    builds, floors = [], []
    for _ in range(args.runs):
        builds.append(run_child("build", args.casillas))
        floors.append(run_child("floor", args.casillas))
    ratios = [b["wall"] / f["wall"] for b, f in zip(builds, floors, strict=True)]
    ratio = statistics.median(ratios)
    best = min(builds, key=lambda b: b["wall"])
    ph = (
        run_child("phases", args.casillas, *(["--perfil"] if args.perfil else []))
        if not args.sin_fases
        else {}
    )
    print(f"\nCorte de {args.casillas:,} casillas × 3 elecciones (carga: {os.getloadavg()})")
    for b, f, r in zip(builds, floors, ratios, strict=True):
        print(
            f"  build: {b['wall']:.2f} s, CPU {b['build_cpu']:.2f} s, máquina "
            f"{b['machine_cpu']:.2f} s (robado {b['steal']:.2f} s) "
            f"(proceso {b['process_wall']:.2f} s), máx. RSS {mb(b['max_rss'])}, "
            f"PSS del árbol {mb(b['peak_tree_pss'])}, carga {b['load_before']:.1f} → "
            f"{b['load_after']:.1f}; piso {f['wall']:.2f} s (CPU {f['cpu']:.2f} s) → "
            f"razón {r:.2f}"
        )
    print(
        f"  {best['files']:,} archivos, {mb(best['bytes'])}; zips {mb(best['zip_bytes'])}, "
        f"CSV {mb(best['csv_bytes'])}"
    )
    print(
        f"  piso: escribir y comprimir los CSV (nivel {floors[0]['level']}); razón "
        f"{ratio:.2f} (mediana de {len(ratios)} pares build/piso; "
        f"{min(ratios):.2f}–{max(ratios):.2f})"
    )
    print("  fases:")
    for name, seconds in ph.items():
        if isinstance(seconds, float) and name not in ("process_wall",):
            if name in ("max_rss", "peak_tree_pss"):
                continue
            print(f"    {name:<36} {seconds:7.2f} s")
    result = {
        "casillas": args.casillas,
        "builds": builds,
        "floors": floors,
        "ratios": ratios,
        "phases": ph,
        "ratio": ratio,
        "loadavg": os.getloadavg(),
    }
    (BUILD / f"resultado-{args.casillas}.json").write_text(json.dumps(result, indent=2))
    if args.drop:
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name(args.casillas)}"')
        marker(args.casillas).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
