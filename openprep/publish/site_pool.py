"""Work shared among forked processes when a corte is large: territory pages, elections.

A national corte writes some 900 territory pages holding half a million actas; their
tallies and rows are independent, so they are shared among forked worker processes
(each inherits the actas; only small results travel back). The corte builder also
writes its elections in parallel this way (each worker reads its election through its
own connection, see :mod:`openprep.publish.builder`). Forking is used only where the
platform offers it and the work is large enough to repay it; otherwise the same task
runs in this process, as it does inside a worker (a worker has no workers of its own).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any

PARALLEL_FROM = 20_000
"""Actas below which one process is faster than starting workers."""
MAX_WORKERS = 8

_task: Callable[[Any], Any] | None = None


def _call(job: Any) -> Any:
    assert _task is not None, "set before the pool forks"
    return _task(job)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parallel(*, jobs: int, actas: int) -> bool:
    """Whether :func:`run` would fork for ``jobs`` jobs over ``actas`` actas."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    in_worker = multiprocessing.current_process().daemon
    return min(_cpus(), jobs) >= 2 and actas >= PARALLEL_FROM and forkable and not in_worker


def run(
    task: Callable[[Any], Any], jobs: Sequence[Any], *, actas: int, workers: int | None = None
) -> list[Any]:
    """``[task(j) for j in jobs]``, in order, shared among forked workers when worth it.

    ``workers``: how many (at most :data:`MAX_WORKERS`); by default one per CPU. More
    workers than CPUs suit a few uneven jobs: the system then shares the CPUs out.
    """
    global _task
    workers = min(workers or _cpus(), MAX_WORKERS, len(jobs))
    if workers < 2 or not parallel(jobs=len(jobs), actas=actas):
        return [task(j) for j in jobs]
    _task = task
    gc.freeze()  # keep the inherited objects' pages shared: no collector writes to them
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(_call, jobs, chunksize=1)
    finally:
        _task = None
        gc.unfreeze()
