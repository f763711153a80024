"""``cdq portal links``: one personal portal link per active golden record, written to an owner-only CSV."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.export import write_table
from cdq.store import GoldenStore
from cdq.store.schema import golden_records
from cdq.web.tokens import issue

__all__ = ["write_links"]


def write_links(store: GoldenStore, out: str | Path, *, base_url: str, days: int = 30) -> int:
    """Issue a token per active golden record; write ``golden_id, link, expires`` (the printouts may print it)."""
    with store.engine.connect() as conn:
        ids = list(conn.execute(sa.select(golden_records.c.golden_id).where(golden_records.c.status == "active")
                                .order_by(golden_records.c.golden_id)).scalars())
    expires = (dt.date.today() + dt.timedelta(days=days)).isoformat()
    base = base_url.rstrip("/")
    rows = [{"golden_id": g, "link": f"{base}/mijn-gegevens/?t={issue(store, g, days=days)}", "expires": expires}
            for g in ids]
    path = write_table(pd.DataFrame(rows, columns=["golden_id", "link", "expires"]), out)
    os.chmod(path, 0o600)
    return len(rows)
