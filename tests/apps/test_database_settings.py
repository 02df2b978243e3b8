"""How the server's database connections are set up (openprep/settings.py)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.postgresql


def test_postgresql_connections_compile_no_query_with_jit(db):
    if connection.vendor != "postgresql":  # an ad-hoc run on SQLite: make deselects these
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
