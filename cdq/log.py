"""Library logging: ``logging.getLogger(__name__)`` everywhere, and :func:`enable` for applications.

The library never prints; the CLI decides what the user sees. Log messages never contain personal data
(names, addresses, e-mail addresses, phone numbers): they name files, rows, columns and counts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

VERBOSE = 15
logging.addLevelName(VERBOSE, "VERBOSE")

#: A progress callback takes (done, total); the CLI passes one that drives a rich progress bar.
Progress = Callable[[int, int], None]


def enable(level: int | str = logging.INFO) -> None:
    """Send the ``cdq`` logger's records to stderr at ``level`` (e.g. ``"VERBOSE"`` or ``logging.DEBUG``)."""
    logger = logging.getLogger("cdq")
    logger.setLevel(level)
    if not any(getattr(h, "_cdq", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._cdq = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


class ProgressLog:
    """Reports a long loop: logs ``k/N (pct) elapsed/remaining`` at most every ``every`` seconds (always the
    last step) and passes every step to an optional ``progress`` callback (the CLI's rich progress bar).

    Examples:
        >>> seen = []
        >>> tick = ProgressLog(logging.getLogger("cdq.example"), "printouts", 3, progress=lambda k, n: seen.append(k))
        >>> for k in range(1, 4):
        ...     tick(k)
        >>> seen
        [1, 2, 3]
    """

    def __init__(self, logger: logging.Logger, what: str, total: int, every: float = 5.0,
                 progress: Progress | None = None):
        self.logger, self.what, self.total, self.every = logger, what, max(total, 1), every
        self.progress = progress
        self.start = self.last = time.monotonic()

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = max(total, 1)
        if self.progress is not None:
            self.progress(done, self.total)
        now = time.monotonic()
        if now - self.last < self.every and done < self.total:
            return
        self.last = now
        elapsed = now - self.start
        remaining = elapsed / done * (self.total - done) if done else float("nan")
        self.logger.log(
            VERBOSE,
            "%s %d/%d (%.0f%%) %.1fs elapsed, %.1fs remaining",
            self.what, done, self.total, 100 * done / self.total, elapsed, remaining,
        )
