"""`openprep demo` runs a whole night on one machine and publishes verifiable cortes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_demo_night_ends_equal_to_its_truth_with_verifiable_cortes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}  # SQLite, its own
    env["OPENPREP_DATA_DIR"] = str(tmp_path)
    demo = subprocess.run(
        [sys.executable, "-m", "openprep", "demo", "--casillas", "30", "--sin-esperar",
         "--puerto", str(free_port()), "--puerto-sitio", str(free_port()),
         "--intervalo-segundos", "2"],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "coincide con la verdad" in demo.stdout
    assert "Cuentas del simulacro" in demo.stdout
    verify = subprocess.run(
        [sys.executable, "-m", "openprep", "verify", str(tmp_path / "publicacion")],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout[-3000:]
