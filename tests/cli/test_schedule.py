"""Corte times: the start, every interval after it, and the end as the final corte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openprep.publish.schedule import next_corte

START = datetime(2027, 6, 7, 1, 0, tzinfo=UTC)
END = START + timedelta(hours=24)
EVERY = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(hours=3), START),
        (START, START),
        (START + timedelta(seconds=1), START + EVERY),
        (START + EVERY, START + EVERY),
        (START + timedelta(minutes=44, seconds=59), START + 3 * EVERY),
        (END - timedelta(minutes=1), END),
        (END, END),
        (END + timedelta(seconds=1), None),
    ],
)
def test_the_next_corte_is_on_the_interval_grid_and_ends_at_the_end(now, expected):
    assert next_corte(inicio=START, intervalo=EVERY, fin=END, now=now) == expected


def test_an_interval_that_does_not_divide_the_window_still_ends_on_the_end():
    fin = START + timedelta(minutes=20)
    assert (
        next_corte(inicio=START, intervalo=EVERY, fin=fin, now=START + EVERY + timedelta(minutes=1))
        == fin
    )
