"""The golden records of a store as one file (``cdq export``), optionally pseudonymised."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cdq.export import write_table
from cdq.golden import active_golden
from cdq.privacy.pseudonym import pseudonym_key, pseudonymise
from cdq.store import GoldenStore

__all__ = ["export_golden"]


def export_golden(store_url: str, out: str | Path, *, pseudonymise: bool = False) -> tuple[Path, int]:
    """Write the active golden records to ``out``; with ``pseudonymise`` through :func:`pseudonymise`."""
    key = pseudonym_key() if pseudonymise else None  # before any work: no key, no export
    golden = active_golden(GoldenStore(store_url, must_exist=True))
    if key is not None:
        golden = _pseudonymised(golden, key)
    path = write_table(golden, out)
    os.chmod(path, 0o600)
    return path, len(golden)


def _pseudonymised(golden: pd.DataFrame, key: bytes) -> pd.DataFrame:
    import hashlib
    import hmac

    # the golden id links the export back to the store: a vendor gets a keyed stand-in for it
    out = pseudonymise(golden, key)
    out["golden_id"] = out["golden_id"].map(
        lambda g: "P" + hmac.new(key, str(g).encode(), hashlib.sha256).hexdigest()[:12])
    # a BAG id names the real address even with the house number replaced
    return out.drop(columns=[c for c in ("merged_into", "bag_address_id") if c in out.columns])
