"""Requests that arrive together answered by one call: :class:`Batcher`, used for ``POST /v1/match``.

Scoring one record against its candidates is one call of batch linkage's vectorised comparison, whose cost
is mostly fixed (numpy and pandas set-up per comparison): one record against 20 candidates costs about
80% of 4 records against 200 each. With several clients, requests queue in a worker anyway; a
:class:`Batcher` lets the first of them score everything that is waiting in one call
(:func:`cdq.leads.index.match_many`) instead of one after the other. Each record still gets exactly the
answer it would get alone (every comparison, veto and weight is a function of one pair).

A request arriving while nothing is being scored, on an idle service, is scored at once (alone); requests
arriving during a call wait for it and then go together in the next. Under load, the clients answered by
one call send their next requests at nearly the same moment: the first would start a call of its own a
fraction of a millisecond before the others arrive, and they would wait for it. So a call that starts
within :data:`BUSY_SECONDS` of the previous one first waits :data:`GATHER_SECONDS` for them (a
millisecond or two against the ~5-15 ms a call takes). The thread that scores a batch hands the next one
to a waiting request's thread and returns its own answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")

#: At most this many requests per call (bounds the latency a large batch adds to its first request).
MAX_BATCH = 16
#: A call starting this soon after the previous one ended is "under load" ...
BUSY_SECONDS = 0.05
#: ... and first waits this long for the requests arriving with it.
GATHER_SECONDS = 0.002


class _Slot(Generic[In, Out]):
    __slots__ = ("item", "result", "error", "done", "lead", "event")

    def __init__(self, item: In):
        self.item = item
        self.result: Out | None = None
        self.error: BaseException | None = None
        self.done = False
        self.lead = False
        self.event = threading.Event()


class Batcher(Generic[In, Out]):
    """``batcher(item)`` returns ``fn([item, ...])[i]`` for its item, calling ``fn`` on every item waiting.

    ``fn`` takes a list of items and returns one result per item, in order; an exception it raises is
    raised to every request of that batch.

    Examples:
        >>> double = Batcher(lambda items: [2 * x for x in items])
        >>> double(21)
        42
    """

    def __init__(self, fn: Callable[[list[In]], list[Out]], max_batch: int = MAX_BATCH,
                 gather: float = GATHER_SECONDS, busy: float = BUSY_SECONDS):
        self.fn = fn
        self.max_batch = max_batch
        self.gather, self.busy = gather, busy
        self._ended = float("-inf")
        self._lock = threading.Lock()
        self._pending: list[_Slot[In, Out]] = []
        self._busy = False
        #: Calls of ``fn`` and items scored (for tests and the log).
        self.calls = 0
        self.items = 0

    def __call__(self, item: In) -> Out:
        slot: _Slot[In, Out] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            if not self._busy:
                self._busy = slot.lead = True
        if not slot.lead:
            slot.event.wait()  # answered, or handed the next batch
        if not slot.done:
            self._run()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    def _run(self) -> None:
        """Score the waiting requests (this thread's own among them), then pass the lead on."""
        if time.monotonic() - self._ended < self.busy and len(self._pending) < self.max_batch:
            time.sleep(self.gather)
        with self._lock:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
        try:
            results = self.fn([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch function returned {len(results)} results for {len(batch)} items")
            for s, r in zip(batch, results):
                s.result = r
        except BaseException as e:  # noqa: BLE001 - raised again in every request of the batch
            for s in batch:
                s.error = e
        with self._lock:
            self.calls += 1
            self.items += len(batch)
            self._ended = time.monotonic()
            for s in batch:
                s.done = True
            if self._pending:
                following = self._pending[0]
                following.lead = True
                following.event.set()
            else:
                self._busy = False
        for s in batch:
            s.event.set()
