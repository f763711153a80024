"""Requests that arrive together answered by one call: :class:`Batcher`, used for ``POST /v1/match``.

Scoring one record against its candidates is one call of batch linkage's vectorised comparison, whose cost
is mostly fixed (numpy and pandas set-up per comparison): one record against 20 candidates costs about
80% of 4 records against 200 each. With several clients, requests queue in a worker anyway; a
:class:`Batcher` scores everything that is waiting in one call (:func:`cdq.leads.index.match_many`)
instead of one after the other. Each record still gets exactly the answer it would get alone (every
comparison, veto and weight is a function of one pair).

One scorer thread per process makes the calls. An ``async`` endpoint awaits :meth:`Batcher.submit`: the
event loop keeps reading and parsing the next requests while a call runs, and the thread hands each
call's answers back to the loop in one wake-up. (A sync endpoint cost two hops to the thread pool and back
per request — the endpoint and then FastAPI's check of its answer — plus a wake-up per waiting request.)
Threads may call the batcher directly (:meth:`Batcher.__call__`).

A request arriving while nothing is being scored, on an idle service, is scored at once (alone); requests
arriving during a call wait for it and then go together in the next. Under load, the clients answered by
one call send their next requests at nearly the same moment: the first would start a call of its own a
fraction of a millisecond before the others arrive, and they would wait for it. So a call that starts
within :data:`BUSY_SECONDS` of the previous one first waits for them: until as many requests wait as
waited when the previous call ended plus those it answered (the clients it answered are expected back),
at most :data:`GATHER_SECONDS` (a millisecond or two against the ~5-30 ms a call takes). A fixed wait
left the core idle once they had all arrived.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

#: At most this many requests per call (bounds the latency a large batch adds to its first request).
MAX_BATCH = 16
#: A call starting this soon after the previous one ended is "under load" ...
BUSY_SECONDS = 0.05
#: ... and first waits this long for the requests arriving with it.
GATHER_SECONDS = 0.002


class _Slot(Generic[In, Out]):
    """One waiting request: its item, then its result or error; ``loop``/``future`` for an awaiting
    coroutine, ``event`` for a waiting thread."""

    __slots__ = ("item", "result", "error", "loop", "future", "event")

    def __init__(self, item: In, loop: asyncio.AbstractEventLoop | None = None):
        self.item = item
        self.result: Out | None = None
        self.error: BaseException | None = None
        self.loop = loop
        self.future: asyncio.Future[Out] | None = loop.create_future() if loop is not None else None
        self.event = threading.Event() if loop is None else None

    def outcome(self) -> Out:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


def _settle(slots: list[_Slot[Any, Any]]) -> None:
    """In the event loop: each awaiting request's future gets its result or error."""
    for s in slots:
        assert s.future is not None
        if s.future.cancelled():  # the client went away
            continue
        if s.error is not None:
            s.future.set_exception(s.error)
        else:
            s.future.set_result(s.result)


class Batcher(Generic[In, Out]):
    """``await batcher.submit(item)`` (or ``batcher(item)`` in a thread) returns ``fn([item, ...])[i]`` for its
    item; ``fn`` is called in the batcher's own thread on every item waiting (at most ``max_batch``).

    ``fn`` takes a list of items and returns one result per item, in order; an exception it raises is
    raised to every request of that batch.

    Examples:
        >>> double = Batcher(lambda items: [2 * x for x in items])
        >>> double(21)
        42
        >>> import asyncio
        >>> asyncio.run(double.submit(4))
        8
        >>> double.close()
    """

    def __init__(self, fn: Callable[[list[In]], list[Out]], max_batch: int = MAX_BATCH,
                 gather: float = GATHER_SECONDS, busy: float = BUSY_SECONDS):
        self.fn = fn
        self.max_batch = max_batch
        self.gather, self.busy = gather, busy
        self._ended = float("-inf")
        #: Requests expected for the next call: those waiting when the last call ended plus those it answered.
        self._expected = 1
        self._ready = threading.Condition()
        self._pending: list[_Slot[In, Out]] = []
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._closed = False
        #: Calls of ``fn`` and items scored (for tests and the log).
        self.calls = 0
        self.items = 0

    def __call__(self, item: In) -> Out:
        """From a thread: wait for this item's result."""
        slot: _Slot[In, Out] = _Slot(item)
        self._put(slot)
        assert slot.event is not None
        slot.event.wait()
        return slot.outcome()

    async def submit(self, item: In) -> Out:
        """From an event loop: await this item's result (the loop runs on meanwhile)."""
        slot: _Slot[In, Out] = _Slot(item, asyncio.get_running_loop())
        self._put(slot)
        assert slot.future is not None
        return await slot.future

    def close(self) -> None:
        """Score what is waiting, then end the thread (a later item starts a new one)."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def _put(self, slot: _Slot[In, Out]) -> None:
        with self._ready:
            self._pending.append(slot)
            # the thread is this process's own: a forked worker starts its own (threads do not survive a fork)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._closed = False
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._serve, name="cdq-batcher", daemon=True)
                self._thread.start()
            self._ready.notify()

    def _serve(self) -> None:
        """The batcher's thread: take what waits, score it, hand the answers back; until :meth:`close`."""
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if not self._pending:
                    self._thread = None
                    return
                if time.monotonic() - self._ended < self.busy:  # under load: wait for the clients answered last
                    self._ready.wait_for(self._gathered, self.gather)
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
            self._run(batch)
            with self._ready:
                self._expected = len(self._pending) + len(batch)

    def _gathered(self) -> bool:
        return len(self._pending) >= min(self._expected, self.max_batch) or self._closed

    def _run(self, batch: list[_Slot[In, Out]]) -> None:
        try:
            results = self.fn([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(batch)} items")
            for s, r in zip(batch, results):
                s.result = r
        except BaseException as e:  # noqa: BLE001 - raised again in every request of the batch
            for s in batch:
                s.error = e
        self.calls += 1
        self.items += len(batch)
        self._ended = time.monotonic()
        by_loop: dict[asyncio.AbstractEventLoop, list[_Slot[In, Out]]] = {}
        for s in batch:
            if s.event is not None:
                s.event.set()
            elif s.loop is not None:
                by_loop.setdefault(s.loop, []).append(s)
        for loop, slots in by_loop.items():  # one wake-up per loop, not one per request
            try:
                loop.call_soon_threadsafe(_settle, slots)
            except RuntimeError:  # that loop has closed: nobody awaits these any more
                pass
