"""The golden store: source records, cross-references, versioned golden records, events, overrides, runs.

``GoldenStore(url)`` opens (and creates or migrates) a store on any SQLAlchemy URL: ``sqlite:///golden.db``
by default, ``postgresql+psycopg2://…`` supported. Methods that write take an open connection so that
:func:`cdq.golden.merge_batch` can do a whole nightly batch in one transaction (``with store.begin() as
conn``). Golden ids look like ``G0000001`` and are allocated monotonically from ``counters``; a lower
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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.errors import UsageError
from cdq.store.schema import (
    counters,
    events,
    golden_records,
    golden_versions,
    migrate,
    now,
    overrides,
    runs,
    source_records,
    xref,
)

__all__ = ["GoldenStore", "golden_number"]

logger = logging.getLogger(__name__)
CHUNK = 900  # below SQLite's bound-parameter limit


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


def _sqlite_writers_queue(engine: sa.Engine) -> None:
    """SQLite: write transactions take the write lock at BEGIN (``BEGIN IMMEDIATE``) and wait for it.

    A deferred transaction that reads first and writes later cannot wait for the lock when another writer
    holds it: SQLite answers "database is locked" at once to avoid a deadlock. With the service writing
    leads while a nightly merge runs, that would fail the merge; taking the lock at BEGIN lets writers queue
    (``busy_timeout``) instead. Reads stay deferred, so they never queue behind a writer's whole transaction.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        dbapi_conn.execute("PRAGMA busy_timeout = 120000")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("cdq_write") else "BEGIN")


class GoldenStore:
    """A golden store on one database (see module docstring)."""

    def __init__(self, url: str, *, echo: bool = False, must_exist: bool = False):
        """Open (and create or migrate) the store at ``url``.

        ``must_exist``: commands that read a store (``cdq load``, ``cdq unmerge``, printouts) refuse to
        create an empty one, so a typo in a path is an error instead of an empty success.
        """
        try:
            self.engine = sa.create_engine(url, echo=echo)
        except (sa.exc.ArgumentError, ImportError) as e:
            raise UsageError(f"cannot open golden store {url!r}: {e}",
                             hint="use a SQLAlchemy URL like sqlite:///golden.db") from e
        self.url = url
        if self.engine.url.get_backend_name() == "sqlite":
            _sqlite_writers_queue(self.engine)
        if must_exist:
            self._check_exists()
        try:
            migrate(self.engine)
        except sa.exc.DatabaseError as e:
            raise UsageError(f"cannot open golden store {self.engine.url!r}: {e.orig}",
                             hint="is this a cdq golden store (a SQLite file or database URL)?") from e

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
    def begin(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction (commits on success, rolls back on error).

        On SQLite it starts with ``BEGIN IMMEDIATE`` (see :func:`_sqlite_writers_queue`).
        """
        with self.engine.connect().execution_options(cdq_write=True) as conn, conn.begin():
            yield conn

    # -- runs and counters -------------------------------------------------------------------------
    def start_run(self, kind: str) -> int:
        with self.begin() as conn:
            return conn.execute(runs.insert().values(kind=kind, started_at=now(), status="running")
                                .returning(runs.c.run_id)).scalar_one()

    def finish_run(self, run_id: int, status: str = "ok", counts: dict | None = None) -> None:
        with self.begin() as conn:
            conn.execute(runs.update().where(runs.c.run_id == run_id).values(
                finished_at=now(), status=status, counts=json.dumps(counts or {}, sort_keys=True)))

    def discard_run(self, run_id: int) -> None:
        """Forget a run that stopped before it wrote anything (its batch was rolled back)."""
        with self.begin() as conn:
            conn.execute(runs.delete().where(runs.c.run_id == run_id))

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
        if rows:
            conn.execute(source_records.insert(), rows)

    def update_sources(self, conn: sa.Connection, rows: list[dict]) -> None:
        """Rows with ``b_id, content_hash, payload, last_run, deleted_run``."""
        if rows:
            conn.execute(source_records.update().where(source_records.c.id == sa.bindparam("b_id")), rows)

    def mark_deleted(self, conn: sa.Connection, ids: list[int], run_id: int) -> None:
        for chunk in chunks(ids):
            conn.execute(source_records.update().where(source_records.c.id.in_(chunk)).values(deleted_run=run_id))

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
        new = [r for r in rows if r["golden_id"] not in existing]
        old = [{**{f"b_{k}": v for k, v in r.items()}} for r in rows if r["golden_id"] in existing]
        if new:
            conn.execute(golden_records.insert(), [{**r, "created_run": run_id, "updated_run": run_id} for r in new])
        if old:
            values = {c: sa.bindparam(f"b_{c}") for c in rows[0] if c != "golden_id"}
            conn.execute(golden_records.update().where(golden_records.c.golden_id == sa.bindparam("b_golden_id"))
                         .values(**values, updated_run=run_id), old)
        if rows:
            keep = ("golden_id", "version", "status", "merged_into", "data", "lineage")
            conn.execute(golden_versions.insert(), [{**{k: r[k] for k in keep}, "run_id": run_id} for r in rows])

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
