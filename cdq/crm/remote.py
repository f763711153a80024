"""Base class for CRMs reached over HTTP, where cdq keeps the cross-reference (:mod:`cdq.crm.state`).

:class:`RemoteCrmTarget` implements the :class:`~cdq.crm.CrmTarget` methods once, in terms of a few
per-CRM primitives: ``fetch`` (records by CRM id), ``find`` (re-find a record by exact e-mail or name
when our cross-reference lacks it), ``send_create``, ``send_update`` and ``send_merge``, plus
``to_columns`` (a CRM record → the columns :meth:`values` produces, so the plan compares like with like).

A remote CRM has no transaction: each change is applied and recorded in the local state at once. A
load killed half-way is re-run: records created before the kill are in the cross-reference (or are
re-found through their create intent), so the rerun updates nothing twice and creates nothing twice.
A change the CRM refuses is taken out of the plan (``plan.reject``) with the CRM's reason, stored, and
tried again by the next load; the rest of the batch goes on.
"""

from __future__ import annotations

import logging
from abc import abstractmethod

import pandas as pd

from cdq.crm.base import CrmTarget, LoadPlan, LoadResult
from cdq.crm.mapping import CrmMapping, Entity
from cdq.crm.state import CrmState

logger = logging.getLogger(__name__)


class Rejected(Exception):
    """The CRM refused one record; ``str(e)`` is its reason."""


class RemoteCrmTarget(CrmTarget):
    """A CRM behind an API; subclasses implement the ``fetch/find/send_*`` primitives."""

    #: the CRM's name in logs and in the state tables
    kind = "remote"

    def __init__(self, name: str, mapping: CrmMapping, state_url: str):
        self.mapping = mapping
        self.state = CrmState(state_url, name)
        self._golden: dict[str, dict] = {}
        self._plan: LoadPlan | None = None

    # -- per-CRM primitives -------------------------------------------------------------------------
    @abstractmethod
    def fetch(self, entity: Entity, crm_ids: list[str]) -> dict[str, dict]:
        """CRM id → record (the CRM's own field names) for the ids that still exist."""

    @abstractmethod
    def find(self, entity: Entity, golden: dict) -> str | None:
        """The CRM id of the record made for this golden row, found by exact e-mail / name, or None."""

    @abstractmethod
    def send_create(self, entity: Entity, key: str, values: dict) -> str:
        """Create one record; return its CRM id (raise :class:`Rejected` with the CRM's reason)."""

    @abstractmethod
    def send_update(self, entity: Entity, crm_id: str, key: str, values: dict) -> None:
        """Update one record (raise :class:`Rejected`)."""

    @abstractmethod
    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        """Merge the retired record into the survivor; return how (e.g. ``merge`` or ``update+delete``)."""

    @abstractmethod
    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        """A fetched CRM record as the columns :meth:`values` produces."""

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        """Delete one record of an erased data subject (raise :class:`Rejected`); an adapter that can't
        delete refuses loudly, so the erasure is reported and retried, never silently skipped."""
        raise Rejected(f"the {self.kind} adapter cannot delete records: delete it in the CRM by hand")

    # -- CrmTarget ----------------------------------------------------------------------------------
    def plan(self, changes: pd.DataFrame) -> LoadPlan:
        self.state.new_run()
        self._golden = {} if changes.empty else {
            str(r["golden_id"]): r for r in changes.astype(object).where(changes.notna(), None).to_dict("records")}
        self._plan = super().plan(changes)
        return self._plan

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        xref = self.state.xref(entity.name, keys)
        lost = sorted((self.state.intents(entity.name) & set(keys)) - set(xref))
        for key, crm_id in zip(lost, self._map(lambda k: self.find(entity, self._golden.get(k, {})), lost)):
            if crm_id:  # created by a load that was killed before it could record the CRM id
                self.state.link(entity.name, key, crm_id, "refound")
                xref[key] = crm_id
        records = self.fetch(entity, sorted(set(xref.values())))
        rows = [{entity.key: key, **self.to_columns(entity, records[cid])}
                for key, cid in xref.items() if cid in records]
        return pd.DataFrame(rows, columns=[entity.key, *self.values(entity, {})])

    def create(self, entity: Entity, rows: list[dict]) -> None:
        self.state.intend(entity.name, [r[entity.key] for r in rows])

        def one(row: dict):
            key = row[entity.key]
            try:
                crm_id = self.send_create(entity, key, _strip_key(row, entity))
            except Rejected as e:
                return key, str(e)
            self.state.link(entity.name, key, crm_id, "create", sorted(k for k, v in row.items() if v))
            return key, None

        self._rejects(entity, "create", self._map(one, list(rows)))

    def update(self, entity: Entity, rows: list[dict]) -> None:
        xref = self.state.xref(entity.name, [r[entity.key] for r in rows])

        def one(row: dict):
            key = row[entity.key]
            try:
                self.send_update(entity, xref[key], key, _strip_key(row, entity))
            except Rejected as e:
                return key, str(e)
            self.state.changed(entity.name, key, xref[key], "update", sorted(_strip_key(row, entity)))
            return key, None

        self._rejects(entity, "update", self._map(one, list(rows)))

    def merge(self, entity: Entity, merges: list[tuple[str, str]]) -> None:
        xref = self.state.xref(entity.name, [k for pair in merges for k in pair])
        outcomes: list[tuple[str, str | None]] = []
        for retired, survivor in merges:  # sequential: merges of one survivor must not race
            try:
                if retired in xref and survivor in xref:
                    how = self.send_merge(entity, xref[survivor], xref[retired])
                    self._reapply(entity, survivor, xref[survivor])
                else:
                    how = "gone"  # nothing of the retired record in the CRM
                self.state.retire(entity.name, retired, survivor, xref.get(retired), how)
                outcomes.append((retired, None))
            except Rejected as e:
                outcomes.append((retired, str(e)))
        self._rejects(entity, "merge", outcomes)

    def erase(self, entity: Entity, keys: list[str]) -> None:
        """Delete the CRM records of erased golden records and forget their CRM ids."""
        xref = self.state.xref(entity.name, keys)

        def one(key: str):
            if key not in xref:
                return key, "the CRM id of this record is unknown: delete it in the CRM by hand"
            try:
                self.send_delete(entity, xref[key])
            except Rejected as e:
                return key, str(e)
            self.state.forget(entity.name, key, xref[key])
            return key, None

        self._rejects(entity, "erase", self._map(one, list(keys)))

    def _reapply(self, entity: Entity, survivor: str, crm_id: str) -> None:
        """After a CRM merge filled the survivor's blanks from the loser, put the golden values back."""
        golden = self._golden.get(survivor)
        if golden is not None and golden.get("status") == "active":
            self.send_update(entity, crm_id, survivor, self.values(entity, golden))

    def report(self, result: LoadResult, plan: LoadPlan, watermark: int | None) -> None:
        self.state.ledger(result, watermark)
        if plan.rejected:
            logger.warning("%s: %d change(s) rejected by the CRM, kept for the next load", self.kind,
                           len(plan.rejected))

    def watermark(self) -> int:
        return self.state.watermark()

    def pending(self) -> list[str]:
        return sorted({r["golden_id"] for r in self.state.rejections()})

    def rejections(self) -> pd.DataFrame:
        """Changes the CRM refused (entity, golden_id, action, reason), retried by the next load."""
        return pd.DataFrame(self.state.rejections(), columns=["entity", "golden_id", "action", "reason", "at"])

    # -- helpers ------------------------------------------------------------------------------------
    def _map(self, fn, items: list) -> list:
        return [fn(i) for i in items]

    def _rejects(self, entity: Entity, action: str, outcomes: list[tuple[str, str | None]]) -> None:
        for key, reason in outcomes:
            if reason is not None:
                self.state.reject(entity.name, key, action, reason)
                if self._plan is not None:
                    self._plan.reject(entity.name, key, action, reason)
        n = sum(1 for _, r in outcomes if r is not None)
        logger.info("%s %s %s: %d done, %d rejected", self.kind, entity.name, action, len(outcomes) - n, n)


def _strip_key(row: dict, entity: Entity) -> dict:
    return {k: v for k, v in row.items() if k not in (entity.key, entity.merged_into)}


class BatchPrimitives:
    """Mixin for batch adapters (HubSpot, Salesforce) that override ``read``/``create``/``update``/``merge``
    wholesale: the per-record primitives of :class:`RemoteCrmTarget` are never called for them.

    List it before :class:`RemoteCrmTarget` in the bases; an adapter overrides the ones it does use.
    """

    def fetch(self, entity, crm_ids):  # pragma: no cover - never called by a batch adapter
        raise NotImplementedError

    def find(self, entity, golden):  # pragma: no cover
        return None

    def send_create(self, entity, key, values):  # pragma: no cover
        raise NotImplementedError

    def send_update(self, entity, crm_id, key, values):  # pragma: no cover
        raise NotImplementedError

    def send_merge(self, entity, survivor_id, retired_id):  # pragma: no cover
        raise NotImplementedError

    def to_columns(self, entity, record):  # pragma: no cover
        raise NotImplementedError
