"""Local state of a remote CRM target: cross-reference, load ledger, change log, rejections, intents.

A remote CRM has no transaction we can join and (BottleCRM) no external-id field, so cdq keeps, in a
SQL database of its own (any SQLAlchemy URL; the golden store's database is fine: tables are prefixed
``cdq_crm_``), per CRM (its URL without credentials):

- ``cdq_crm_xref``: golden id → the CRM's own record id (``status`` active / merged);
- ``cdq_crm_intent``: a create about to be sent, so a load killed between the CRM's answer and the
  xref write re-finds the record (by exact e-mail / name) instead of creating it twice;
- ``cdq_crm_change``: every change made (load run, entity, golden id, CRM id, action, field names;
  no values: they are personal data);
- ``cdq_crm_rejection``: changes the CRM refused, with its reason, retried by the next load;
- ``cdq_crm_ledger``: one row per load with counts and the golden store change sequence loaded.

Every write commits at once, so a killed load leaves a state that the next load continues from.
"""

from __future__ import annotations

import json
import threading
import uuid

import sqlalchemy as sa

from cdq.store.schema import now

md = sa.MetaData()
XREF = sa.Table(
    "cdq_crm_xref", md,
    sa.Column("crm", sa.String(200), primary_key=True), sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("golden_id", sa.String(40), primary_key=True), sa.Column("crm_id", sa.String(80), index=True),
    sa.Column("status", sa.String(12)), sa.Column("merged_into", sa.String(40)),
    sa.Column("updated_at", sa.String(40)),
)
INTENT = sa.Table(
    "cdq_crm_intent", md,
    sa.Column("crm", sa.String(200), primary_key=True), sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("golden_id", sa.String(40), primary_key=True), sa.Column("at", sa.String(40)),
)
CHANGE = sa.Table(
    "cdq_crm_change", md,
    sa.Column("change_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crm", sa.String(200), index=True), sa.Column("run", sa.String(40), index=True),
    sa.Column("at", sa.String(40)), sa.Column("entity", sa.String(60)), sa.Column("golden_id", sa.String(40)),
    sa.Column("crm_id", sa.String(80)), sa.Column("action", sa.String(20)), sa.Column("detail", sa.Text),
)
REJECTION = sa.Table(
    "cdq_crm_rejection", md,
    sa.Column("crm", sa.String(200), primary_key=True), sa.Column("entity", sa.String(60), primary_key=True),
    sa.Column("golden_id", sa.String(40), primary_key=True), sa.Column("action", sa.String(20)),
    sa.Column("reason", sa.Text), sa.Column("at", sa.String(40)), sa.Column("run", sa.String(40)),
)
LEDGER = sa.Table(
    "cdq_crm_ledger", md,
    sa.Column("load_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crm", sa.String(200), index=True), sa.Column("run", sa.String(40)),
    sa.Column("loaded_at", sa.String(40)), sa.Column("store_seq", sa.BigInteger),
    sa.Column("created", sa.Integer), sa.Column("updated", sa.Integer), sa.Column("merged", sa.Integer),
    sa.Column("unchanged", sa.Integer), sa.Column("rejected", sa.Integer),
)


class CrmState:
    """Cross-reference and ledger of one remote CRM in a local SQL database (thread-safe writes)."""

    def __init__(self, url: str, crm: str):
        self.engine = sa.create_engine(url)
        self.crm = crm
        self.run = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        md.create_all(self.engine)

    def new_run(self) -> str:
        self.run = uuid.uuid4().hex[:12]
        return self.run

    def _write(self, *statements) -> None:
        with self._lock, self.engine.begin() as conn:
            for stmt in statements:
                conn.execute(stmt)

    def xref(self, entity: str, keys: list[str] | None = None, status: str = "active") -> dict[str, str]:
        """golden id → CRM id (for ``keys``, or all of this entity)."""
        q = sa.select(XREF.c.golden_id, XREF.c.crm_id).where(
            XREF.c.crm == self.crm, XREF.c.entity == entity, XREF.c.status == status)
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            if keys is None:
                return dict(conn.execute(q).all())
            for i in range(0, len(keys), 900):
                out.update(conn.execute(q.where(XREF.c.golden_id.in_(keys[i:i + 900]))).all())
        return out

    def intents(self, entity: str) -> set[str]:
        q = sa.select(INTENT.c.golden_id).where(INTENT.c.crm == self.crm, INTENT.c.entity == entity)
        with self.engine.connect() as conn:
            return set(conn.execute(q).scalars())

    def intend(self, entity: str, keys: list[str]) -> None:
        """Record creates about to be sent (one commit for the batch)."""
        if keys:
            have = self.intents(entity)
            rows = [{"crm": self.crm, "entity": entity, "golden_id": k, "at": now()} for k in keys if k not in have]
            if rows:
                self._write(INTENT.insert().values(rows))

    def link(self, entity: str, golden_id: str, crm_id: str, action: str, detail=None) -> None:
        """Store the CRM id of a golden record, log the change and clear its intent/rejection."""
        key = (XREF.c.crm == self.crm) & (XREF.c.entity == entity) & (XREF.c.golden_id == golden_id)
        self._write(
            XREF.delete().where(key),
            XREF.insert().values(crm=self.crm, entity=entity, golden_id=golden_id, crm_id=crm_id,
                                 status="active", updated_at=now()),
            *self._clear(entity, golden_id), self._change(entity, golden_id, crm_id, action, detail))

    def link_many(self, entity: str, pairs: list[tuple[str, str]], action: str) -> None:
        """:meth:`link` for many (golden id, CRM id) pairs in one commit."""
        if not pairs:
            return
        keys = [k for k, _ in pairs]
        where = (XREF.c.crm == self.crm) & (XREF.c.entity == entity)
        self._write(
            XREF.delete().where(where & XREF.c.golden_id.in_(keys)),
            XREF.insert().values([{"crm": self.crm, "entity": entity, "golden_id": k, "crm_id": c,
                                   "status": "active", "updated_at": now()} for k, c in pairs]),
            *[t.delete().where((t.c.crm == self.crm) & (t.c.entity == entity) & t.c.golden_id.in_(keys))
              for t in (INTENT, REJECTION)],
            CHANGE.insert().values([{"crm": self.crm, "run": self.run, "at": now(), "entity": entity,
                                     "golden_id": k, "crm_id": c, "action": action} for k, c in pairs]))

    def retire(self, entity: str, golden_id: str, survivor: str, crm_id: str | None, action: str) -> None:
        """Mark a merged-away golden record's CRM record as gone (merged into ``survivor``)."""
        key = (XREF.c.crm == self.crm) & (XREF.c.entity == entity) & (XREF.c.golden_id == golden_id)
        self._write(XREF.update().where(key).values(status="merged", merged_into=survivor, updated_at=now()),
                    *self._clear(entity, golden_id),
                    self._change(entity, golden_id, crm_id, action, {"into": survivor}))

    def changed(self, entity: str, golden_id: str, crm_id: str | None, action: str, detail=None) -> None:
        self._write(*self._clear(entity, golden_id), self._change(entity, golden_id, crm_id, action, detail))

    def reject(self, entity: str, golden_id: str, action: str, reason: str) -> None:
        key = (REJECTION.c.crm == self.crm) & (REJECTION.c.entity == entity) & (REJECTION.c.golden_id == golden_id)
        self._write(REJECTION.delete().where(key), *self._clear(entity, golden_id)[:1],
                    REJECTION.insert().values(crm=self.crm, entity=entity, golden_id=golden_id, action=action,
                                              reason=reason, at=now(), run=self.run),
                    self._change(entity, golden_id, None, "rejected", {"action": action, "reason": reason}))

    def forget(self, entity: str, golden_id: str, crm_id: str | None) -> None:
        """After an erasure: drop the cross-reference, intents and rejections (a rejection's reason may quote
        the CRM's words about the record's values) and log the deletion, without values."""
        mine = [(t, (t.c.crm == self.crm) & (t.c.entity == entity) & (t.c.golden_id == golden_id))
                for t in (XREF, INTENT, REJECTION)]
        rejected = (CHANGE.c.crm == self.crm) & (CHANGE.c.golden_id == golden_id) & (CHANGE.c.action == "rejected")
        self._write(*[t.delete().where(w) for t, w in mine], CHANGE.update().where(rejected).values(detail=None),
                    self._change(entity, golden_id, crm_id, "erase", None))

    def _clear(self, entity: str, golden_id: str) -> list:
        return [t.delete().where((t.c.crm == self.crm) & (t.c.entity == entity) & (t.c.golden_id == golden_id))
                for t in (INTENT, REJECTION)]

    def _change(self, entity, golden_id, crm_id, action, detail):
        return CHANGE.insert().values(crm=self.crm, run=self.run, at=now(), entity=entity, golden_id=golden_id,
                                      crm_id=crm_id, action=action,
                                      detail=json.dumps(detail, sort_keys=True) if detail else None)

    def rejections(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(REJECTION).where(REJECTION.c.crm == self.crm)).mappings().all()
        return [dict(r) for r in rows]

    def ledger(self, result, watermark: int | None) -> None:
        self._write(LEDGER.insert().values(
            crm=self.crm, run=self.run, loaded_at=now(), store_seq=watermark, created=result.created,
            updated=result.updated, merged=result.merged, unchanged=result.unchanged, rejected=result.rejected))

    def watermark(self) -> int:
        q = sa.select(sa.func.max(LEDGER.c.store_seq)).where(LEDGER.c.crm == self.crm)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def table(self, name: str):
        import pandas as pd

        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(md.tables[name]).where(md.tables[name].c.crm == self.crm), conn)
