"""``openprep serve``: the operator console and its HTTP API, served by gunicorn.

One process tree: gunicorn's arbiter (this process) and its workers, each with a pool
of threads, all running :mod:`openprep.wsgi`. Pending migrations are applied first, in
this process, before any worker exists. SIGTERM stops gracefully (requests in flight
finish), Ctrl-C at once; both exit 0.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from gunicorn.app.base import BaseApplication

from openprep.commands import OpenprepCommand
from openprep.core.errors import UserError

MAX_WORKERS = 12
"""Past this, more processes only add PostgreSQL connections (workers × threads)."""


def default_workers() -> int:
    """Two per core, as gunicorn advises for request handlers that wait on the database."""
    return max(2, min(MAX_WORKERS, 2 * (os.cpu_count() or 1)))


class ServeError(UserError):
    """``openprep serve`` was asked for something it cannot do."""


class ConsoleServer(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from code, not from a file or its own command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from openprep.wsgi import application

        return application


def shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def pending_migrations() -> int:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(OpenprepCommand):
    help = (
        "Sirve la consola de operadores y su API HTTP (gunicorn): aplica antes las "
        "migraciones pendientes."
    )
    requires_system_checks = "__all__"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--host", default="127.0.0.1", help="dirección en que escucha (127.0.0.1)"
        )
        parser.add_argument("--port", type=int, default=8000, help="puerto (8000)")
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help=f"procesos (predeterminado: 2 por núcleo, a lo más {MAX_WORKERS}: "
            f"{default_workers()} aquí)",
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="hilos por proceso (predeterminado: 4)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        workers, threads = options["workers"], options["threads"]
        if not 0 < port < 65536:
            raise ServeError(f"el puerto {port} no es válido.", hint="Use un número de 1 a 65535.")
        if workers < 1 or threads < 1:
            raise ServeError(
                "--workers y --threads deben ser 1 o más.",
                hint=f"Omítalos para usar {default_workers()} procesos de 4 hilos.",
            )
        pendientes = pending_migrations()
        if pendientes:
            self.stdout.write(f"Aplicando {pendientes} migraciones pendientes…")
            call_command("migrate", verbosity=0, interactive=False)
        else:
            self.stdout.write("La base de datos está al día: no hay migraciones pendientes.")
        # Workers are forked from this process: none may inherit its database connection.
        connections.close_all()
        if host not in {"127.0.0.1", "::1", "localhost"} and host not in settings.ALLOWED_HOSTS:
            self.stdout.write(
                f"Aviso: escucha en {host}; agregue a OPENPREP_ALLOWED_HOSTS el nombre con que "
                "los operadores llegan al servidor, o Django rechazará sus peticiones (400)."
            )
        self.stdout.write(
            f"Consola de operadores en http://{shown(host)}:{port}/ "
            f"({workers} procesos × {threads} hilos). Detenga con Ctrl-C."
        )
        self.stdout.flush()
        ConsoleServer(
            {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "preload_app": True,
                "graceful_timeout": 20,
                "timeout": 60,
                "keepalive": 5,
                "loglevel": "warning",
                "errorlog": "-",
                # Several servers may run on one machine (drills, tests): no shared socket.
                "control_socket_disable": True,
            }
        ).run()
