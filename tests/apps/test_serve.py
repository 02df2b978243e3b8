"""``openprep serve``: gunicorn running the console, started and stopped as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

STARTUP_SECONDS = 60
STOP_SECONDS = 25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_page(url: str, *, process: subprocess.Popen[str]) -> requests.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"openprep serve ended early with code {process.returncode}")
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)
    pytest.fail(f"openprep serve did not answer {url} within {STARTUP_SECONDS} s")


@pytest.fixture
def server(tmp_path: Path):
    """``openprep serve`` on a free port with its own SQLite database; stopped afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["OPENPREP_DATA_DIR"] = str(tmp_path / "datos")
    process = subprocess.Popen(
        [sys.executable, "-m", "openprep", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_migrates_serves_the_spanish_login_page_and_stops_cleanly_on_sigterm(server):
    process, base = server
    page = wait_for_page(f"{base}/entrar/", process=process)
    assert page.status_code == 200
    assert '<html lang="es-MX">' in page.text
    assert "Entrar" in page.text
    assert "csrftoken" in page.cookies

    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    output, _ = process.communicate(timeout=STOP_SECONDS)
    assert process.returncode == 0, output
    assert time.monotonic() - started < STOP_SECONDS
    assert "migraciones pendientes" in output
    assert f"Consola de operadores en {base}/" in output


def test_serve_sends_anonymous_visitors_to_login_and_serves_static_files(server):
    process, base = server
    wait_for_page(f"{base}/entrar/", process=process)
    answer = requests.get(f"{base}/captura/", allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/entrar/")
    # WhiteNoise serves static files from the app server, before any login check.
    css = requests.get(f"{base}/static/admin/css/base.css", timeout=5)
    assert css.status_code == 200
    assert "text/css" in css.headers["Content-Type"]


def test_serve_refuses_a_port_out_of_range_in_spanish(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["OPENPREP_DATA_DIR"] = str(tmp_path / "datos")
    done = subprocess.run(
        [sys.executable, "-m", "openprep", "serve", "--port", "70000"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "el puerto 70000 no es válido" in done.stderr
    assert "Traceback" not in done.stderr
