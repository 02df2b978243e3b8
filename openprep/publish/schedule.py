"""When cortes happen: from the publication start, every interval, until the end (≤ 24 h)."""

from __future__ import annotations

from datetime import datetime, timedelta


def next_corte(
    *, inicio: datetime, intervalo: timedelta, fin: datetime, now: datetime
) -> datetime | None:
    """The next corte time at or after ``now``: a multiple of the interval from the start,
    or the end itself (the final corte); None once the end has passed."""
    if now > fin:
        return None
    if now <= inicio:
        return inicio
    steps = -(-(now - inicio) // intervalo)  # ceiling division of timedeltas
    return min(inicio + steps * intervalo, fin)
