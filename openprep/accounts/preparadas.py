"""Prepared statements on Django's PostgreSQL connection, for the few statements every
console request makes (the session, the user) and the capture path's own.

Django binds parameters client-side and never prepares, so PostgreSQL parses and plans
every statement again. For the console's hot statements that was most of their cost:
the session read took ≈ 100 µs of PostgreSQL's CPU as sent by Django and ≈ 40 µs
prepared (and 95 → 60 µs in the server process); the capture path's long statements
were planned in 0.6–1.2 ms and ran in 0.1–0.6 ms. Prepared, each is planned once per
connection (psycopg keeps the prepared statements of a connection).

Needs a session-level connection to PostgreSQL: no transaction-pooling proxy
(pgbouncer in transaction mode) in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper

# A prepare threshold no statement reaches (see cursor_preparado).
_NUNCA = 2**31


class _CursorPreparado(CursorWrapper):
    """Django's cursor wrapper (error translation, the broken-transaction check, execute
    wrappers) over a server-side-binding psycopg cursor that prepares each statement."""

    def _execute(self, sql: str, params: Any, *ignored: Any) -> Any:
        self.db.validate_no_broken_transaction()
        with self.db.wrap_database_errors:
            return self.cursor.execute(sql, params, prepare=True)


class _CursorPreparadoDebug(_CursorPreparado, CursorDebugWrapper):
    """The same, logging each statement where Django logs queries (DEBUG, tests): as
    written, since Django cannot rebuild a server-side-bound statement's text."""

    def execute(self, sql: str, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def cursor_preparado(conexion: BaseDatabaseWrapper) -> Iterator[CursorWrapper]:
    """A cursor on Django's PostgreSQL connection ``conexion`` (so in the caller's
    transaction, if any) whose statements are prepared."""
    conexion.ensure_connection()
    cruda = conexion.connection
    if cruda.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off (None), which also refuses an
        # explicit prepare=True. Django's own cursors bind client-side and never prepare:
        # a threshold no statement reaches enables explicit preparation and nothing else.
        cruda.prepare_threshold = _NUNCA
    crudo = psycopg.Cursor(cruda)
    envoltura = _CursorPreparadoDebug if conexion.queries_logged else _CursorPreparado
    try:
        yield envoltura(crudo, conexion)
    finally:
        crudo.close()
