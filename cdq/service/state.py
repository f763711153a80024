"""What the app holds while it runs: the golden store, the match index, the address reference, the limiter.

One :class:`ServiceState` per app (``app.state.cdq``). The address reference is one read-only SQLite
connection per worker thread (a connection must not be shared between threads). The background thread
takes in queued leads and refreshes the match index after a run (:meth:`ServiceState.background`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cdq.address import AddressStore, load_demo_reference
from cdq.leads.index import Candidate, MatchIndex, match_many
from cdq.service.apikeys import ApiKey, verify_key
from cdq.service.batching import Batcher
from cdq.service.ratelimit import MovingWindow
from cdq.service.settings import ServiceSettings
from cdq.store import GoldenStore
from cdq.store.schema import runs

logger = logging.getLogger(__name__)
KEY_CACHE_SECONDS = 5.0
#: Golden values a match answer shows (enough to recognise the customer on screen).
SUMMARY = ("initials", "first_name", "infix", "last_name", "company_name", "street", "house_number", "house_letter",
           "house_number_addition", "postcode", "city")
#: One record's ranked candidates and golden id → :func:`summaries` of their golden records.
Matched = tuple[list[Candidate], dict[str, dict[str, Any]]]


def summaries(conn: sa.Connection, golden_ids: list[str]) -> dict[str, dict[str, Any]]:
    """golden id → the recognisable values (:data:`SUMMARY`) and status of its current golden record."""
    from cdq.store.schema import golden_records as g

    if not golden_ids:
        return {}
    rows = conn.execute(sa.select(g.c.golden_id, g.c.data, g.c.status).where(g.c.golden_id.in_(golden_ids))).all()
    out = {}
    for gid, data, status in rows:
        values = json.loads(data) if data else {}
        out[gid] = {"status": status, **{k: values.get(k) for k in SUMMARY}}
    return out


def _remove_built_reference(folder: Path, owner: int) -> None:
    """Delete the demo reference's temp folder, only in the process that built it: forked workers share the
    folder and stop on their own, before the parent that still serves from it (and hands it to the next)."""
    if os.getpid() == owner:
        shutil.rmtree(folder, ignore_errors=True)


class ServiceState:
    """The service's long-lived objects (see module doc)."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self.store = GoldenStore(settings.store)
        self.reference_path = self._reference(settings.reference)
        #: the bundled demo reference is built into a temp folder per start: removed at stop, or when the
        #: state is collected or the interpreter exits if nothing stopped it (it left one per start before)
        self._remove_reference = (None if settings.reference else
                                  weakref.finalize(self, _remove_built_reference, self.reference_path.parent,
                                                   os.getpid()))
        self.index = MatchIndex(self.store)
        #: ``/v1/match`` requests that arrive together are scored in one call (see cdq.service.batching)
        self.matcher: Batcher[tuple[dict[str, Any], int], Matched] = Batcher(self._match_batch)
        self._local = threading.local()
        self._keys: dict[str, tuple[ApiKey | None, float]] = {}
        self.limiter = MovingWindow.parse(settings.rate_limit)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_run = 0
        self._started = False

    def _match_batch(self, items: list[tuple[dict[str, Any], int]]) -> list[Matched]:
        """``(record, limit)`` items → each record's ranked candidates (:func:`match_many`) and their golden
        records' :func:`summaries`, read in one connection for the whole batch."""
        with self.store.engine.connect() as conn:
            found = match_many([record for record, _ in items], self.index, limit=max(limit for _, limit in items),
                               conn=conn)
            ranked = [candidates[:limit] for candidates, (_, limit) in zip(found, items)]
            golden = summaries(conn, sorted({c.golden_id for candidates in ranked for c in candidates}))
        return [(candidates, {c.golden_id: golden.get(c.golden_id, {}) for c in candidates}) for candidates in ranked]

    @staticmethod
    def _reference(path: str | None) -> Path:
        """The address reference store; without one, the bundled demo table built into a temp folder."""
        if path:
            AddressStore.open(path).close()  # fail at start, with the command that builds one
            return Path(path)
        built = Path(tempfile.mkdtemp(prefix="cdq-serve-")) / "demo_bag.sqlite"
        load_demo_reference(built).close()
        return built

    @property
    def reference(self) -> AddressStore:
        """This thread's read-only connection to the address reference."""
        ref = getattr(self._local, "reference", None)
        if ref is None:
            ref = self._local.reference = AddressStore.open(self.reference_path)
        return ref

    def key(self, token: str) -> ApiKey | None:
        """Verify a bearer token (cached a few seconds: a revoked key stops within ``KEY_CACHE_SECONDS``)."""
        hit = self._keys.get(token)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        with self.store.engine.connect() as conn:
            found = verify_key(conn, token)
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[token] = (found, time.monotonic() + KEY_CACHE_SECONDS)
        return found

    def allow(self, who: str) -> bool:
        """One request of ``who`` (a key id, or the client address) against the rate limit."""
        return self.limiter.hit(who)

    # -- start, background, stop ---------------------------------------------------------------------
    def start(self, *, background: bool = True) -> None:
        """Build or refresh the match index, train the match model, start the background thread.

        ``background=False``: index and model only (:mod:`cdq.service.workers` does that once before it
        forks; each worker's own ``start()`` then only starts its background thread).
        """
        from cdq.leads.lock import held_by

        if not self._started:
            started = time.perf_counter()
            if held_by(self.store) is None:
                self.index.refresh()
            _ = self.index.model
            self._last_run = self._latest_run()
            self._started = True
            logger.info("service ready in %.1f s", time.perf_counter() - started)
        if background and self._thread is None:
            self._thread = threading.Thread(target=self.background, name="cdq-leads", daemon=True)
            self._thread.start()

    def after_fork(self) -> None:
        """In a forked worker: the parent's connections are not this process's to use (see workers.py)."""
        self.store.engine.dispose(close=False)
        self._local = threading.local()

    def _latest_run(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(runs.c.run_id)).where(
                runs.c.kind != "lead", runs.c.finished_at.is_not(None))).scalar() or 0)

    def background(self) -> None:
        """Every ``refresh_seconds``: after a finished run, refresh the index; take in queued leads.

        The refresh is work done ahead of time, not a condition of correctness: a lead's own transaction
        brings the index up to date before it matches (:func:`cdq.leads._merge_lead`).
        """
        from cdq.leads import drain
        from cdq.leads.lock import held_by

        while not self._stop.wait(self.settings.refresh_seconds):
            self.tick(drain, held_by)

    def tick(self, drain: Any = None, held_by: Any = None) -> None:
        """One round of the background work (also called by tests)."""
        from cdq.leads.lock import release_if_gone

        if drain is None:
            from cdq.leads import drain
            from cdq.leads.lock import held_by
        try:
            release_if_gone(self.store)  # a killed run's hold must not queue leads until the next night
            if held_by(self.store) is not None:
                return
            latest = self._latest_run()
            if latest != self._last_run:
                self.index.refresh()
                self.index.retrain_if_grown()
                self._last_run = latest
            drain(self.store, self.index, crm_url=self.settings.crm)
        except Exception as e:  # noqa: BLE001 - the thread must survive a failed round; logged without data
            logger.error("background round failed: %s", type(e).__name__)

    def stop(self) -> None:
        self.matcher.close()
        if self.matcher.calls:
            logger.info("match requests: %d in %d calls", self.matcher.items, self.matcher.calls)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.store.engine.dispose()
        if self._remove_reference is not None:
            self._remove_reference()
