"""A worker killed mid-push: the mirror keeps a whole corte, and the next push completes it.

Everything runs as the operator would: ``openprep`` commands in their own processes, on
their own SQLite file, against a real (deliberately slow) FTP server; the push process is
killed with SIGKILL at a random moment.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from servidores_difusion import CONTRASENA, ServidorFTP

from openprep.publish import signing
from openprep.publish.folder import CORTES, build_corte, read_latest
from openprep.publish.verify import check_publication

PRINCIPAL = "prep@instituto"


def openprep(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "-m", "openprep", *args], env=env, capture_output=True, text=True,
        check=check, timeout=300,
    )  # fmt: skip


def corte(pub: Path, key: Path, numero: int):
    def write(folder: Path, _numero: int) -> None:
        (folder / "paginas").mkdir()
        for i in range(40):
            (folder / "paginas" / f"{i:03d}.html").write_bytes(bytes([numero]) * 8_000)

    return build_corte(
        pub, corte_id=f"{numero:04d}", fecha_hora=f"t{numero}", key=key, principal=PRINCIPAL,
        write_files=write,
    )  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_a_push_killed_at_a_random_point_leaves_a_whole_mirror_and_resumes(tmp_path, seed):
    env = {**os.environ, "OPENPREP_DATA_DIR": str(tmp_path / "datos")}
    env.pop("DATABASE_URL", None)
    pub = tmp_path / "publicacion"
    key = signing.generate_key(tmp_path / "llave", principal=PRINCIPAL)
    first = corte(pub, key, 1)
    servidor = ServidorFTP(tmp_path / "ftp", bytes_por_segundo=400_000).iniciar()
    try:
        mirror = servidor.cuenta("medio")
        (tmp_path / "clave").write_text(CONTRASENA)
        openprep(env, "migrate", "-v", "0")
        openprep(
            env, "difusor", "add", "--nombre", "Medio", "--protocolo", "ftp", "--host",
            "127.0.0.1", "--puerto", str(servidor.puerto), "--usuario", "medio",
            "--contrasena-archivo", str(tmp_path / "clave"),
        )  # fmt: skip
        openprep(env, "difusion", "push", "--publicacion", str(pub))
        assert read_latest(mirror) == first
        second = corte(pub, key, 2)  # 320 KB at 400 KB/s: about a second of pushing
        push = subprocess.Popen(
            [sys.executable, "-m", "openprep", "difusion", "push", "--publicacion", str(pub)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        partial = mirror / CORTES / ".parcial-0002"
        deadline = time.monotonic() + 60
        while not partial.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert partial.exists(), "the push never started"
        time.sleep(random.Random(seed).uniform(0, 0.6))  # somewhere in the middle
        os.kill(push.pid, signal.SIGKILL)
        push.wait()
        shown = read_latest(mirror)
        assert shown in (first, second)  # one whole corte or the other, never a mix
        assert all(c.ok for c in check_publication(mirror)), check_publication(mirror)
        # The restarted push finds the delivery pending and completes it.
        done = openprep(env, "difusion", "push", "--publicacion", str(pub))
        assert read_latest(mirror) == second, done.stdout + done.stderr
        assert all(c.ok for c in check_publication(mirror))
        assert not [p for p in (mirror / CORTES).iterdir() if p.name.startswith(".parcial")]
        estado = json.loads(openprep(env, "difusion", "status", "--json").stdout)
        assert estado[0]["nombre"] == "Medio" and estado[0]["habilitado"] is True
        assert estado[0]["ultimo_corte"] == second.corte and estado[0]["fallas_consecutivas"] == 0
    finally:
        servidor.detener()
