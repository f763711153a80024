"""Independent parts of a linkage run on several cores: forked worker processes that return their result.

The expensive stages are pure functions of the prepared frame (one group of derived columns, the comparison
vectors of one share of the candidate pairs), so a forked child computes its part from the memory it shares
with the parent (copy-on-write: nothing is pickled on the way in) and sends only its result back. Threads do
not help: most of the work is Python (one call per distinct value) or numpy calls too short to release the
GIL for long. ``CDQ_LINKAGE_WORKERS=1`` (or a platform without ``fork``) runs everything in this process, in
the same order, with the same results.
"""

from __future__ import annotations

import logging
import mmap
import multiprocessing
import os
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Environment variable with the number of processes a linkage run may use (default: the usable cores, at most 2).
WORKERS_ENV = "CDQ_LINKAGE_WORKERS"
MAX_WORKERS = 2


def workers() -> int:
    """How many processes a run may use: ``CDQ_LINKAGE_WORKERS``, else the cores this process may run on
    (at most :data:`MAX_WORKERS`); 1 where ``fork`` is not available.

    Examples:
        >>> os.environ[WORKERS_ENV] = "1"; workers()
        1
        >>> del os.environ[WORKERS_ENV]
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = os.environ.get(WORKERS_ENV, "").strip()
    if wanted:
        return max(1, int(wanted))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_WORKERS, cores))


def shared_array(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array that a forked child (:func:`run_tasks`) writes into and this process then reads:
    anonymous shared memory where there are workers (a child's part of a large result needs no pickling,
    no pipe and no copy), an ordinary array otherwise.

    Examples:
        >>> a = shared_array((2, 3), np.int8)
        >>> a[:] = 1
        >>> _ = run_tasks([lambda: a.__setitem__((1, 2), 7), lambda: None])
        >>> a.tolist()
        [[1, 1, 1], [1, 1, 7]]
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    if workers() < 2 or size == 0:
        return np.empty(shape, dtype=dtype)
    memory = mmap.mmap(-1, size)  # MAP_SHARED | MAP_ANONYMOUS: the same pages in parent and forked children
    return np.frombuffer(memory, dtype=dtype).reshape(shape)


class WorkerError(RuntimeError):
    """A task failed in a worker process (the message carries the worker's traceback)."""


def run_tasks(tasks: Sequence[Callable[[], Any]]) -> list[Any]:
    """Results of ``tasks`` in order: every task but the last in a forked child, the last one here.

    With one worker (``workers() == 1``) the tasks run one after the other in this process. A task's result
    must pickle (numpy arrays, lists, dicts of them); an exception in a child is raised here as
    :class:`WorkerError`.

    Examples:
        >>> run_tasks([lambda: 1 + 1, lambda: "here"])
        [2, 'here']
    """
    if len(tasks) < 2 or workers() < 2:
        return [task() for task in tasks]
    context = multiprocessing.get_context("fork")
    children = []
    try:
        for task in tasks[:-1]:
            receive, send = context.Pipe(duplex=False)
            child = context.Process(target=_child, args=(task, send), daemon=True)
            child.start()
            send.close()
            children.append((child, receive))
        start = time.monotonic()
        last = tasks[-1]()
        done = time.monotonic()
        results = [_result(child, receive) for child, receive in children] + [last]
        # how well the parts are balanced: the time this process then waits is time one core idles
        logger.debug("parallel tasks: %.2fs here, then %.2fs waiting for %d worker(s)", done - start,
                     time.monotonic() - done, len(children))
        return results
    finally:
        for child, receive in children:
            receive.close()
            if child.is_alive():
                child.terminate()
            child.join()


def _child(task: Callable[[], Any], send: Any) -> None:
    try:
        result = (True, task())
    except BaseException:  # noqa: BLE001 - whatever failed is reported to the parent, which raises it
        result = (False, traceback.format_exc())
    send.send(result)
    send.close()


def _result(child: Any, receive: Any) -> Any:
    try:
        ok, value = receive.recv()
    except EOFError:
        child.join()
        raise WorkerError(f"a linkage worker process ended without a result (exit code {child.exitcode}; "
                          f"out of memory? set {WORKERS_ENV}=1 to run in one process)") from None
    if not ok:
        raise WorkerError(f"a linkage worker process failed:\n{value}")
    return value
