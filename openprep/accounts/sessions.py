"""Database sessions whose idle expiry is written at most once a minute.

A session ends ``SESSION_COOKIE_AGE`` seconds after its last request (the idle timeout,
a security requirement: an operator who walks away is logged out). Django's way to get
that, ``SESSION_SAVE_EVERY_REQUEST``, rewrites the session row (a transaction with an
``UPDATE django_session``) on every request, which was about a fifth of the statements of
the capture path. Here the row is rewritten only when doing so moves its expiry forward
by more than :data:`REFRESCO`: the expiry is never later than with a write per request,
and at most a minute earlier (an idle session ends between ``AGE − 60 s`` and ``AGE``
after its last request).

The store remembers the expiry it read, so the decision costs no query; the middleware
marks the session modified when it is due, and Django's own middleware then saves it and
sends the cookie as usual.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import connections, router
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from openprep.accounts.preparadas import cursor_preparado

_LEER = (
    "SELECT session_data, expire_date FROM django_session"
    " WHERE session_key = %s AND expire_date > %s"
)

REFRESCO = timedelta(seconds=60)
"""How far the expiry must have fallen behind before a request rewrites it."""


class SessionStore(db.SessionStore):
    """Django's database store, remembering the expiry of the row it loaded."""

    expira_leida: datetime | None = None

    def _get_session_from_db(self) -> Any:
        # What Django's store reads (an unexpired row by its key), as one written-out
        # statement: every console request makes it, and compiling the ORM query was a
        # measurable share of a request's CPU.
        modelo = self.model
        fila = None
        conexion = connections[router.db_for_read(modelo)]
        if self.session_key is not None:
            if conexion.vendor == "postgresql":
                # Prepared: planning this statement cost PostgreSQL more than running it.
                with cursor_preparado(conexion) as cursor:
                    cursor.execute(_LEER, [self.session_key, timezone.now()])
                    fila = cursor.fetchone()
            else:
                with conexion.cursor() as cursor:
                    ahora = conexion.ops.adapt_datetimefield_value(timezone.now())
                    cursor.execute(_LEER, [self.session_key, ahora])
                    fila = cursor.fetchone()
        if fila is None:
            self._session_key = None
            self.expira_leida = None
            return None
        datos, expira = fila
        if isinstance(expira, str):  # SQLite
            expira = parse_datetime(expira)
        if timezone.is_naive(expira):  # stored in UTC by a database without time zones
            expira = timezone.make_aware(expira, conexion.timezone)
        self.expira_leida = expira
        return modelo(session_key=self.session_key, session_data=datos, expire_date=expira)

    async def _aget_session_from_db(self) -> Any:
        fila = await super()._aget_session_from_db()
        self.expira_leida = fila.expire_date if fila is not None else None
        return fila

    def refresco_pendiente(self) -> bool:
        """Whether saving now would move the stored expiry forward by more than REFRESCO
        (False for a session not read from the database in this request)."""
        if self.expira_leida is None or self.is_empty():
            return False
        return self.get_expiry_date() - self.expira_leida > REFRESCO


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's session middleware, saving a session whose idle expiry is due a refresh.

    Use with ``SESSION_SAVE_EVERY_REQUEST = False`` and ``SESSION_ENGINE`` set to this
    module.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        sesion = getattr(request, "session", None)
        if isinstance(sesion, SessionStore) and not sesion.modified:
            sesion.modified = sesion.refresco_pendiente()
        return super().process_response(request, response)
