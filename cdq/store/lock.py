"""One writer at a time per golden store: the writer lock, and which process a run belongs to.

Every write transaction on a golden store (:meth:`cdq.store.GoldenStore.begin`) first takes the store's
writer lock, held until the transaction commits or rolls back:

- SQLite: ``BEGIN IMMEDIATE`` (the database's RESERVED lock: one writer, readers go on);
- PostgreSQL: ``pg_advisory_xact_lock`` on a key of the store's schema.

Both are released by the database when the holder dies (a killed process's file lock or connection goes
with it), so a lock can never be left stale by a ``kill -9``. The lock is short — one merge
transaction — so other writers (a steward's unmerge, the HTTP service taking leads) queue behind a
nightly run's merge instead of behind the whole run; a run whose matching read the store before another
writer committed sees that in the store's *generation* counter and matches again inside its own
transaction (see :mod:`cdq.nightly`).
"""

from __future__ import annotations

import logging
import os
import socket
import time

import sqlalchemy as sa
from sqlalchemy import event

from cdq.errors import CdqError

logger = logging.getLogger(__name__)

#: First key of the two-int PostgreSQL advisory locks cdq takes (the second is the schema's hash).
PG_WRITER_KEY = 0x0CD0_0001
PG_MIGRATE_KEY = 0x0CD0_0002
#: Readers wait this long for a SQLite writer's commit (the only moment a writer blocks readers).
SQLITE_READ_TIMEOUT_MS = 60_000
#: How often a waiting writer tries the lock again.
POLL_SECONDS = 0.05


class StoreBusy(CdqError):
    """Another process holds the golden store's writer lock and we may not wait (longer) for it."""

    exit_code = 2


def install(engine: sa.Engine) -> None:
    """Make SQLite transactions explicit, so a writer can start with ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling starts a transaction only at the first write, after the reads
    that decided what to write — the very race the writer lock exists to close.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_READ_TIMEOUT_MS}")

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        wait_ms = conn.get_execution_options().get("cdq_writer_wait_ms")
        if wait_ms is None:
            conn.exec_driver_sql("BEGIN")
            return
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_READ_TIMEOUT_MS}")


def writer_connection(engine: sa.Engine, wait: float) -> sa.Connection:
    """A connection whose next ``begin()`` takes the SQLite writer lock, waiting up to ``wait`` seconds."""
    conn = engine.connect()
    if engine.dialect.name == "sqlite":
        conn.execution_options(cdq_writer_wait_ms=max(0, int(wait * 1000)))
    return conn


def is_busy(error: sa.exc.DBAPIError) -> bool:
    """True for SQLite's "database is locked" (the writer lock was not free in time)."""
    return "database is locked" in str(error.orig).lower()


def acquire_pg(conn: sa.Connection, key: int, wait: float) -> bool:
    """Take a transaction-scoped advisory lock on PostgreSQL, polling up to ``wait`` seconds."""
    deadline = time.monotonic() + max(wait, 0.0)
    query = sa.text("select pg_try_advisory_xact_lock(:k, hashtext(current_schema()))")
    while True:
        if conn.execute(query, {"k": key}).scalar():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def identity() -> tuple[str, int]:
    """This process: ``(host, pid)``, recorded with every run so a later run can tell if it died."""
    return socket.gethostname(), os.getpid()


def process_alive(host: str | None, pid: int | None) -> bool | None:
    """Whether the process ``pid`` on ``host`` still runs: ``None`` when we cannot tell (another host)."""
    if host != socket.gethostname() or not pid:
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return _not_a_zombie(int(pid))


def _not_a_zombie(pid: int) -> bool:
    """A killed child its parent has not reaped yet is a zombie: dead for our purposes."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
