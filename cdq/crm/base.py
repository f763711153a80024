"""The CRM adapter contract: :class:`CrmTarget` (read, create, update, merge, report; ``@final`` load) and
the :class:`LoadPlan` / :class:`LoadResult` it produces. Every target (SQL, BottleCRM, the SaaS CRMs) builds
on this module; :mod:`cdq.crm` re-exports it.

Examples:
    >>> LoadResult(2, 1, 0, 5).line()
    'loaded: 2 created, 1 updated, 0 merged, 5 unchanged'
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, final

import pandas as pd

from cdq.crm.mapping import CrmMapping, Entity
from cdq.log import Progress, ProgressLog

__all__ = ["CrmTarget", "LoadPlan", "LoadResult"]

logger = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """Counts of one load; :meth:`line` is the machine-readable last line every load prints."""

    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0
    dry_run: bool = False
    rejected: int = 0
    #: CRM records deleted because their golden record was erased (AVG art. 17) or purged by retention.
    erased: int = 0

    def line(self) -> str:
        """The public last line of every load; outside scripts parse it, so its shape never changes."""
        return f"loaded: {self.created} created, {self.updated} updated, {self.merged} merged, {self.unchanged} unchanged"

    def rejected_line(self) -> str | None:
        """A line printed before :meth:`line` when the CRM refused changes (kept for the next load)."""
        if not self.rejected:
            return None
        return f"rejected: {self.rejected} change(s) refused by the CRM, kept and retried on the next load"

    def erased_line(self) -> str | None:
        """A line printed before :meth:`line` when erased golden records were deleted from the CRM."""
        if not self.erased:
            return None
        return f"erased: {self.erased} record(s) of erased data subjects deleted from the CRM"

    def would(self) -> str:
        return f"Would create {self.created} / update {self.updated} / merge {self.merged} records"


@dataclass
class LoadPlan:
    """Per entity: rows to create and update (CRM column names), merges (retired key, survivor key)."""

    creates: dict[str, list[dict]] = field(default_factory=dict)
    updates: dict[str, list[dict]] = field(default_factory=dict)
    merges: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    #: Per entity: CRM keys of erased golden records that the CRM still holds (deleted by the load).
    erasures: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0
    #: Changes a remote CRM refused: ``{"entity", "key", "action", "reason"}`` (kept for the next load).
    rejected: list[dict] = field(default_factory=list)

    def result(self, dry_run: bool = False) -> LoadResult:
        count = lambda d: sum(len(v) for v in d.values())  # noqa: E731
        return LoadResult(count(self.creates), count(self.updates), count(self.merges), self.unchanged, dry_run,
                          len(self.rejected), count(self.erasures))

    def reject(self, entity: str, key: str, action: str, reason: str) -> None:
        """Take a change the CRM refused out of the plan and record why (remote targets call this)."""
        actions: dict[str, dict[str, list[Any]]] = {"create": self.creates, "update": self.updates,
                                                    "merge": self.merges, "erase": self.erasures}
        group = actions[action].get(entity, [])
        group[:] = [c for c in group if _plan_key(c) != key]
        self.rejected.append({"entity": entity, "key": key, "action": action, "reason": reason})


def _plan_key(change) -> str:
    """The CRM key of one planned change (a row dict, a (retired, survivor) pair or an erased key)."""
    if isinstance(change, tuple):
        return change[0]
    return change if isinstance(change, str) else next(iter(change.values()))


def _text(value) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


class CrmTarget(ABC):
    """A CRM to load golden records into (see module docstring)."""

    mapping: CrmMapping

    @abstractmethod
    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        """Current CRM rows (CRM column names, key included) for the golden ids in ``keys``."""

    @abstractmethod
    def create(self, entity: Entity, rows: list[dict]) -> None:
        """Insert new CRM rows."""

    @abstractmethod
    def update(self, entity: Entity, rows: list[dict]) -> None:
        """Update CRM rows by key."""

    @abstractmethod
    def merge(self, entity: Entity, merges: list[tuple[str, str]]) -> None:
        """Merge each retired CRM record into its survivor (retired key, survivor key)."""

    @abstractmethod
    def report(self, result: LoadResult, plan: LoadPlan, watermark: int | None) -> None:
        """Write the load ledger (inside the transaction)."""

    def erase(self, entity: Entity, keys: list[str]) -> None:
        """Delete the CRM records of erased golden records (a target that cannot delete must say so)."""
        if keys:
            raise NotImplementedError(f"{type(self).__name__} cannot delete records of erased data subjects")

    def watermark(self) -> int:
        """The golden store change sequence already loaded (0: load everything)."""
        return 0

    def pending(self) -> list[str]:
        """Golden ids an earlier load could not apply (rejected by the CRM): loaded again next time."""
        return []

    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        """The CRM column values wanted for one golden row (override to combine or convert fields)."""
        return {crm: _text(row.get(gold)) for crm, gold in entity.columns.items()}

    def transaction(self) -> AbstractContextManager:
        """Context in which a load's writes happen atomically (default: none)."""
        return nullcontext()

    def plan(self, changes: pd.DataFrame) -> LoadPlan:
        """Compare golden rows (``golden_id, status, merged_into`` + values) with the CRM's rows."""
        plan = LoadPlan()
        if changes.empty:
            return plan
        kind = changes.get("party_type", pd.Series(None, index=changes.index))
        kind = kind.where(kind.isin(["organisation", "organisation_group"]), "person")
        for entity in self.mapping.entities.values():
            mine = changes[kind == entity.party_type]
            current = self.read(entity, mine["golden_id"].astype(str).tolist()).set_index(entity.key)
            active = mine[mine["status"] == "active"]
            self._plan_upserts(plan, entity, active, current)
            retired = mine[(mine["status"] == "retired") & mine["merged_into"].notna()]
            self._plan_merges(plan, entity, retired, current)
        self._plan_erasures(plan, changes[changes["status"] == "erased"])
        return plan

    def _plan_erasures(self, plan: LoadPlan, erased: pd.DataFrame) -> None:
        """Erased golden records hold no values (so no party type): look for them in every entity."""
        keys = erased["golden_id"].astype(str).tolist()
        if not keys:
            return
        for entity in self.mapping.entities.values():
            present = set(self.read(entity, keys)[entity.key].astype(str))
            found = [k for k in keys if k in present]
            if found:
                plan.erasures.setdefault(entity.name, []).extend(found)

    def _plan_upserts(self, plan: LoadPlan, entity: Entity, active: pd.DataFrame, current: pd.DataFrame) -> None:
        for row in active.to_dict("records"):
            wanted = self.values(entity, row)
            key = str(row["golden_id"])
            if entity.merged_into:
                wanted[entity.merged_into] = None
            if key not in current.index:
                plan.creates.setdefault(entity.name, []).append({entity.key: key, **wanted})
            elif any(_text(current.at[key, c]) != v for c, v in wanted.items()):
                plan.updates.setdefault(entity.name, []).append({entity.key: key, **wanted})
            else:
                plan.unchanged += 1

    def _plan_merges(self, plan: LoadPlan, entity: Entity, retired: pd.DataFrame, current: pd.DataFrame) -> None:
        for key, survivor in zip(retired["golden_id"].astype(str), retired["merged_into"].astype(str)):
            done = key not in current.index or (
                entity.merged_into is not None and _text(current.at[key, entity.merged_into]) == survivor)
            if done:
                plan.unchanged += 1
            else:
                plan.merges.setdefault(entity.name, []).append((key, survivor))

    @final
    def load(self, changes: pd.DataFrame, dry_run: bool = False, watermark: int | None = None,
             progress: Progress | None = None) -> tuple[LoadResult, LoadPlan]:
        """Plan, then (unless ``dry_run``) create, update, merge and write the ledger in one transaction.

        ``progress``: optional ``(done, total)`` callback over the planned record changes (also logged k/N).
        """
        with self.transaction():
            plan = self.plan(changes)
            result = plan.result(dry_run)
            if dry_run:
                logger.info("CRM dry run: %s", result.would())
                return result, plan
            groups = (plan.creates, plan.updates, plan.merges, plan.erasures)
            tick = ProgressLog(logger, "CRM load: records", sum(len(rows) for g in groups for rows in g.values()),
                               progress=progress)
            done = 0
            for entity in self.mapping.entities.values():
                creates, updates = plan.creates.get(entity.name, []), plan.updates.get(entity.name, [])
                merges, erasures = plan.merges.get(entity.name, []), plan.erasures.get(entity.name, [])
                self.create(entity, creates)
                self.update(entity, updates)
                self.merge(entity, merges)
                self.erase(entity, erasures)
                done += len(creates) + len(updates) + len(merges) + len(erasures)
                tick(done)
            result = plan.result(dry_run)  # without the changes a remote CRM rejected (plan.reject)
            self.report(result, plan, watermark)
        logger.info("CRM load: %s", result.line())
        return result, plan
