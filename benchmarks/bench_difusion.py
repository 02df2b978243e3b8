"""Benchmark of the push to difusores (see benchmarks/README.md, "Difusores").

Ten difusores on loopback, each a chrooted SFTP user of a real OpenSSH sshd started here
(needs root and Debian's openssh-server, like the tests), registered in a throwaway
SQLite database. Pushes go through :func:`openprep.difusion.servicios.difundir`, exactly
what the worker runs after each corte:

1. the first push of a national-scale corte to all ten (the corte ``make bench-corte``
   builds, ``build/bench/corte/publicacion-170648``; ``--publicacion`` for another one);
2. ``--siguientes`` following cortes: the same files with ``--cambio`` of them rewritten
   (every download zip and JSON file changes each corte; pages change in proportion),
   built and signed by the real ``build_corte``;
3. optionally ``--imagenes N`` new acta images (≈ 200 KB each, incompressible) added
   before each following corte, to measure the per-image cost.

Wall time per push, bytes and files sent per difusor, and CPU of the ten clients (this
process and the OpenSSH sftp/ssh processes it runs) and of the whole machine (sshd is
most of the rest; other load shows there too). Results:
``build/bench/difusion/resultado.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "bench" / "difusion"
NACIONAL = ROOT / "build" / "bench" / "corte" / "publicacion-170648"
sys.path.insert(0, str(ROOT / "tests"))


def cpu_de_la_maquina() -> float:
    """Busy CPU seconds of the whole machine so far (all cores, from /proc/stat)."""
    campos = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ocioso = campos[3] + campos[4]  # idle + iowait
    return (sum(campos[:8]) - ocioso) / os.sysconf("SC_CLK_TCK")


def cpu_de_los_clientes() -> float:
    """CPU seconds of this process and its finished children (OpenSSH's sftp and ssh)."""
    hijos = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + hijos.ru_utime + hijos.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publicacion", type=Path, default=NACIONAL)
    parser.add_argument("--difusores", type=int, default=10)
    parser.add_argument("--siguientes", type=int, default=2)
    parser.add_argument("--cambio", type=float, default=0.2)
    parser.add_argument("--imagenes", type=int, default=0)
    args = parser.parse_args()
    fuente = args.publicacion
    if not (fuente / "latest.json").exists():
        sys.exit(f"No hay un corte en {fuente}: ejecute antes «make bench-corte».")

    work = Path(tempfile.mkdtemp(prefix="bench-difusion-"))
    os.environ["OPENPREP_DATA_DIR"] = str(work / "datos")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openprep.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from servidores_difusion import ServidorSSH

    from openprep.difusion.registro import registrar_difusor
    from openprep.difusion.servicios import difundir
    from openprep.publish import signing
    from openprep.publish.folder import CORTES, build_corte, read_latest

    call_command("migrate", verbosity=0)
    origen = fuente / CORTES / read_latest(fuente).corte
    archivos = sorted(
        p.relative_to(origen)
        for p in origen.rglob("*")
        if p.is_file() and not p.name.startswith(("manifest.json", "allowed_signers"))
    )
    pub = work / "publicacion"
    key = signing.generate_key(work / "llave", principal="prep@bench")
    rng = random.Random(7)

    def corte(numero: int, cambiados: set[Path]) -> object:
        def write(folder: Path, _n: int) -> None:
            for rel in archivos:
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if rel in cambiados:
                    data = bytearray((origen / rel).read_bytes())
                    data[-1:] = bytes([numero % 256])  # same size, different bytes
                    target.write_bytes(bytes(data))
                else:
                    os.link(origen / rel, target)

        return build_corte(
            pub, corte_id=f"2027060{numero}_200000", fecha_hora=f"corte {numero}", key=key,
            principal="prep@bench", write_files=write,
        )  # fmt: skip

    def imagenes(n: int) -> None:
        carpeta = pub / "imagenes"
        carpeta.mkdir(parents=True, exist_ok=True)
        for _ in range(n):
            data = os.urandom(200_000)
            (carpeta / hashlib.sha256(data).hexdigest()).write_bytes(data)

    servidor = ServidorSSH()
    try:
        for n in range(1, args.difusores + 1):
            cuenta = servidor.cuenta(n)
            registrar_difusor(
                nombre=f"Difusor {n}", protocolo="sftp", host="127.0.0.1",
                puerto=servidor.puerto, usuario=cuenta.usuario,
                clave_ssh=cuenta.clave_privada.read_text(),
            )  # fmt: skip
        servidor.iniciar()
        resultados = []
        cambiables = [r for r in archivos if r.suffix in (".zip", ".json")]
        paginas = [r for r in archivos if r not in cambiables]
        for numero in range(1, args.siguientes + 2):
            if numero == 1:
                cambiados: set[Path] = set()
            else:
                cambiados = set(cambiables) | set(
                    rng.sample(paginas, int(len(paginas) * args.cambio))
                )
                imagenes(args.imagenes)
            latest = corte(numero, cambiados)
            cpu_yo, cpu_maquina = cpu_de_los_clientes(), cpu_de_la_maquina()
            inicio = time.perf_counter()
            entregas = difundir(
                publicacion=pub, latest=latest, plazo=timezone.now() + timedelta(minutes=15)
            )
            wall = time.perf_counter() - inicio
            fila = {
                "corte": numero,
                "wall_s": round(wall, 2),
                "cpu_clientes_s": round(cpu_de_los_clientes() - cpu_yo, 2),
                "cpu_maquina_s": round(cpu_de_la_maquina() - cpu_maquina, 2),
                "entregadas": sum(e.resultado == "entregada" for e in entregas),
                "bytes_por_difusor": [e.bytes for e in entregas],
                "archivos_por_difusor": [e.archivos for e in entregas],
                "omitidos_por_difusor": [e.omitidos for e in entregas],
                "errores": [e.error for e in entregas if e.error],
                "archivos_del_corte": len(archivos),
                "cambiados": len(cambiados),
                "imagenes_nuevas": args.imagenes if numero > 1 else 0,
                "carga_1min": os.getloadavg()[0],
            }
            resultados.append(fila)
            print(json.dumps(fila, ensure_ascii=False), flush=True)
        BUILD.mkdir(parents=True, exist_ok=True)
        (BUILD / "resultado.json").write_text(json.dumps(resultados, indent=2))
    finally:
        servidor.detener()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
