"""The golden store: source records, cross-references, versioned golden records, events, overrides, runs.

``GoldenStore(url)`` opens (and creates or migrates) a store on any SQLAlchemy URL: ``sqlite:///golden.db``
by default, ``postgresql+psycopg2://…`` supported. Methods that write take an open connection so that
:func:`cdq.golden.merge_batch` can do a whole nightly batch in one transaction (``with store.begin() as
conn``). Every such transaction holds the store's writer lock (:mod:`cdq.store.lock`): one writer at a
time, waiting up to ``wait`` seconds for it, and it advances the store's generation, which tells a
reader whether anyone wrote since it read (:meth:`GoldenStore.generation`). Golden ids look like ``G0000001`` and are allocated monotonically from ``counters``; a lower
number is an older id. ``seq`` on a golden record is the store-wide change sequence the CRM load reads.

Examples:
    >>> store = GoldenStore("sqlite://")
    >>> with store.begin() as conn:
    ...     store.allocate_golden_ids(conn, 2)
    ['G0000001', 'G0000002']
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.errors import UsageError
from cdq.store import lock
from cdq.store.lock import StoreBusy
from cdq.store.schema import (
    counters,
    events,
    golden_records,
    golden_versions,
    migrate,
    now,
    overrides,
    run_owners,
    runs,
    source_records,
    xref,
)

__all__ = ["GoldenStore", "StoreBusy", "golden_number", "masked_url"]

logger = logging.getLogger(__name__)
CHUNK = 900  # below SQLite's bound-parameter limit
#: Key in a connection's ``info`` while it is in :meth:`GoldenStore.begin`: the generation it took the lock at.
LOCKED_GENERATION = "cdq_locked_generation"


def golden_number(golden_id: str) -> int:
    """The numeric part of a golden id (lower = older). ``golden_number("G0000042") == 42``."""
    return int(golden_id[1:])


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _frame(conn: sa.Connection, query_for, values: Iterable, columns: list[str]) -> pd.DataFrame:
    """Run ``query_for(chunk)`` over chunks of ``values``; stack the rows into one frame."""
    rows = [r for chunk in chunks(sorted(set(values))) for r in conn.execute(query_for(chunk)).all()]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def write_versioned(conn: sa.Connection, table: sa.Table, versions: sa.Table, key: str, rows: list[dict],
                    existing: set[str], run_id: int) -> None:
    """Insert new / update existing rows of a versioned table (golden records, golden organisations), each
    carrying its new ``version`` and ``seq``, and add every row to its ``versions`` table."""
    new = [r for r in rows if r[key] not in existing]
    old = [{f"b_{k}": v for k, v in r.items()} for r in rows if r[key] in existing]
    if new:
        conn.execute(table.insert(), [{**r, "created_run": run_id, "updated_run": run_id} for r in new])
    if old:
        values: dict[str, sa.BindParameter[object]] = {c: sa.bindparam(f"b_{c}") for c in rows[0] if c != key}
        conn.execute(table.update().where(table.c[key] == sa.bindparam(f"b_{key}"))
                     .values(**values, updated_run=run_id), old)
    if rows:
        keep = (key, "version", "status", "merged_into", "data", "lineage")
        conn.execute(versions.insert(), [{**{k: r[k] for k in keep}, "run_id": run_id} for r in rows])


class GoldenStore:
    """A golden store on one database (see module docstring)."""

    def __init__(self, url: str, *, echo: bool = False, must_exist: bool = False, wait: float = 60.0):
        """Open (and create or migrate) the store at ``url``.

        ``must_exist``: commands that read a store (``cdq load``, ``cdq unmerge``, printouts) refuse to
        create an empty one, so a typo in a path is an error instead of an empty success.
        ``wait``: how long a write transaction waits for another writer's lock before :class:`StoreBusy`.
        """
        try:
            self.engine = sa.create_engine(url, echo=echo)
        except (sa.exc.ArgumentError, ImportError) as e:
            raise UsageError(f"cannot open golden store {masked_url(url)}: {type(e).__name__}",
                             hint="use a SQLAlchemy URL like sqlite:///golden.db") from e
        lock.install(self.engine)
        self.url = url
        self.wait = wait
        self._local = threading.local()
        if must_exist:
            self._check_exists()
        else:
            self._create_private()
        try:
            migrate(self.engine)
        except sa.exc.DatabaseError as e:
            raise UsageError(f"cannot open golden store {self.engine.url!r}: {_db_problem(e)}",
                             hint="is this a cdq golden store (a SQLite file or database URL)?") from e

    def _create_private(self) -> None:
        """A new SQLite store file is created 0600 (it holds personal data), whatever the umask."""
        database = self.engine.url.database
        if self.engine.url.get_backend_name() != "sqlite" or not database or database == ":memory:" \
                or database.startswith("file:"):
            return
        try:
            os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass
        except OSError:
            return  # a missing folder and the like: SQLite's own error says it better

    def _check_exists(self) -> None:
        database = self.engine.url.database
        if self.engine.url.get_backend_name() == "sqlite" and database and database != ":memory:":
            if not Path(database).is_file():
                raise UsageError(f"no golden store at {database}", hint="check the --store URL, or run a pipeline first")
        try:
            found = sa.inspect(self.engine).has_table("_cdq_migrations")
        except sa.exc.DatabaseError as e:
            raise UsageError(f"cannot open golden store {self.engine.url!r}: {e.orig}") from e
        if not found:
            raise UsageError(f"{self.engine.url!r} is not a cdq golden store (no _cdq_migrations table)",
                             hint="check the --store URL, or run a pipeline first")

    @contextmanager
    def begin(self, wait: float | None = None, *, advance: bool = True) -> Iterator[sa.Connection]:
        """A write transaction holding the store's writer lock (commits on success, rolls back on error).

        Waits up to ``wait`` seconds (default: the store's ``wait``) for another writer, then raises
        :class:`StoreBusy` naming the runs that are still running. Re-entrant within a thread: a
        ``store.begin()`` inside another one joins the outer transaction, so a caller can read, check
        and call :func:`cdq.golden.merge_batch` under one lock. ``writer_lock`` is the same thing.

        ``advance=False``: a transaction that writes nothing matching reads (a queued lead, a CRM push
        result, the service's index) leaves the generation alone, so a nightly run's merge need not match
        again for it; it must not write source records unless it calls :meth:`advance` first.
        """
        outer = getattr(self._local, "conn", None)
        if outer is not None:
            yield outer
            return
        wait = self.wait if wait is None else wait
        with lock.writer_connection(self.engine, wait) as conn:
            try:
                trans = conn.begin()
            except sa.exc.OperationalError as e:
                if lock.is_busy(e):
                    raise self._busy(wait) from None
                raise
            with trans:
                if self.engine.dialect.name == "postgresql" and not lock.acquire_pg(conn, lock.PG_WRITER_KEY, wait):
                    raise self._busy(wait)
                self._local.generation = conn.info[LOCKED_GENERATION] = self.generation(conn)
                if advance:
                    self.advance(conn)
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
                    conn.info.pop(LOCKED_GENERATION, None)

    writer_lock = begin

    def advance(self, conn: sa.Connection) -> None:
        """Give this write transaction its own generation (see :meth:`begin`); once per transaction."""
        if self.generation(conn) == conn.info[LOCKED_GENERATION]:
            conn.execute(counters.update().where(counters.c.name == "generation").values(value=counters.c.value + 1))

    def locked_generation(self, conn: sa.Connection | None = None) -> int | None:
        """Inside :meth:`begin`: the generation the store had when this transaction took the lock.

        With ``conn``: the same for that connection (``None`` when it is not in such a transaction).
        """
        if conn is not None:
            return conn.info.get(LOCKED_GENERATION)
        return getattr(self._local, "generation", None) if getattr(self._local, "conn", None) else None

    def generation(self, conn: sa.Connection | None = None) -> int:
        """The store's write generation: every write transaction advances it by one.

        Read it before reading the store; if it is unchanged inside a later write transaction
        (:meth:`locked_generation`), nobody wrote in between and what was read is still the truth.
        """
        query = sa.select(counters.c.value).where(counters.c.name == "generation")
        if conn is not None:
            return int(conn.execute(query).scalar() or 0)
        with self.engine.connect() as own:
            return int(own.execute(query).scalar() or 0)

    def _busy(self, wait: float) -> StoreBusy:
        running = self.running_runs()
        holders = "; ".join(f"run {r.run_id} ({r.kind}, started {r.started_at}, pid {r.pid} on {r.host})"
                            for r in running.itertuples()) or "another process"
        return StoreBusy(f"the golden store is being written by {holders}; waited {wait:g}s for it",
                         hint="run again when it is done, or wait for it with --wait SECONDS")

    # -- runs and counters -------------------------------------------------------------------------
    @contextmanager
    def _bookkeeping(self) -> Iterator[sa.Connection]:
        """A short transaction for the ``runs`` table: no advisory lock, no new generation.

        SQLite has one writer at a time whatever is written, so it waits for the writer lock like
        :meth:`begin` (and raises :class:`StoreBusy` the same way). Never call it inside :meth:`begin` on
        SQLite: its second connection would wait for our own lock.
        """
        with lock.writer_connection(self.engine, self.wait) as conn:
            try:
                trans = conn.begin()
            except sa.exc.OperationalError as e:
                if lock.is_busy(e):
                    raise self._busy(self.wait) from None
                raise
            with trans:
                yield conn

    def start_run(self, kind: str) -> int:
        """Record a run as ``running``, owned by this process (first marking dead runs, see :meth:`reap_runs`)."""
        self.reap_runs()
        host, pid = lock.identity()
        with self._bookkeeping() as conn:
            run_id = conn.execute(runs.insert().values(kind=kind, started_at=now(), status="running")
                                  .returning(runs.c.run_id)).scalar_one()
            conn.execute(run_owners.insert().values(run_id=run_id, host=host, pid=pid))
        return run_id

    def finish_run(self, run_id: int, status: str = "ok", counts: dict | None = None) -> None:
        with self._bookkeeping() as conn:
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(
                finished_at=now(), status=status, counts=json.dumps(counts or {}, sort_keys=True)))

    def running_runs(self) -> pd.DataFrame:
        """Runs still marked ``running``: ``run_id, kind, started_at, host, pid``."""
        j = runs.outerjoin(run_owners, run_owners.c.run_id == runs.c.run_id)
        q = (sa.select(runs.c.run_id, runs.c.kind, runs.c.started_at, run_owners.c.host, run_owners.c.pid)
             .select_from(j).where(runs.c.status == "running").order_by(runs.c.run_id))
        with self.engine.connect() as conn:
            return pd.DataFrame([tuple(r) for r in conn.execute(q).all()],
                                columns=["run_id", "kind", "started_at", "host", "pid"])

    def reap_runs(self) -> pd.DataFrame:
        """Mark ``killed`` every ``running`` run whose process is gone; return them (reported by the caller).

        A run's process is known dead when it ran on this host and its pid no longer lives. A run from
        another host is left alone (we cannot tell), and so is a run that recorded no owner.
        """
        running = self.running_runs()
        dead = running[[lock.process_alive(h, p) is False for h, p in zip(running["host"], running["pid"])]]
        if len(dead):
            with self._bookkeeping() as conn:
                conn.execute(runs.update().where(runs.c.run_id.in_([int(i) for i in dead["run_id"]]),
                                                 runs.c.status == "running")
                             .values(status="killed", finished_at=now()))
            logger.warning("golden store: %d earlier run(s) did not finish (process gone): marked killed: %s",
                           len(dead), ", ".join(str(i) for i in dead["run_id"]))
        return dead.reset_index(drop=True)

    def discard_run(self, run_id: int) -> None:
        """Forget a run that stopped before it wrote anything (its batch was rolled back)."""
        with self._bookkeeping() as conn:
            conn.execute(runs.delete().where(runs.c.run_id == run_id))
            conn.execute(run_owners.delete().where(run_owners.c.run_id == run_id))

    def _allocate(self, conn: sa.Connection, name: str, n: int) -> int:
        """Reserve ``n`` values of counter ``name``; return the first. Row-locked on PostgreSQL."""
        row = sa.select(counters.c.value).where(counters.c.name == name).with_for_update()
        current = conn.execute(row).scalar_one()
        conn.execute(counters.update().where(counters.c.name == name).values(value=current + n))
        return current + 1

    def allocate_golden_ids(self, conn: sa.Connection, n: int) -> list[str]:
        first = self._allocate(conn, "golden", n) if n else 0
        return [f"G{i:07d}" for i in range(first, first + n)]

    def next_seq(self, conn: sa.Connection) -> int:
        return self._allocate(conn, "seq", 1)

    # -- source records and xref -------------------------------------------------------------------
    def lookup_sources(self, conn: sa.Connection, refs: Iterable[str]) -> pd.DataFrame:
        """``ref, id, content_hash, deleted_run, golden_id, pinned`` of known source records."""
        j = source_records.outerjoin(xref, xref.c.source_record_id == source_records.c.id)
        cols = [source_records.c.ref, source_records.c.id, source_records.c.content_hash,
                source_records.c.deleted_run, xref.c.golden_id, xref.c.pinned]
        return _frame(conn, lambda c: sa.select(*cols).select_from(j).where(source_records.c.ref.in_(c)), refs,
                      ["ref", "id", "content_hash", "deleted_run", "golden_id", "pinned"])

    def insert_sources(self, conn: sa.Connection, rows: list[dict]) -> None:
        """Every write of a source record is stamped with this transaction's generation (see :meth:`begin`):
        whoever follows the store (the service's match index) asks for the rows written after a generation."""
        if rows:
            generation = self.generation(conn)
            conn.execute(source_records.insert(), [{**r, "generation": generation} for r in rows])

    def update_sources(self, conn: sa.Connection, rows: list[dict]) -> None:
        """Rows with ``b_id, content_hash, payload, last_run, deleted_run``."""
        if rows:
            conn.execute(source_records.update().where(source_records.c.id == sa.bindparam("b_id"))
                         .values(generation=self.generation(conn)), rows)

    def mark_deleted(self, conn: sa.Connection, ids: list[int], run_id: int) -> None:
        generation = self.generation(conn)
        for chunk in chunks(ids):
            conn.execute(source_records.update().where(source_records.c.id.in_(chunk))
                         .values(deleted_run=run_id, generation=generation))

    def live_refs(self, conn: sa.Connection, sources: Iterable[str]) -> pd.DataFrame:
        """``ref, id`` of the not-deleted records of the given sources."""
        q = lambda c: sa.select(source_records.c.ref, source_records.c.id).where(  # noqa: E731
            source_records.c.source.in_(c), source_records.c.deleted_run.is_(None))
        return _frame(conn, q, sources, ["ref", "id"])

    def set_xref(self, conn: sa.Connection, rows: list[dict]) -> None:
        """Replace the xref of the rows' ``source_record_id`` (golden_id, match_score, rule, pinned, run_id)."""
        ids = [r["source_record_id"] for r in rows]
        for chunk in chunks(ids):
            conn.execute(xref.delete().where(xref.c.source_record_id.in_(chunk)))
        if rows:
            conn.execute(xref.insert(), rows)

    def members(self, conn: sa.Connection, golden_ids: Iterable[str]) -> pd.DataFrame:
        """Every source record linked to the golden ids, with payload and xref columns."""
        j = source_records.join(xref, xref.c.source_record_id == source_records.c.id)
        cols = [xref.c.golden_id, source_records.c.id, source_records.c.ref, source_records.c.payload,
                source_records.c.deleted_run, xref.c.match_score, xref.c.rule, xref.c.pinned]
        return _frame(conn, lambda c: sa.select(*cols).select_from(j).where(xref.c.golden_id.in_(c)), golden_ids,
                      ["golden_id", "source_record_id", "ref", "payload", "deleted_run", "match_score", "rule",
                       "pinned"])

    # -- golden records ----------------------------------------------------------------------------
    def golden(self, conn: sa.Connection, golden_ids: Iterable[str]) -> pd.DataFrame:
        cols = list(golden_records.c)
        return _frame(conn, lambda c: sa.select(*cols).where(golden_records.c.golden_id.in_(c)), golden_ids,
                      [c.name for c in cols])

    def write_golden(self, conn: sa.Connection, rows: list[dict], existing: set[str], run_id: int) -> None:
        """Insert new / update existing golden rows (each carries its new ``version``), and version them."""
        write_versioned(conn, golden_records, golden_versions, "golden_id", rows, existing, run_id)

    def changes_since(self, seq: int, *, full: bool = False) -> pd.DataFrame:
        """Golden rows changed after change sequence ``seq`` (or all rows when ``full``), ordered by id."""
        q = sa.select(golden_records).order_by(golden_records.c.golden_id)
        if not full:
            q = q.where(golden_records.c.seq > seq)
        with self.engine.connect() as conn:
            return pd.DataFrame([tuple(r) for r in conn.execute(q).all()], columns=[c.name for c in golden_records.c])

    def resolve(self, golden_id: str) -> str:
        """Follow ``merged_into`` from a retired id to the id that survives it now."""
        with self.engine.connect() as conn:
            seen = set()
            while golden_id not in seen:
                seen.add(golden_id)
                nxt = conn.execute(sa.select(golden_records.c.merged_into)
                                   .where(golden_records.c.golden_id == golden_id)).scalar()
                if not nxt:
                    return golden_id
                golden_id = nxt
        return golden_id

    # -- events and overrides ----------------------------------------------------------------------
    def add_event(self, conn: sa.Connection, run_id: int, kind: str, survivor: str | None,
                  retired: str | None, detail: dict) -> int:
        return conn.execute(events.insert().values(
            run_id=run_id, kind=kind, survivor_id=survivor, retired_id=retired,
            detail=json.dumps(detail, sort_keys=True, default=str), created_at=now(),
        ).returning(events.c.id)).scalar_one()

    def last_merge_of(self, conn: sa.Connection, retired_id: str):
        q = (sa.select(events).where(events.c.kind == "merge", events.c.retired_id == retired_id,
                                     events.c.undone_by.is_(None)).order_by(events.c.id.desc()).limit(1))
        return conn.execute(q).mappings().first()

    def mark_undone(self, conn: sa.Connection, event_id: int, by: int) -> None:
        conn.execute(events.update().where(events.c.id == event_id).values(undone_by=by))

    def events(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(events).order_by(events.c.id), conn)

    def overrides_for(self, conn: sa.Connection, golden_ids: Iterable[str]) -> pd.DataFrame:
        cols = [overrides.c.golden_id, overrides.c.column, overrides.c.value, overrides.c.set_by]
        return _frame(conn, lambda c: sa.select(*cols).where(overrides.c.golden_id.in_(c)), golden_ids,
                      ["cluster_id", "column", "value", "set_by"])

    def set_override(self, conn: sa.Connection, golden_id: str, column: str, value: str, set_by: str) -> None:
        self.remove_override(conn, golden_id, column)
        conn.execute(overrides.insert().values(golden_id=golden_id, column=column, value=value, set_by=set_by,
                                               set_at=now()))

    def remove_override(self, conn: sa.Connection, golden_id: str, column: str) -> None:
        conn.execute(overrides.delete().where(overrides.c.golden_id == golden_id, overrides.c.column == column))

    def move_overrides(self, conn: sa.Connection, from_id: str, to_id: str) -> None:
        """On a merge, the retired record's steward values go to the survivor (the survivor's own win)."""
        taken = set(conn.execute(sa.select(overrides.c.column).where(overrides.c.golden_id == to_id)).scalars())
        conn.execute(overrides.delete().where(overrides.c.golden_id == from_id, overrides.c.column.in_(taken)))
        conn.execute(overrides.update().where(overrides.c.golden_id == from_id).values(golden_id=to_id))

    def table(self, name: str) -> pd.DataFrame:
        """A whole table as a frame (tests, debugging, reports)."""
        with self.engine.connect() as conn:
            return pd.read_sql(sa.text(f'select * from "{name}"'), conn)


def masked_url(url: str) -> str:
    """A database URL fit for a message: its password replaced by ``***``.

    Examples:
        >>> masked_url("postgresql://cdq:s3cret@db/golden")
        'postgresql://cdq:***@db/golden'
        >>> masked_url("postgresq://cdq:s3cret@db/golden")
        'postgresq://cdq:***@db/golden'
    """
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        import re

        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", str(url))


def _db_problem(error: sa.exc.DBAPIError) -> str:
    """The database's own message, first line only (a driver may append the failing statement)."""
    return str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
