"""The store lock between nightly runs and leads: a run holds the store, a lead takes it for one transaction.

A nightly run reads the stored records, matches its batch against them and merges: a lead committed in
between would be invisible to its matching, and the same person could end up as two golden records. So:

- :func:`hold_run` (a pipeline run with a golden stage): sets ``store_lock.holder`` in its own short
  transaction (it waits for a lead transaction in progress) and clears it at the end;
- :func:`lead_transaction`: one transaction that first *writes* the lock row (``writes + 1 where holder is
  null``). On PostgreSQL that row lock serialises leads with each other and with the run's acquire; on
  SQLite the write takes the database's write lock (``BEGIN IMMEDIATE``). It yields ``True`` when the lead
  may be merged now, ``False`` while a run holds the store: the caller then queues the lead, and the queue is
  drained after the run (:func:`cdq.leads.drain`).

Leads are serialised (one short transaction each), so two leads of one new person never both create a
golden record: the second one's matching sees the first.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from cdq.errors import CdqError
from cdq.store import GoldenStore
from cdq.store.online import store_lock
from cdq.store.schema import now

logger = logging.getLogger(__name__)
NAME = "golden"


class StoreBusy(CdqError):
    """Another run holds the golden store."""

    exit_code = 2


def holder_text(kind: str) -> str:
    """Who holds the lock (host, pid, run kind): for the steward who finds a stale lock."""
    return f"{kind} pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def hold_run(store: GoldenStore, kind: str) -> Iterator[None]:
    """Hold the store for a whole run; raises :class:`StoreBusy` if another run holds it."""
    holder = holder_text(kind)
    with store.begin() as conn:
        got = conn.execute(store_lock.update().where(store_lock.c.name == NAME, store_lock.c.holder.is_(None))
                           .values(holder=holder, acquired_at=now())).rowcount
        if not got:
            current = conn.execute(sa.select(store_lock.c.holder, store_lock.c.acquired_at)
                                   .where(store_lock.c.name == NAME)).first()
    if not got:
        who, since = tuple(current) if current is not None else ("?", "?")
        raise StoreBusy(f"the golden store is held by another run ({who} since {since})",
                        hint="wait for it to finish; a run that crashed is released with `cdq serve-unlock`")
    logger.info("store lock: held by %s", holder)
    try:
        yield
    finally:
        release(store)


def release(store: GoldenStore) -> None:
    """Clear the run holder (after a run, or by a steward after a crashed run)."""
    with store.begin() as conn:
        conn.execute(store_lock.update().where(store_lock.c.name == NAME).values(holder=None, acquired_at=None))
    logger.info("store lock: released")


def release_if_gone(store: GoldenStore) -> str | None:
    """Release a hold whose run's process is gone (a ``kill -9`` on this host); returns that holder.

    A hold from another host, or one whose process lives, is left alone.
    """
    import re

    from cdq.store.lock import process_alive

    holder = held_by(store)
    found = re.search(r"pid (\d+) on (\S+)", holder or "")
    if not found or process_alive(found.group(2), int(found.group(1))) is not False:
        return None
    with store.begin() as conn:
        gone = conn.execute(store_lock.update().where(store_lock.c.name == NAME, store_lock.c.holder == holder)
                            .values(holder=None, acquired_at=None)).rowcount
    if gone:
        logger.warning("store lock: the run holding it (%s) is gone; released", holder)
    return holder if gone else None


def held_by(store: GoldenStore) -> str | None:
    """The current run holder, ``None`` when free."""
    with store.engine.connect() as conn:
        return conn.execute(sa.select(store_lock.c.holder).where(store_lock.c.name == NAME)).scalar()


@contextmanager
def lead_transaction(store: GoldenStore) -> Iterator[tuple[sa.Connection, bool]]:
    """``(conn, free)``: a write transaction holding the lock row; ``free`` is False while a run holds it.

    Only a free lead transaction (it will merge) takes a new store generation: a queued lead writes
    nothing a run's matching reads, so the run holding the store need not match again for it.
    """
    with store.begin(advance=False) as conn:
        free = bool(conn.execute(store_lock.update().where(store_lock.c.name == NAME, store_lock.c.holder.is_(None))
                                 .values(writes=store_lock.c.writes + 1)).rowcount)
        if free:
            store.advance(conn)
        else:  # still take the row lock, so the queue insert is ordered after the run's acquire
            conn.execute(store_lock.update().where(store_lock.c.name == NAME).values(writes=store_lock.c.writes))
        yield conn, free
