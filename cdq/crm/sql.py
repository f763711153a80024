"""A SQL database as CRM target: tables per entity, a load ledger and merge instructions beside them.

Test hook: with ``CDQ_CRM_PAUSE_AFTER_ROWS=N`` a load stops after writing N rows inside its transaction,
prints ``cdq-crm-paused`` on stderr and sleeps, so a test can kill it mid-transaction.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

import pandas as pd
import sqlalchemy as sa

from cdq.crm.base import CrmTarget, LoadPlan, LoadResult
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.errors import UsageError
from cdq.store.schema import now

_ledger_md = sa.MetaData()
LEDGER = sa.Table(
    "cdq_load_ledger", _ledger_md,
    sa.Column("load_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("loaded_at", sa.String(40)), sa.Column("store_seq", sa.BigInteger),
    sa.Column("created", sa.Integer), sa.Column("updated", sa.Integer),
    sa.Column("merged", sa.Integer), sa.Column("unchanged", sa.Integer),
)
MERGES = sa.Table(
    "cdq_merge_instructions", _ledger_md,
    sa.Column("load_id", sa.Integer, index=True), sa.Column("entity", sa.String(60)),
    sa.Column("merge_key", sa.String(60)), sa.Column("into_key", sa.String(60)),
)
CHUNK = 500


class SqlCrmTarget(CrmTarget):
    """CRM tables in a SQL database (SQLite file, PostgreSQL, ...)."""

    def __init__(self, url: str | sa.URL, mapping: CrmMapping | None = None):
        self.mapping = mapping or load_mapping()
        try:
            self.engine = sa.create_engine(url)
        except (sa.exc.ArgumentError, ImportError) as e:
            raise UsageError(f"cannot open CRM database {url!r}: {e}", hint="use a SQLAlchemy URL") from e
        self.conn: sa.Connection | None = None
        self._pause_after = int(os.environ.get("CDQ_CRM_PAUSE_AFTER_ROWS", "0") or 0)
        self._written = 0
        try:
            self.tables = self._prepare()
        except sa.exc.DatabaseError as e:
            raise UsageError(f"cannot open CRM database {self.engine.url!r}: {e.orig}",
                             hint="check the --crm URL; it must be a database cdq may create tables in") from e

    def _prepare(self) -> dict[str, sa.Table]:
        md = sa.MetaData()
        tables = {}
        with self.engine.begin() as conn:
            _ledger_md.create_all(conn)
            for entity in self.mapping.entities.values():
                if sa.inspect(conn).has_table(entity.table):
                    if self.mapping.create_tables:
                        _add_missing_columns(conn, entity)
                    tables[entity.name] = sa.Table(entity.table, md, autoload_with=conn)
                elif self.mapping.create_tables:
                    extra = [entity.merged_into] if entity.merged_into else []
                    cols = [sa.Column(entity.key, sa.String(24), primary_key=True)]
                    cols += [sa.Column(c, sa.Text) for c in [*entity.columns, *extra]]
                    tables[entity.name] = sa.Table(entity.table, md, *cols)
                    tables[entity.name].create(conn)
                else:
                    raise UsageError(f"CRM table {entity.table!r} does not exist",
                                     hint="create it, or set create_tables: true in the CRM mapping")
        return tables

    @contextmanager
    def transaction(self):
        with self.engine.begin() as conn:
            self.conn, self._written = conn, 0
            try:
                yield conn
            finally:
                self.conn = None

    @property
    def _tx(self) -> sa.Connection:
        """The connection of the open :meth:`transaction` (the load reads and writes only inside one)."""
        if self.conn is None:
            raise RuntimeError("SqlCrmTarget is used outside its transaction()")
        return self.conn

    def _wrote(self, n: int) -> None:
        self._written += n
        if self._pause_after and self._written >= self._pause_after:
            sys.stderr.write("cdq-crm-paused\n")
            sys.stderr.flush()
            time.sleep(600)

    def _chunk(self) -> int:
        return self._pause_after or CHUNK

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        table = self.tables[entity.name]
        rows: list[sa.Row] = []
        for i in range(0, len(keys), 900):
            rows += self._tx.execute(sa.select(table).where(table.c[entity.key].in_(keys[i:i + 900]))).all()
        return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in table.c])

    def create(self, entity: Entity, rows: list[dict]) -> None:
        for i in range(0, len(rows), self._chunk()):
            self._tx.execute(self.tables[entity.name].insert(), rows[i:i + self._chunk()])
            self._wrote(len(rows[i:i + self._chunk()]))

    def update(self, entity: Entity, rows: list[dict]) -> None:
        if not rows:
            return
        table = self.tables[entity.name]
        stmt = table.update().where(table.c[entity.key] == sa.bindparam("b_key")).values(
            **{c: sa.bindparam(f"b_{c}") for c in rows[0] if c != entity.key})
        params = [{("b_key" if k == entity.key else f"b_{k}"): v for k, v in r.items()} for r in rows]
        for i in range(0, len(params), self._chunk()):
            self._tx.execute(stmt, params[i:i + self._chunk()])
            self._wrote(len(params[i:i + self._chunk()]))

    def merge(self, entity: Entity, merges: list[tuple[str, str]]) -> None:
        table = self.tables[entity.name]
        for retired, survivor in merges:
            where = table.c[entity.key] == retired
            if entity.merged_into:
                self._tx.execute(table.update().where(where).values({entity.merged_into: survivor}))
            else:
                self._tx.execute(table.delete().where(where))
            self._wrote(1)

    def erase(self, entity: Entity, keys: list[str]) -> None:
        """Delete the rows of erased golden records, and the web leads pushed for them (``cdq_leads``)."""
        table = self.tables[entity.name]
        leads = sa.Table("cdq_leads", sa.MetaData(), autoload_with=self.conn) \
            if sa.inspect(self.conn).has_table("cdq_leads") else None
        for i in range(0, len(keys), 900):
            self._tx.execute(table.delete().where(table.c[entity.key].in_(keys[i:i + 900])))
            if leads is not None:
                self._tx.execute(leads.delete().where(leads.c.golden_id.in_(keys[i:i + 900])))
            self._wrote(len(keys[i:i + 900]))

    def report(self, result: LoadResult, plan: LoadPlan, watermark: int | None) -> None:
        load_id = self._tx.execute(LEDGER.insert().values(
            loaded_at=now(), store_seq=watermark, created=result.created, updated=result.updated,
            merged=result.merged, unchanged=result.unchanged).returning(LEDGER.c.load_id)).scalar_one()
        rows = [{"load_id": load_id, "entity": e, "merge_key": r, "into_key": s}
                for e, pairs in plan.merges.items() for r, s in pairs]
        if rows:
            self._tx.execute(MERGES.insert(), rows)

    def watermark(self) -> int:
        """The store change sequence of the last load (0 before the first)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(LEDGER.c.store_seq))).scalar() or 0)

    def table(self, name: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.text(f'select * from "{name}"'), conn)


def _add_missing_columns(conn: sa.Connection, entity: Entity) -> None:
    """A CRM table cdq created earlier gains the columns a newer mapping adds (partner name, name use, ...)."""
    have = {c["name"] for c in sa.inspect(conn).get_columns(entity.table)}
    wanted = [*entity.columns, *([entity.merged_into] if entity.merged_into else [])]
    prep = conn.dialect.identifier_preparer
    for column in [c for c in wanted if c not in have]:
        conn.execute(sa.text(f"ALTER TABLE {prep.quote(entity.table)} ADD COLUMN {prep.quote(column)} TEXT"))
