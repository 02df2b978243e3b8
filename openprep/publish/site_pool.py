"""Territory pages written by several processes when a corte is large.

A national corte writes some 900 territory pages holding half a million actas; their
tallies and rows are independent, so they are shared among forked worker processes
(each inherits the actas; only small results travel back). Forking is used only where
the platform offers it and the corte is large enough to repay it; otherwise the same
task runs in this process. Workers never touch the database.
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


def run(task: Callable[[Any], Any], jobs: Sequence[Any], *, actas: int) -> list[Any]:
    """``[task(j) for j in jobs]``, in order, shared among forked workers when worth it."""
    global _task
    workers = min(_cpus(), MAX_WORKERS, len(jobs))
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if workers < 2 or actas < PARALLEL_FROM or not forkable:
        return [task(j) for j in jobs]
    _task = task
    gc.freeze()  # keep the inherited objects' pages shared: no collector writes to them
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return pool.map(_call, jobs, chunksize=1)
    finally:
        _task = None
        gc.unfreeze()
