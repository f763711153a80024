"""CRM load: a delta upsert of golden records into a CRM, in one transaction, with merge instructions.

:class:`CrmTarget` is the small adapter base class: subclasses implement ``read``, ``create``, ``update``,
``merge`` and ``report`` (the load ledger); the ``@final`` :meth:`CrmTarget.load` plans the changes
(created / updated / merged / unchanged by comparing with what the CRM holds), and applies them inside
``transaction()`` unless ``dry_run``. :class:`SqlCrmTarget` writes SQL tables (``contacts`` and
``accounts`` by default; ``rules/crm_mapping.yaml`` fits an in-house schema). :func:`load_from_store`
loads what changed in a golden store since the CRM's last load (its ledger keeps the store's change
sequence, written in the same transaction, so a killed load is simply re-run).

Examples:
    >>> LoadResult(2, 1, 0, 5).line()
    'loaded: 2 created, 1 updated, 0 merged, 5 unchanged'
"""

from __future__ import annotations

import pandas as pd

from cdq.crm.base import CrmTarget, LoadPlan, LoadResult
from cdq.crm.mapping import CrmMapping, load_mapping
from cdq.crm.sql import SqlCrmTarget
from cdq.log import Progress

__all__ = ["CrmTarget", "LoadResult", "LoadPlan", "SqlCrmTarget", "load_from_store", "load_mapping", "CrmMapping"]


def load_from_store(store, crm: CrmTarget, *, dry_run: bool = False, full: bool = False,
                    progress: Progress | None = None) -> tuple[LoadResult, LoadPlan]:
    """Load the golden records changed since the CRM's last load (all of them with ``full``); ``progress``: an
    optional ``(done, total)`` callback over the records loaded."""
    from cdq.golden import golden_frame
    from cdq.organisations import is_organisation_id

    since = crm.watermark()
    rows = store.changes_since(since, full=full)
    pending = set(crm.pending())
    retry = [] if full else sorted({p for p in pending if not is_organisation_id(p)} - set(rows["golden_id"].astype(str)))
    if retry:  # records the CRM refused last time go again, whatever their change sequence
        with store.engine.connect() as conn:
            rows = pd.concat([rows, store.golden(conn, retry)[list(rows.columns)]], ignore_index=True)
    watermark = int(rows["seq"].max()) if len(rows) else since
    changes = golden_frame(rows.drop(columns=["seq"])) if len(rows) else pd.DataFrame(
        columns=["golden_id", "status", "merged_into"])
    if any(e.party_type == "organisation_group" for e in crm.mapping.entities.values()):
        organisations = _organisation_changes(store, since, full, pending)
        watermark = max([watermark, *organisations.pop("seq").dropna().astype(int)])
        changes = pd.concat([changes, organisations], ignore_index=True) if len(organisations) else changes
    return crm.load(changes, dry_run=dry_run, watermark=max(watermark, since), progress=progress)


def _organisation_changes(store, since: int, full: bool, pending: set[str]) -> pd.DataFrame:
    """Golden organisations changed since ``since`` (and those the CRM refused last time) as change rows:
    ``golden_id`` = the organisation id, ``party_type`` = ``organisation_group``."""
    from cdq.organisations import is_organisation_id, organisation_frame

    rows = organisation_frame(store, since=since, full=full)
    retry = sorted({p for p in pending if is_organisation_id(p)} - set(rows["organisation_id"]))
    if retry and not full:
        rows = pd.concat([rows, organisation_frame(store, ids=retry)], ignore_index=True)
    return rows.rename(columns={"organisation_id": "golden_id"}).assign(party_type="organisation_group")

