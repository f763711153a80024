"""What changed tonight: the golden records a run created, updated, merged or deleted, and which columns.

Read from the store's version history (``golden_versions``): every golden row the run wrote is compared
with its previous version. Column names only, never values (the report holds no personal data).

Examples:
    >>> from cdq.store import GoldenStore
    >>> run_changes(GoldenStore("sqlite://"), 1).columns.tolist()
    ['golden_id', 'change', 'columns']
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

COLUMNS = ["golden_id", "change", "columns"]


def _diff(old: str | None, new: str | None) -> str:
    before, after = json.loads(old or "{}"), json.loads(new or "{}")
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return ", ".join(keys)


def run_changes(store, run_id: int) -> pd.DataFrame:
    """One row per golden record the run wrote: ``golden_id, change, columns`` (the columns that changed)."""
    from cdq.store.schema import golden_versions as gv

    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(gv.c.golden_id, gv.c.version, gv.c.status, gv.c.merged_into, gv.c.data)
                            .where(gv.c.run_id == run_id).order_by(gv.c.golden_id)).all()
        previous = {(g, v): d for g, v, d in conn.execute(
            sa.select(gv.c.golden_id, gv.c.version, gv.c.data)
            .where(gv.c.golden_id.in_([r[0] for r in rows] or [""]))).all()}
    out = []
    for golden_id, version, status, merged_into, data in rows:
        old = previous.get((golden_id, version - 1))
        if status == "retired":
            change, cols = f"merged into {merged_into}", ""
        elif status == "deleted":
            change, cols = "deleted at the source", ""
        elif version == 1:
            change, cols = "created", ""
        else:
            change, cols = "updated", _diff(old, data)
        out.append({"golden_id": golden_id, "change": change, "columns": cols})
    return pd.DataFrame(out, columns=COLUMNS)
