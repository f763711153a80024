"""``cdq serve --workers N``: N worker processes forked from one started service, serving one port.

The parent keeps the listening socket and hands each connection to the worker with the fewest open ones
(:mod:`cdq.service.handoff`): a kernel hash (``SO_REUSEPORT``) or a shared socket leaves one core queueing.

One Python process answers one request at a time per core at best (the GIL), so on a 2-core machine 8 clients
queue behind each other. Worker processes fix that; they are *forked after* :meth:`ServiceState.start`, not
started afresh (uvicorn's own ``--workers`` imports the app in each new process), so that:

- the match index is brought up to date once, and the match model is trained once: every worker scores with
  the very same model (identical answers whichever worker a request reaches) and shares its memory pages;
- startup costs what one process's costs.

No store connection crosses the fork (the parent's pool is disposed first; each worker opens its own, and its
own read-only address reference connections). Each worker runs the background round too: taking in queued
leads is safe from several processes (each lead is rechecked in its own transaction under the store lock).
The rate limit and the verified-key cache are per worker, so a key may reach ``workers`` x the limit.

SIGTERM/SIGINT to the parent is passed to every worker (each finishes its requests in flight, see
:func:`cdq.service.serve`); a worker that dies stops the service (with a non-zero exit, for systemd to restart).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import signal
import socket
from typing import Any

logger = logging.getLogger("cdq.service")


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _worker(app: Any, end: socket.socket, options: dict[str, Any]) -> None:
    """In a forked child: fresh connections, then uvicorn on the connections the parent hands over (see
    :mod:`cdq.service.handoff`) until SIGTERM/SIGINT."""
    import uvicorn

    from cdq.service.handoff import AdoptingServer

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # uvicorn installs its own (graceful) handlers
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    app.state.cdq.after_fork()
    AdoptingServer(uvicorn.Config(app, **options), end).run()


def run(app: Any, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Start the service once, fork ``workers`` processes serving ``app``; the parent accepts on the port and
    hands each connection to the least loaded worker (:mod:`cdq.service.handoff`) until they have all exited.

    Returns the exit status: 0 after a requested stop, 1 when a worker died on its own.
    """
    from cdq.service import handoff

    state = app.state.cdq
    state.start(background=False)  # index and model once, in the parent; each worker starts its own thread
    state.store.engine.dispose()  # no pooled connection may be shared with the children
    _settle_memory()
    listener = _listen(host, port)  # the port is taken (or found busy) here, before any worker starts
    pairs = [handoff.channel() for _ in range(workers)]
    channels: dict[int, socket.socket] = {}
    for i, (mine, theirs) in enumerate(pairs):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child (tested through a real `cdq serve --workers 2`)
            code = 0
            try:
                # only its own end stays open here: the parent sees end of file when a worker goes
                listener.close()
                for j, (a, b) in enumerate(pairs):
                    a.close()
                    if j != i:
                        b.close()
                _worker(app, theirs, options)
            except BaseException:  # noqa: BLE001 - the child must never return into the parent's code
                code = 1
            finally:
                os._exit(code)
        channels[pid] = mine
    for _, theirs in pairs:
        theirs.close()
    children = list(channels)
    logger.info("cdq serve: %d worker processes on %s:%d", workers, host, listener.getsockname()[1])
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            _kill(child, signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    balancer = handoff.Balancer(listener, channels)
    try:
        failed = handoff.serve(balancer, children, stop, lambda: stopping)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        balancer.close()
        state.stop()
    return 1 if failed else 0


#: The youngest generation's collection threshold in the workers (Python's default: 700 allocations).
GC_THRESHOLD = 50_000


def _settle_memory() -> None:
    """Before the fork: give the heap that building the index and training the model freed back to the
    system, keep the garbage collector off the objects that are left, and run it less often.

    Each worker shares the parent's pages until it writes them; freed-but-kept heap is counted in every
    process's RSS, and a collection touching every object's header would copy the pages in every worker.
    A /v1/match request allocates many short-lived containers (freed by their reference counts, not by the
    collector): at the default threshold (700) the collector ran about every other request, ~0.25 ms per
    request at 1M records (3% of its CPU); at :data:`GC_THRESHOLD` none in 600 requests.
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim this way
        pass
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_THRESHOLD, older, oldest)


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
