"""The per-key rate limit: a moving window of ``limit`` hits per ``seconds``, kept in memory.

The same rule as the ``limits`` library's moving window (:class:`limits.strategies.MovingWindowRateLimiter`):
a hit is allowed when fewer than ``limit`` hits of that key were allowed in the last ``seconds``. Not that
library's in-memory storage, though: it starts a new expiry thread (a 10 ms ``threading.Timer``) on the
first hit after the previous one ran out, so under steady load nearly every request started a thread —
a thread start waits for the new thread to take the GIL, about a tenth of ``/v1/match``'s service time.
Here expired hits are dropped by the hit that finds them, and idle keys by a sweep once per window.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from limits import parse


class MovingWindow:
    """``hit(who)`` is True when ``who`` has had fewer than ``limit`` allowed hits in the last ``seconds``.

    Thread-safe. Memory: one timestamp per allowed hit still in the window, per key.

    Examples:
        >>> window = MovingWindow.parse("2/minute")
        >>> [window.hit("key:a"), window.hit("key:a"), window.hit("key:a"), window.hit("key:b")]
        [True, True, False, True]
    """

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.seconds = limit, seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = float("-inf")

    @classmethod
    def parse(cls, notation: str) -> MovingWindow:
        """From the ``limits`` notation (``600/minute``, ``10 per second``)."""
        item = parse(notation)
        return cls(item.amount, float(item.get_expiry()))

    def hit(self, who: str) -> bool:
        now = self._clock()
        start = now - self.seconds  # a hit at exactly ``start`` still counts, as in ``limits``
        with self._lock:
            if now - self._swept > self.seconds:
                self._sweep(start)
                self._swept = now
            hits = self._hits.get(who)
            if hits is None:
                hits = self._hits[who] = deque()
            while hits and hits[0] < start:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def _sweep(self, start: float) -> None:
        """Forget the keys with no hit in the window (a key seen once must not stay for good)."""
        for who in [w for w, hits in self._hits.items() if not hits or hits[-1] < start]:
            del self._hits[who]
