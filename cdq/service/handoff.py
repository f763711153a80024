"""Connections balanced over the workers of ``cdq serve --workers N`` by load, not by a hash.

The parent process owns the one listening socket. It accepts each connection and hands it (``SCM_RIGHTS``,
:func:`socket.send_fds`) to the worker holding the fewest open connections; the worker adopts it into its
event loop with uvicorn's own HTTP protocol, exactly as if it had accepted it, and reports back when it closes,
so the parent's counts stay right.

Why not the alternatives: with ``SO_REUSEPORT`` (a socket per worker) the kernel hashes each connection to a
socket, so 8 keep-alive clients land 5/3 or 2/6 far more often than 4/4, and the busier core sets the tail
latency while the other idles. With one shared socket, the worker whose loop wakes first accepts every waiting
connection (uvloop accepts in C, so no Python hook can refuse one). Accepting costs the parent one system call
and one hand-off per *connection*; requests on a kept-alive connection go straight to its worker.

One channel per worker: a ``SOCK_SEQPACKET`` Unix socket pair (message boundaries kept, so each message carries
exactly one descriptor). Parent to worker: one byte and one descriptor per connection. Worker to parent: one
byte per closed connection. End of file on either side means the other process is gone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.server import STARTUP_FAILURE

logger = logging.getLogger("cdq.service")

#: One message per hand-off or close: no payload is needed beyond the descriptor itself.
_HANDED, _CLOSED = b"h", b"c"


def channel() -> tuple[socket.socket, socket.socket]:
    """A (parent end, worker end) pair for one worker."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


class Balancer:
    """The parent's side: accept on ``listener``, hand each connection to the least loaded worker.

    ``channels`` maps a worker's pid to the parent's end of its channel.
    """

    def __init__(self, listener: socket.socket, channels: dict[int, socket.socket]):
        self.listener = listener
        self.channels = channels
        self.open: dict[int, int] = dict.fromkeys(channels, 0)  # pid -> connections handed and not yet closed
        self.selector = selectors.DefaultSelector()
        listener.setblocking(False)
        self.selector.register(listener, selectors.EVENT_READ, None)
        for pid, end in channels.items():
            end.setblocking(False)
            self.selector.register(end, selectors.EVENT_READ, pid)

    def poll(self, timeout: float) -> None:
        """Serve whatever is ready within ``timeout`` seconds: new connections, closes reported by workers."""
        for key, _ in self.selector.select(timeout):
            if key.data is None:
                self._accept()
            else:
                self._closed(key.data)

    def stop_accepting(self) -> None:
        """Close the listening socket: connections not yet accepted are refused from now on."""
        if self.listener.fileno() >= 0:
            self.selector.unregister(self.listener)
            self.listener.close()

    def forget(self, pid: int) -> None:
        """A worker has exited: give it nothing more."""
        end = self.channels.pop(pid, None)
        self.open.pop(pid, None)
        if end is not None:
            if end in self.selector.get_map():  # (not after its end of file was read)
                self.selector.unregister(end)
            end.close()

    def close(self) -> None:
        self.stop_accepting()
        for pid in list(self.channels):
            self.forget(pid)
        self.selector.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: leave it in the backlog, try again on the next poll
                logger.warning("accept failed: %s", exc)
                return
            with conn:  # the worker holds its own duplicate from here on; the parent's copy is closed
                self._hand(conn)

    def _hand(self, conn: socket.socket) -> None:
        # least open connections first; among equals the lowest pid, so the choice is deterministic
        for pid in sorted(self.open, key=lambda p: (self.open[p], p)):
            try:
                socket.send_fds(self.channels[pid], [_HANDED], [conn.fileno()])
            except OSError:  # the worker is gone (its exit is noticed by the wait loop) or its queue is full
                continue
            self.open[pid] += 1
            return
        logger.error("no worker took a connection; closing it")

    def _closed(self, pid: int) -> None:
        end = self.channels[pid]
        while True:
            try:
                message = end.recv(1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message = b""
            if not message:  # the worker's end is closed: it is exiting
                self.selector.unregister(end)
                return
            self.open[pid] = max(0, self.open[pid] - 1)


def serve(balancer: Balancer, children: list[int], stop: Callable[[int, Any], None],
          stopping: Callable[[], bool]) -> bool:
    """The parent's loop until every worker has exited; True when one exited on its own (a failure)."""
    failed = False
    while children:
        if stopping():
            balancer.stop_accepting()
        balancer.poll(0.2)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid not in children:
                continue
            children.remove(pid)
            balancer.forget(pid)
            if not stopping():  # a worker died on its own: stop the others, report the failure
                failed = True
                logger.error("worker %d exited (status %d); stopping the service", pid, status)
                stop(signal.SIGTERM, None)
    return failed


class AdoptingServer(uvicorn.Server):
    """A worker's uvicorn server that listens on nothing: it serves the connections the parent hands it.

    Startup is uvicorn's own (lifespan, then the same protocol factory with ``config``/``server_state``), so
    keep-alive, limits, ``server_state.connections`` and graceful shutdown work as for accepted connections.
    """

    def __init__(self, config: uvicorn.Config, end: socket.socket):
        super().__init__(config)
        self.end = end
        self.adopting: set[asyncio.Task[Any]] = set()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            protocol = config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop)
            lost = protocol.connection_lost

            def connection_lost(exc: Exception | None) -> None:  # uvicorn's, then tell the parent
                lost(exc)
                self._report_closed()

            protocol.connection_lost = connection_lost  # type: ignore[method-assign]
            return protocol

        loop = asyncio.get_running_loop()
        self.servers = []
        self.end.setblocking(False)
        loop.add_reader(self.end.fileno(), self._receive, loop, create_protocol)
        logger.info("worker %d serving connections handed over by the parent", os.getpid())
        self.started = True

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().remove_reader(self.end.fileno())
        await super().shutdown(sockets)

    def _receive(self, loop: asyncio.AbstractEventLoop, create_protocol: Callable[..., asyncio.Protocol]) -> None:
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(self.end, 1, 1)
            except (BlockingIOError, InterruptedError):
                return
            if not message and not fds:  # the parent is gone: stop as on SIGTERM
                loop.remove_reader(self.end.fileno())
                self.should_exit = True
                return
            for fd in fds:
                task = loop.create_task(self._adopt(loop, create_protocol, socket.socket(fileno=fd)))
                self.adopting.add(task)
                task.add_done_callback(self.adopting.discard)

    async def _adopt(self, loop: asyncio.AbstractEventLoop, create_protocol: Callable[..., asyncio.Protocol],
                     conn: socket.socket) -> None:
        try:
            await loop.connect_accepted_socket(create_protocol, conn)
        except OSError:  # the client left before it was adopted: the parent must not count it
            conn.close()
            self._report_closed()

    def _report_closed(self) -> None:
        try:
            self.end.send(_CLOSED)
        except OSError:  # the parent is gone or stopping; nothing left to count
            pass
