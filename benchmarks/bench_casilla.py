"""Benchmark of the PREP Casilla API: concurrent phone apps uploading acta photos to
``openprep serve`` on PostgreSQL (see benchmarks/README.md).

1. Writes a simulated package (``--casillas``) and imports it into a fresh database
   ``openprep_bench_casilla_base``; adds ``--clientes`` digitalizador accounts; renders
   the image of every acta of the truth that has one (``render_acta``: the QR code
   carries its CLAVE_ACTA) and encodes each as a multipart body, in memory. None of this
   is measured.
2. In-process (Django's test client) on a copy of the base: counts the SQL queries of one
   upload per mode and measures the CPU of 300 uploads with a token (Django's and its
   PostgreSQL backend's); ``--perfil`` adds a cProfile of 300 more.
3. For each mode of ``--modos`` and each ``WxT`` of ``--configs``: copies the base
   database (``CREATE DATABASE … TEMPLATE``), starts ``openprep serve --workers W
   --threads T``, and runs ``--clientes`` apps (threads spread over ``--procesos`` client
   processes), each uploading a different acta per request as fast as it can for
   ``--duracion`` seconds. Mode ``token``: each app trades its password for a token once
   (``POST /api/casilla/v1/sesion/``, before the clock starts) and uploads with
   ``Authorization: Bearer``; mode ``basic``: every upload carries HTTP Basic, so the
   server checks the password (PBKDF2) each time.
4. After each run, checks in the database that the images and DIGITALIZACION events added
   equal the uploads the apps counted as accepted (201), and on disk that as many image
   files were stored.

Reports uploads accepted per second, p50/p99 latency of the upload POST and CPU: the
server's processes, the PostgreSQL backends of the run's database, the clients' and the
whole machine's, also per accepted upload. Results also go to
``build/bench/casilla/resultado.json``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import io
import json
import multiprocessing as mp
import os
import resource
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The /proc and PostgreSQL helpers are bench_captures.py's.
from bench_captures import (
    PG,
    admin_sql,
    base_lista,
    contar,
    cpu_postgres,
    importar_paquete,
    iniciar_servidor,
    medir_carga,
    opciones_de_carga,
    percentil,
    recreate,
)

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench" / "casilla"
BASE_DB, RUN_DB = "openprep_bench_casilla_base", "openprep_bench_casilla"
PERFIL_DB = "openprep_bench_casilla_perfil"
EN_PROCESO = 300
"""Uploads timed in-process (Django's test client) before the load."""
CLAVE = "clave-de-banco-2027"
USUARIO = "banco-casilla-{:03d}"
SESION, ACTAS = "/api/casilla/v1/sesion/", "/api/casilla/v1/actas/"
LIMITE = "openprep-banco-casilla-7d3f0a9c"
"""The multipart boundary of every upload (no image contains it: checked)."""


@dataclass(frozen=True, slots=True)
class Subida:
    """One acta photo, ready to send: the multipart body and what the server must say."""

    clave_acta: str
    sha256: str
    cuerpo: bytes


_SUBIDAS: list[Subida] = []
"""Every acta image of the truth, in arrival order; filled before the clients fork."""


IMAGENES = "SELECT count(*) FROM intake_imagen"
DIGITALIZACIONES = "SELECT count(*) FROM intake_eventoacta WHERE tipo = 'DIGITALIZACION'"


def archivos_en(directorio: Path) -> int:
    return sum(len(f) for _, _, f in os.walk(directorio)) if directorio.is_dir() else 0


# -- setup (in this process, Django on the base database) -----------------------------


def preparar(casillas: int, seed: int, clientes: int) -> Path:
    from django.contrib.auth import get_user_model
    from django.db import connections

    from openprep.accounts.models import Rol
    from openprep.accounts.services import buscar_catd, registrar_operador
    from openprep.simulate.night import leer_paquete_simulado

    paquete = importar_paquete(BUILD / f"paquete-{casillas}-{seed}", base=BASE_DB, seed=seed,
                               casillas=casillas)  # fmt: skip
    datos = leer_paquete_simulado(paquete)
    # The apps' digitalizadores belong to the package's CATDs in turn (the API records the
    # CATD with each photo; it does not restrict which actas a CATD may send).
    catds = sorted({c.catd for c in datos.cuentas if c.rol == "digitalizador" and c.catd})
    started = time.perf_counter()
    for i in range(clientes):
        registrar_operador(
            usuario=USUARIO.format(i),
            rol=Rol.DIGITALIZADOR,
            clave=CLAVE,
            catd=buscar_catd(catds[i % len(catds)]),
        )
    assert get_user_model().objects.filter(username__startswith="banco-casilla-").count()
    print(f"preparación: {clientes} digitalizadores en {time.perf_counter() - started:.1f} s")
    connections.close_all()
    return paquete


def cuerpo_multipart(clave_acta: str, imagen: bytes) -> bytes:
    """What a form with ``clave_acta`` and the file ``imagen`` sends (RFC 7578), encoded by
    urllib3 (what ``requests`` uses) with the benchmark's fixed boundary."""
    from urllib3 import encode_multipart_formdata

    if LIMITE.encode() in imagen:
        raise SystemExit(f"la imagen de {clave_acta} contiene el separador multipart")
    cuerpo, _ = encode_multipart_formdata(
        {"clave_acta": clave_acta, "imagen": ("acta.png", imagen, "image/png")}, boundary=LIMITE
    )
    return cuerpo


def renderizar(paquete: Path) -> list[Subida]:
    """Every acta image of the truth (SIN ACTA has none), rendered as the simulator does:
    its SHA-256 is the one the truth publishes (checked)."""
    from openprep.simulate.images import render_acta
    from openprep.simulate.night import leer_paquete_simulado

    started = time.perf_counter()
    subidas = []
    for fila in leer_paquete_simulado(paquete).filas:
        if fila.motivo_sin_acta:
            continue
        imagen = render_acta(
            clave_acta=fila.clave_acta, eleccion=fila.nombre_eleccion, valores=fila.valores()
        )
        sha256 = hashlib.sha256(imagen).hexdigest()
        if sha256 != fila.celdas["SHA"]:
            raise SystemExit(f"la imagen de {fila.clave_acta} no es la de la verdad")
        subidas.append(Subida(fila.clave_acta, sha256, cuerpo_multipart(fila.clave_acta, imagen)))
    megas = sum(len(s.cuerpo) for s in subidas) / 1e6
    print(
        f"imágenes: {len(subidas):,} actas ({megas:.0f} MB) "
        f"en {time.perf_counter() - started:.0f} s"
    )
    return subidas


def contar_consultas(*, perfil: bool) -> dict[str, Any]:
    """In-process (Django's test client) on a copy of the base: the SQL queries of one
    upload per mode, the CPU of ``EN_PROCESO`` uploads with a token (Django's and its
    PostgreSQL backend's) and, with ``perfil``, a CPU profile of 300 more."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from openprep.accounts import tokens

    connections.close_all()
    recreate(PERFIL_DB, template=BASE_DB)
    connection.settings_dict["NAME"] = PERFIL_DB
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    media = Path(settings.MEDIA_ROOT)
    shutil.rmtree(media, ignore_errors=True)
    usuario = get_user_model().objects.get(username=USUARIO.format(0))
    autorizacion = {
        "token": f"Bearer {tokens.emitir(usuario).valor}",
        "basic": basic(usuario.get_username()),
    }
    client = Client(HTTP_ACCEPT="application/json")
    siguiente = iter(_SUBIDAS)

    def subir(modo: str) -> None:
        subida = next(siguiente)
        r = client.post(
            ACTAS,
            subida.cuerpo,
            content_type=f"multipart/form-data; boundary={LIMITE}",
            HTTP_AUTHORIZATION=autorizacion[modo],
        )
        assert r.status_code == 201, r.content

    resultado: dict[str, Any] = {}
    for modo in ("token", "basic"):
        subir(modo)  # the first request of a process pays for imports and caches
        with CaptureQueriesContext(connection) as q:
            subir(modo)
        resultado[f"consultas_{modo}"] = len(q)
        resultado[f"sql_{modo}"] = [x["sql"][:160] for x in q.captured_queries]
    # CPU per upload with a token, in-process: Django's share without gunicorn's (HTTP
    # parsing, threads, keep-alive) nor the clients'; PostgreSQL's from its backend.
    n = min(EN_PROCESO, len(_SUBIDAS) // 2)
    pg_antes, inicio = cpu_postgres(PERFIL_DB), time.process_time()
    for _ in range(n):
        subir("token")
    django_cpu = time.process_time() - inicio
    pg_cpu = sum(t - pg_antes.get(pid, 0.0) for pid, t in cpu_postgres(PERFIL_DB).items())
    resultado["en_proceso_subidas"] = n
    resultado["en_proceso_ms_cpu_django_por_subida"] = round(django_cpu / n * 1000, 1)
    resultado["en_proceso_ms_cpu_postgres_por_subida"] = round(pg_cpu / n * 1000, 1)
    if perfil:
        import cProfile
        import pstats

        # CPU time, not wall time: on a shared machine, waiting is someone else's work.
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for _ in range(min(300, len(_SUBIDAS) - n - 4)):
            subir("token")
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        resultado["perfil"] = out.getvalue()
    connections.close_all()
    admin_sql(f"DROP DATABASE IF EXISTS {PERFIL_DB} WITH (FORCE)")
    shutil.rmtree(media, ignore_errors=True)
    return resultado


# -- the load (client processes, forked) --------------------------------------------------


def basic(usuario: str) -> str:
    return "Basic " + base64.b64encode(f"{usuario}:{CLAVE}".encode()).decode()


class App:
    """One phone app: its own keep-alive HTTP/1.1 connection, no session, no cookies.

    Sends each upload as a browser or ``requests`` would (``multipart/form-data`` with
    ``clave_acta`` and the file ``imagen``); the bodies are encoded before the clock
    starts, so the clients' CPU is the HTTP exchange only.
    """

    def __init__(self, host: str, port: int, usuario: str, modo: str) -> None:
        self.host, self.port, self.usuario = host, port, usuario
        self.conexion = http.client.HTTPConnection(host, port, timeout=120)
        self.autorizacion = basic(usuario)
        self.sesion_segundos = 0.0
        if modo == "token":
            status, datos, self.sesion_segundos = self.post(SESION, b"", "")
            if status != 201 or datos.get("tipo") != "Bearer":
                raise RuntimeError(f"sesión de {usuario}: {status} {datos}")
            self.autorizacion = f"Bearer {datos['token']}"

    def post(self, path: str, cuerpo: bytes, tipo: str) -> tuple[int, Any, float]:
        """Status, JSON answer and seconds of one POST; reconnects once if the server
        closed the idle connection (the request is sent again: an upload is idempotent,
        the same image again answers 200)."""
        cabeceras = {"Authorization": self.autorizacion, "Accept": "application/json"}
        if tipo:
            cabeceras["Content-Type"] = tipo
        inicio = time.perf_counter()
        for intento in range(2):
            try:
                self.conexion.request("POST", path, body=cuerpo, headers=cabeceras)
                respuesta = self.conexion.getresponse()
                contenido = respuesta.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conexion.close()
                self.conexion = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if intento:
                    raise
        segundos = time.perf_counter() - inicio
        try:
            datos = json.loads(contenido)
        except ValueError:
            datos = {"cuerpo": contenido[:200].decode(errors="replace")}
        return respuesta.status, datos, segundos


def cliente(
    url: tuple[str, int],
    usuarios: list[str],
    modo: str,
    siguiente: Any,
    barrera: Any,
    duracion: float,
    cola: Any,
) -> None:
    """One client process: a thread per app; all get ready, then start together. Each
    upload takes the next acta of the truth from ``siguiente``, a counter shared by every
    process, so each upload is a new acta and a fast app never runs out before a slow
    one (the server does not serve its keep-alive connections evenly)."""
    salida: dict[str, Any] = {
        "subida": [],
        "sesion": [],
        "repetidas": 0,
        "rechazos": [],
        "incidentes": [],
        "agotadas": 0,
        "por_app": [],
        "bytes": 0,
        "ultima": 0.0,
    }
    lock = threading.Lock()
    fin = {"t": 0.0}
    cpu: dict[str, resource.struct_rusage] = {}

    def todos_listos() -> None:
        barrera.wait(timeout=300)  # every process's apps are connected (and have a token)
        fin["t"] = time.time() + duracion
        cpu["antes"] = resource.getrusage(resource.RUSAGE_SELF)

    listos = threading.Barrier(len(usuarios), action=todos_listos)

    def hilo(usuario: str) -> None:
        app = App(*url, usuario, modo)
        with lock:
            salida["sesion"].append(app.sesion_segundos)
        listos.wait()
        tipo = f"multipart/form-data; boundary={LIMITE}"
        aceptadas = 0
        while time.time() < fin["t"]:
            with siguiente.get_lock():
                i = siguiente.value
                siguiente.value += 1
            if i >= len(_SUBIDAS):
                with lock:
                    salida["agotadas"] += 1
                break
            subida = _SUBIDAS[i]
            status, datos, segundos = app.post(ACTAS, subida.cuerpo, tipo)
            if status not in (200, 201):
                with lock:
                    salida["rechazos"].append(f"{subida.clave_acta} ({usuario}): {status} {datos}")
                continue
            if datos.get("sha256") != subida.sha256 or datos.get("clave_acta") != (
                subida.clave_acta
            ):
                with lock:
                    salida["incidentes"].append(f"{subida.clave_acta}: {datos}")
            with lock:
                if status == 201:
                    salida["subida"].append(segundos)
                    salida["bytes"] += len(subida.cuerpo)
                    aceptadas += 1
                else:  # the same image again: only after a reconnection (see App.post)
                    salida["repetidas"] += 1
                salida["ultima"] = time.time()
        with lock:
            salida["por_app"].append(aceptadas)

    hilos = [threading.Thread(target=hilo, args=(u,)) for u in usuarios]
    for h in hilos:
        h.start()
    for h in hilos:
        h.join()
    despues = resource.getrusage(resource.RUSAGE_SELF)
    antes = cpu["antes"]
    salida["cpu"] = (despues.ru_utime + despues.ru_stime) - (antes.ru_utime + antes.ru_stime)
    cola.put(salida)


def correr(*, modo: str, workers: int, threads: int, args: argparse.Namespace) -> dict:
    recreate(RUN_DB, template=BASE_DB)
    imagenes_antes, eventos_antes = contar(RUN_DB, IMAGENES, DIGITALIZACIONES)
    datos_dir = BUILD / "datos-corrida"  # the server stores each image here, by its hash
    shutil.rmtree(datos_dir, ignore_errors=True)
    carga_antes = os.getloadavg()[0]
    env = {**os.environ, "DATABASE_URL": f"{PG}/{RUN_DB}", "OPENPREP_DATA_DIR": str(datos_dir)}
    server, url = iniciar_servidor(env=env, workers=workers, threads=threads)
    direccion = urlsplit(url)
    try:
        ctx = mp.get_context("fork")
        usuarios = [USUARIO.format(k) for k in range(args.clientes)]
        grupos = [g for g in (usuarios[i :: args.procesos] for i in range(args.procesos)) if g]
        siguiente = ctx.Value("q", 0)  # the next acta of the truth to upload, for every app
        barrera = ctx.Barrier(len(grupos) + 1)
        cola = ctx.Queue()
        procesos = []
        for grupo in grupos:
            p = ctx.Process(
                target=cliente,
                args=(
                    (direccion.hostname, direccion.port),
                    grupo,
                    modo,
                    siguiente,
                    barrera,
                    args.duracion,
                    cola,
                ),
            )
            p.start()
            procesos.append(p)
        carga = medir_carga(
            server, procesos, barrera, cola, db=RUN_DB, espera=300, duracion=args.duracion
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    salidas, segundos, cpu_servidor, cpu_pg = (
        carga.salidas, carga.segundos, carga.cpu_servidor, carga.cpu_postgres
    )  # fmt: skip
    subida = [x for s in salidas for x in s["subida"]]
    repetidas = sum(s["repetidas"] for s in salidas)
    # Every 201 the apps counted must be one image, one event and one file, nothing more.
    imagenes, eventos = contar(RUN_DB, IMAGENES, DIGITALIZACIONES)
    archivos = archivos_en(datos_dir / "media")
    esperado = len(subida)
    if (imagenes - imagenes_antes, eventos - eventos_antes, archivos) != (esperado,) * 3:
        raise SystemExit(
            f"{esperado} subidas aceptadas según las apps ({repetidas} repetidas), "
            f"{imagenes - imagenes_antes} imágenes y {eventos - eventos_antes} eventos "
            f"DIGITALIZACION en la base, {archivos} archivos en {datos_dir}"
        )
    incidentes = [x for s in salidas for x in s["incidentes"]]
    if incidentes:
        raise SystemExit(f"respuestas con otra acta u otro SHA-256: {incidentes[:5]}")
    shutil.rmtree(datos_dir, ignore_errors=True)
    cpu_clientes = sum(s["cpu"] for s in salidas)
    por_subida = 1000 / max(1, esperado)
    sesion = [x for s in salidas for x in s["sesion"] if x]
    por_app = [x for s in salidas for x in s["por_app"]]
    rechazos = [x for s in salidas for x in s["rechazos"]]
    return {
        "modo": modo,
        "workers": workers,
        "threads": threads,
        "clientes": args.clientes,
        "segundos": round(segundos, 2),
        "subidas": esperado,
        "subidas_por_segundo": round(esperado / segundos, 1),
        "subida_p50_ms": round(percentil(subida, 0.5) * 1000, 1),
        "subida_p99_ms": round(percentil(subida, 0.99) * 1000, 1),
        "subida_max_ms": round(max(subida, default=0.0) * 1000, 1),
        "sesion_p50_ms": round(percentil(sesion, 0.5) * 1000, 1) if sesion else None,
        "rechazos": len(rechazos),
        "primeros_rechazos": rechazos[:3],
        "repetidas": repetidas,
        "apps_sin_imagenes": sum(s["agotadas"] for s in salidas),
        # Accepted uploads of the slowest and the fastest app: how evenly the server
        # served the keep-alive connections.
        "subidas_por_app_min_max": [min(por_app, default=0), max(por_app, default=0)],
        "mb_por_segundo": round(sum(s["bytes"] for s in salidas) / segundos / 1e6, 2),
        "cpu_servidor_nucleos": round(cpu_servidor / segundos, 2),
        "cpu_clientes_nucleos": round(cpu_clientes / segundos, 2),
        "cpu_postgres_nucleos": round(cpu_pg / segundos, 2),
        "cpu_maquina_nucleos": carga.cpu_maquina_nucleos,
        # CPU per accepted upload: less sensitive to what else the machine runs than
        # uploads per second.
        "ms_cpu_servidor_por_subida": round(cpu_servidor * por_subida, 1),
        "ms_cpu_postgres_por_subida": round(cpu_pg * por_subida, 1),
        "ms_cpu_clientes_por_subida": round(cpu_clientes * por_subida, 2),
        "carga_1min_antes_despues": [carga_antes, os.getloadavg()[0]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    opciones_de_carga(
        parser,
        quienes="apps (digitalizadores)",
        duracion=20.0,
        configs="4x4,2x8",
        perfil="cProfile de 300 subidas",
        base=BASE_DB,
    )
    parser.add_argument("--modos", default="token,basic", help="token, basic o ambos")
    args = parser.parse_args(argv)
    modos = [m.strip().lower() for m in args.modos.split(",") if m.strip()]
    if not modos or set(modos) - {"token", "basic"}:
        parser.error("--modos: token, basic o token,basic")
    configs = [tuple(int(x) for x in c.lower().split("x")) for c in args.configs.split(",")]
    BUILD.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = f"{PG}/{BASE_DB}"
    # Its own: the in-process step (contar_consultas) empties its media folder.
    os.environ["OPENPREP_DATA_DIR"] = str(BUILD / "datos")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprep.settings")
    import django

    django.setup()
    paquete = base_lista(args, base=BASE_DB, build=BUILD, preparar=preparar)
    _SUBIDAS.extend(renderizar(paquete))
    consultas = contar_consultas(perfil=args.perfil)
    perfil = consultas.pop("perfil", "")
    print(json.dumps(consultas, indent=1, ensure_ascii=False))
    if perfil:
        print(perfil)
    resultados = []
    try:
        for modo in modos:
            for workers, threads in configs:
                resultado = correr(modo=modo, workers=workers, threads=threads, args=args)
                print(json.dumps(resultado, ensure_ascii=False))
                resultados.append(resultado)
                if resultado["apps_sin_imagenes"]:
                    print(
                        f"aviso: se subieron las {len(_SUBIDAS):,} actas antes del final: "
                        "use más --casillas o menos --duracion"
                    )
    finally:
        admin_sql(f"DROP DATABASE IF EXISTS {RUN_DB} WITH (FORCE)")
        if not args.conservar:
            admin_sql(f"DROP DATABASE IF EXISTS {BASE_DB} WITH (FORCE)")
    (BUILD / "resultado.json").write_text(
        json.dumps(
            {
                "casillas": args.casillas,
                "imagenes": len(_SUBIDAS),
                "consultas": consultas,
                "corridas": resultados,
            },
            indent=1,
            ensure_ascii=False,
        )
    )
    print(f"resultados: {BUILD / 'resultado.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
