"""Benchmark of the capture path: concurrent capturistas against ``openprep serve`` on
PostgreSQL (see benchmarks/README.md).

1. Writes a simulated package (``--casillas``) and imports it into a fresh database
   ``openprep_bench_base``; registers every non-SIN-ACTA acta of the truth as acopiada
   and digitalizada through the intake services (a setup step, not measured); adds
   ``--clientes`` capturista accounts.
2. Counts the SQL queries of one ``siguiente`` and one capture POST (Django's test client
   in-process, ``CaptureQueriesContext``) on a copy of that database; with ``--perfil``
   also profiles 100 capture pairs in-process (cProfile, top functions).
3. For each ``--configs`` entry ``WxT``: copies the base database (``CREATE DATABASE …
   TEMPLATE``), starts ``openprep serve --workers W --threads T``, and runs
   ``--clientes`` capturistas (threads spread over ``--procesos`` client processes, so the
   client is not the bottleneck) that claim and capture as fast as they can for
   ``--duracion`` seconds. Two captures by different people make an acta VERIFICADA.

Reports captures accepted per second, p50/p99 latency of the capture POST and of
``siguiente``, and CPU: the server's processes, the clients', and the whole machine's.
Results also go to ``build/bench/captures/resultado.json``.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing as mp
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench" / "captures"
PG = os.environ.get("OPENPREP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
BASE_DB, RUN_DB, PERFIL_DB = "openprep_bench_base", "openprep_bench", "openprep_bench_perfil"
CLAVE = "clave-de-banco-2027"
TICKS = os.sysconf("SC_CLK_TCK")


def admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def existe(db: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,)).fetchone()
            is not None
        )


def contar(db: str, *consultas: str) -> tuple[int, ...]:
    """The ``count(*)`` of each query, run on ``db``."""
    import psycopg

    with psycopg.connect(f"{PG}/{db}", autocommit=True) as conn:
        return tuple(int(conn.execute(q).fetchone()[0]) for q in consultas)


CAPTURAS = "SELECT count(*) FROM capture_captura"
VERIFICADAS = "SELECT count(*) FROM intake_acta WHERE estado = 'VERIFICADA'"


def recreate(db: str, *, template: str | None = None) -> None:
    admin_sql(
        f"DROP DATABASE IF EXISTS {db} WITH (FORCE)",
        f"CREATE DATABASE {db}" + (f" TEMPLATE {template}" if template else ""),
    )


# -- setup (in this process, Django on the base database) -----------------------------


def importar_paquete(paquete: Path, *, base: str, casillas: int, seed: int) -> Path:
    """A simulated election package (written once into ``paquete``), imported into a new
    database ``base`` (the current Django connection's)."""
    from django.core.management import call_command

    from openprep.simulate.package import write_package

    if not (paquete / "verdad").is_dir():
        write_package(out=paquete, casillas=casillas, seed=seed)
    recreate(base)
    call_command("catalog", "import", str(paquete), stdout=io.StringIO())
    return paquete


def preparar(casillas: int, seed: int, clientes: int) -> Path:
    from django.db import connections
    from django.utils import timezone

    from openprep.accounts.models import Rol
    from openprep.accounts.services import buscar_catd, registrar_operador
    from openprep.intake.services import digitalizar, eleccion_de_clave, registrar_acopio
    from openprep.simulate.night import leer_paquete_simulado

    paquete = importar_paquete(BUILD / f"paquete-{casillas}-{seed}", base=BASE_DB, seed=seed,
                               casillas=casillas)  # fmt: skip
    datos = leer_paquete_simulado(paquete)
    acopiador = next(c for c in datos.cuentas if c.rol == "acopiador")
    from django.contrib.auth import get_user_model

    usuario = get_user_model().objects.get(username=acopiador.usuario)
    catd = buscar_catd(acopiador.catd)
    for i in range(clientes):
        registrar_operador(
            usuario=f"banco-captura-{i:03d}", rol=Rol.CAPTURISTA, clave=CLAVE, catd=catd
        )
    started = time.perf_counter()
    elecciones: dict[str, Any] = {}
    filas = [f for f in datos.filas if not f.motivo_sin_acta]
    for fila in filas:
        eleccion = elecciones.get(fila.eleccion) or eleccion_de_clave(fila.clave_acta)
        elecciones[fila.eleccion] = eleccion
        ahora = timezone.now()
        comun = {"eleccion": eleccion, "clave_acta": fila.clave_acta, "usuario": usuario}
        registrar_acopio(**comun, catd=catd.clave, cuando=ahora)
        digitalizar(
            **comun,
            catd=catd.clave,
            cuando=ahora,
            origen="CATD",
            digitalizacion="ESCANER",
            tipo_documento="ACTA PREP",
            contenido=f"imagen de banco {fila.clave_acta}".encode(),
        )
    print(
        f"preparación: {len(filas):,} actas digitalizadas en {time.perf_counter() - started:.0f} s"
    )
    connections.close_all()
    return paquete


def contar_consultas(paquete: Path, *, perfil: bool) -> dict[str, Any]:
    """Queries per request of the capture path, in-process on a copy of the base."""
    from django.conf import settings
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openprep.simulate.night import leer_paquete_simulado

    connections.close_all()
    recreate(PERFIL_DB, template=BASE_DB)
    connection.settings_dict["NAME"] = PERFIL_DB
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    verdad = {f.clave_acta: f for f in leer_paquete_simulado(paquete).filas}
    clientes = []
    from django.contrib.auth import get_user_model

    for i in range(2):
        client = Client(HTTP_ACCEPT="application/json")
        client.force_login(get_user_model().objects.get(username=f"banco-captura-{i:03d}"))
        clientes.append(client)
    consultas: dict[str, list[int]] = {"siguiente": [], "captura": []}

    def par(client: Client, *, medir: bool) -> None:
        with CaptureQueriesContext(connection) as q:
            r = client.post("/captura/siguiente/")
        assert r.status_code == 200, r.content
        if medir:
            consultas["siguiente"].append(len(q))
        datos = r.json()
        fila = verdad[datos["clave_acta"]]
        valores = {c: fila.celdas[c] for c in datos["campos"]}
        with CaptureQueriesContext(connection) as q:
            # Form-encoded, as the load's clients (requests) send it: not multipart.
            r = client.post(
                f"/captura/{fila.clave_acta}/",
                urlencode(valores),
                content_type="application/x-www-form-urlencoded",
            )
        assert r.status_code == 201, r.content
        if medir:
            consultas["captura"].append(len(q))
            ultimas = [x["sql"][:160] for x in q.captured_queries]
            consultas.setdefault("sql_captura", ultimas)  # type: ignore[arg-type]

    for i in range(10):
        par(clientes[i % 2], medir=True)
    resultado: dict[str, Any] = {"consultas": consultas}
    if perfil:
        import cProfile
        import pstats

        # CPU time, not wall time: on a shared machine, waiting is someone else's work.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for i in range(200):
            par(clientes[i % 2], medir=False)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(35)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        resultado["perfil"] = out.getvalue()
    connections.close_all()
    admin_sql(f"DROP DATABASE IF EXISTS {PERFIL_DB} WITH (FORCE)")
    return resultado


# -- the load (client processes, forked) --------------------------------------------------


_VERDAD: dict[str, Any] = {}


def cpu_de_arbol(pid: int) -> float:
    """CPU seconds of a process and its children (gunicorn's arbiter and workers)."""
    total = 0
    for entrada in Path("/proc").iterdir():
        if not entrada.name.isdigit():
            continue
        try:
            campos = (entrada / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entrada.name) == pid or int(campos[1]) == pid:
            total += int(campos[11]) + int(campos[12])
    return total / TICKS


def cpu_postgres(db: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``db`` (its process title names the
    database), so that other databases' work on a shared machine is not counted."""
    cpu = {}
    for entrada in Path("/proc").iterdir():
        if not entrada.name.isdigit():
            continue
        try:
            titulo = (entrada / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if not titulo.startswith("postgres:") or f" {db} " not in titulo:
                continue
            campos = (entrada / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        cpu[int(entrada.name)] = (int(campos[11]) + int(campos[12])) / TICKS
    return cpu


def cpu_maquina() -> tuple[float, float]:
    valores = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    ocioso = valores[3] + valores[4]
    return (sum(valores) - ocioso) / TICKS, sum(valores) / TICKS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def iniciar_servidor(
    *, env: dict[str, str], workers: int, threads: int
) -> tuple[subprocess.Popen[bytes], str]:
    """``openprep serve`` on a free loopback port, once it answers: the process, its URL."""
    import requests

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "openprep", "serve", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads)],
        env=env,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            requests.get(f"{url}/entrar/", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return server, url


@dataclass(frozen=True)
class Carga:
    """One load run, from the moment every client has logged in."""

    salidas: list[dict[str, Any]]
    """What each client process reported (its ``"ultima"``: when its last answer came)."""
    segundos: float
    cpu_servidor: float
    cpu_postgres: float
    cpu_maquina_nucleos: float


def medir_carga(
    server: subprocess.Popen[bytes],
    procesos: list[Any],
    barrera: Any,
    cola: Any,
    *,
    db: str,
    espera: float,
    duracion: float,
) -> Carga:
    """Start the clock when the client processes pass ``barrera`` (after logging in, at
    most ``espera`` s), collect their reports from ``cola``, and read the CPU the server's
    process tree, the PostgreSQL backends of ``db`` and the whole machine spent."""
    barrera.wait(timeout=espera)
    inicio = time.time()
    cpu_servidor, (ocupada, total) = cpu_de_arbol(server.pid), cpu_maquina()
    pg_antes = cpu_postgres(db)
    salidas = [cola.get(timeout=duracion + espera) for _ in procesos]
    fin_real = max([s["ultima"] for s in salidas] + [inicio + 0.001])
    cpu_servidor = cpu_de_arbol(server.pid) - cpu_servidor
    # Backends are kept (CONN_MAX_AGE): one opened during the run counts from zero.
    cpu_pg = sum(t - pg_antes.get(pid, 0.0) for pid, t in cpu_postgres(db).items())
    ocupada2, total2 = cpu_maquina()
    for p in procesos:
        p.join()
    nucleos = (ocupada2 - ocupada) / (total2 - total) * (os.cpu_count() or 1)
    return Carga(
        salidas=salidas,
        segundos=fin_real - inicio,
        cpu_servidor=cpu_servidor,
        cpu_postgres=cpu_pg,
        cpu_maquina_nucleos=round(nucleos, 2),
    )


def percentil(valores: list[float], q: float) -> float:
    if not valores:
        return 0.0
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, max(0, int(q * len(ordenados) + 0.5) - 1))]


def correr(paquete: Path, *, workers: int, threads: int, args: argparse.Namespace) -> dict:
    recreate(RUN_DB, template=BASE_DB)
    (capturas_antes,) = contar(RUN_DB, CAPTURAS)
    carga_antes = os.getloadavg()[0]
    env = {**os.environ, "DATABASE_URL": f"{PG}/{RUN_DB}"}
    server, url = iniciar_servidor(env=env, workers=workers, threads=threads)
    try:
        ctx = mp.get_context("fork")
        usuarios = [f"banco-captura-{i:03d}" for i in range(args.clientes)]
        grupos = [g for g in (usuarios[i :: args.procesos] for i in range(args.procesos)) if g]
        barrera = ctx.Barrier(len(grupos) + 1)
        cola = ctx.Queue()
        procesos = []
        # Every client logs in, then all start together; the clock starts at the barrier.
        for grupo in grupos:
            p = ctx.Process(target=cliente, args=(url, grupo, barrera, args.duracion, cola))
            p.start()
            procesos.append(p)
        carga = medir_carga(
            server, procesos, barrera, cola, db=RUN_DB, espera=120, duracion=args.duracion
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    salidas, segundos, cpu_servidor, cpu_pg = (
        carga.salidas, carga.segundos, carga.cpu_servidor, carga.cpu_postgres
    )  # fmt: skip
    captura = [x for s in salidas for x in s["captura"]]
    # Every 201 the clients counted must be a row in the database, and nothing more.
    capturas_en_base, verificadas = contar(RUN_DB, CAPTURAS, VERIFICADAS)
    if capturas_en_base - capturas_antes != len(captura):
        raise SystemExit(
            f"{len(captura)} capturas aceptadas según los clientes, "
            f"{capturas_en_base - capturas_antes} en la base"
        )
    siguiente = [x for s in salidas for x in s["siguiente"]]
    cpu_clientes = sum(s["cpu"] for s in salidas)
    por_captura = 1000 / max(1, len(captura))
    return {
        "workers": workers,
        "threads": threads,
        "clientes": args.clientes,
        "segundos": round(segundos, 2),
        "capturas": len(captura),
        "actas_verificadas": verificadas,
        "capturas_por_segundo": round(len(captura) / segundos, 1),
        "captura_p50_ms": round(percentil(captura, 0.5) * 1000, 1),
        "captura_p99_ms": round(percentil(captura, 0.99) * 1000, 1),
        "siguiente_p50_ms": round(percentil(siguiente, 0.5) * 1000, 1),
        "siguiente_p99_ms": round(percentil(siguiente, 0.99) * 1000, 1),
        "rechazos": sum(len(s["rechazos"]) for s in salidas),
        "cpu_servidor_nucleos": round(cpu_servidor / segundos, 2),
        "cpu_clientes_nucleos": round(cpu_clientes / segundos, 2),
        "cpu_postgres_nucleos": round(cpu_pg / segundos, 2),
        "cpu_maquina_nucleos": carga.cpu_maquina_nucleos,
        # CPU per accepted capture (with its claim of the next acta): less sensitive to
        # what else the machine runs than captures per second.
        "ms_cpu_servidor_por_captura": round(cpu_servidor * por_captura, 1),
        "ms_cpu_postgres_por_captura": round(cpu_pg * por_captura, 1),
        "ms_cpu_clientes_por_captura": round(cpu_clientes * por_captura, 1),
        "carga_1min_antes_despues": [carga_antes, os.getloadavg()[0]],
    }


class ClienteLigero:
    """One capturista's HTTP/1.1 keep-alive connection, without ``requests``.

    Logs in with ``openprep.simulate.client.Operador`` (the console's login form, the
    CSRF cookie first), then sends what that client sends for each POST: its session
    and CSRF cookies, the CSRF token as ``X-CSRFToken``, the ``Referer``, ``Accept:
    application/json`` and the form, url-encoded; cookies the server sets are kept.
    ``requests`` cost ≈ 2.5–3 ms of CPU per capture on the benchmark's own two cores,
    about a fifth of everything; this loop costs a fraction of that, and the server
    does the same work for it (CSRF, session, access policy).
    """

    def __init__(self, url: str, usuario: str) -> None:
        from openprep.simulate.client import Cuenta, Operador

        self.url = url.rstrip("/")
        self.usuario = usuario
        operador = Operador(url, Cuenta(usuario, "capturista", "", CLAVE))
        operador.entrar()
        self.cookies = {k: v for k, v in operador.session.cookies.items()}
        operador.session.close()
        self.partes = urlsplit(self.url)
        self.conexion = http.client.HTTPConnection(
            self.partes.hostname, self.partes.port, timeout=60
        )

    def post(self, path: str, datos: dict[str, str] | None = None) -> tuple[int, Any, float]:
        """POST ``datos`` form-encoded: status, JSON body (or None) and seconds taken."""
        cuerpo = urlencode(datos or {}).encode()
        cabeceras = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
            "Referer": self.url + path,
        }
        inicio = time.perf_counter()
        self.conexion.request("POST", path, body=cuerpo, headers=cabeceras)
        respuesta = self.conexion.getresponse()
        contenido = respuesta.read()
        segundos = time.perf_counter() - inicio
        for valor in respuesta.headers.get_all("Set-Cookie") or []:
            for nombre, morsel in SimpleCookie(valor).items():
                self.cookies[nombre] = morsel.value
        tipo = respuesta.headers.get("Content-Type", "")
        cuerpo_json = json.loads(contenido) if "application/json" in tipo else None
        return respuesta.status, cuerpo_json, segundos


def cliente(url: str, usuarios: list[str], barrera: Any, duracion: float, cola: Any) -> None:
    """One client process: a thread per capturista; all log in, then start together."""
    salida: dict[str, Any] = {"siguiente": [], "captura": [], "rechazos": [], "ultima": 0.0}
    lock = threading.Lock()
    fin = {"t": 0.0}

    def todos_listos() -> None:
        barrera.wait(timeout=120)  # every process's threads have logged in
        fin["t"] = time.time() + duracion

    listos = threading.Barrier(len(usuarios), action=todos_listos)

    def hilo(usuario: str) -> None:
        capturista = ClienteLigero(url, usuario)
        listos.wait()
        sin_trabajo = 0.0
        asignada = None  # the next acta, claimed by the previous capture's request
        while time.time() < fin["t"]:
            if asignada is None:
                status, datos, segundos = capturista.post("/captura/siguiente/")
                if status == 204:
                    sin_trabajo = sin_trabajo or time.time()
                    if time.time() - sin_trabajo > 2:
                        return
                    time.sleep(0.05)
                    continue
                if status != 200:
                    raise RuntimeError(f"siguiente ({usuario}): {status} {datos}")
                with lock:
                    salida["siguiente"].append(segundos)
                asignada = datos
            sin_trabajo = 0.0
            fila = _VERDAD[asignada["clave_acta"]]
            valores = {c: fila.celdas[c] for c in asignada["campos"]}
            status, datos, segundos = capturista.post(
                f"/captura/{fila.clave_acta}/", {**valores, "siguiente": "1"}
            )
            if status != 201:
                with lock:
                    salida["rechazos"].append(f"{fila.clave_acta} ({usuario}): {status} {datos}")
                asignada = None
                continue
            asignada = datos.get("siguiente")
            with lock:
                salida["captura"].append(segundos)
                salida["ultima"] = time.time()

    antes = resource.getrusage(resource.RUSAGE_SELF)
    hilos = [threading.Thread(target=hilo, args=(u,)) for u in usuarios]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    despues = resource.getrusage(resource.RUSAGE_SELF)
    salida["cpu"] = (despues.ru_utime + despues.ru_stime) - (antes.ru_utime + antes.ru_stime)
    cola.put(salida)


def opciones_de_carga(
    parser: argparse.ArgumentParser,
    *,
    quienes: str,
    duracion: float,
    configs: str,
    perfil: str,
    base: str,
) -> None:
    """The options of a load benchmark against ``openprep serve`` (this one and
    bench_casilla's)."""
    parser.add_argument("--casillas", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clientes", type=int, default=16, help=f"{quienes} a la vez")
    parser.add_argument("--procesos", type=int, default=4, help="procesos cliente")
    parser.add_argument("--duracion", type=float, default=duracion, help="segundos de carga")
    parser.add_argument("--configs", default=configs, help="WxT separados por comas: 4x4,2x8")
    parser.add_argument("--perfil", action="store_true", help=perfil)
    parser.add_argument("--conservar", action="store_true", help=f"no borra {base} al terminar")
    parser.add_argument(
        "--reusar", action="store_true", help=f"usa {base} si existe (sin preparar)"
    )


def base_lista(
    args: argparse.Namespace,
    *,
    base: str,
    build: Path,
    preparar: Callable[[int, int, int], Path],
) -> Path:
    """The base database, prepared unless ``--reusar`` finds it, with fresh statistics;
    its package's folder."""
    import psycopg

    if args.reusar and existe(base):
        paquete = build / f"paquete-{args.casillas}-{args.seed}"
    else:
        paquete = preparar(args.casillas, args.seed, args.clientes)
    # Fresh statistics, as autovacuum would have after a night's first minutes: without
    # them the planner guesses one row per table.
    with psycopg.connect(f"{PG}/{base}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return paquete


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    opciones_de_carga(
        parser,
        quienes="capturistas",
        duracion=30.0,
        configs="4x4",
        perfil="cProfile de 200 capturas",
        base=BASE_DB,
    )
    args = parser.parse_args(argv)
    BUILD.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"{PG}/{BASE_DB}"
    os.environ.setdefault("OPENPREP_DATA_DIR", str(BUILD / "datos"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprep.settings")
    import django

    django.setup()

    from openprep.simulate.night import leer_paquete_simulado

    paquete = base_lista(args, base=BASE_DB, build=BUILD, preparar=preparar)
    _VERDAD.update({f.clave_acta: f for f in leer_paquete_simulado(paquete).filas})
    consultas = contar_consultas(paquete, perfil=args.perfil)
    print(json.dumps(consultas["consultas"], indent=1, ensure_ascii=False))
    if args.perfil:
        print(consultas["perfil"])
    resultados = []
    for config in args.configs.split(","):
        workers, threads = (int(x) for x in config.lower().split("x"))
        resultado = correr(paquete, workers=workers, threads=threads, args=args)
        print(json.dumps(resultado, ensure_ascii=False))
        resultados.append(resultado)
    admin_sql(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
    if not args.conservar:
        admin_sql(f"DROP DATABASE IF EXISTS {BASE_DB} WITH (FORCE)")
    (BUILD / "resultado.json").write_text(
        json.dumps({"consultas": consultas["consultas"], "corridas": resultados}, indent=1)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
