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


def export_golden(store_url: str, out: str | Path, *, pseudonymise: bool = False,
                  organisations: bool = False) -> tuple[Path, int]:
    """Write the active golden records to ``out``; with ``pseudonymise`` through :func:`pseudonymise`.

    ``organisations``: the active golden organisations instead, one row each with its values and the golden
    ids of its ``locations`` and ``contacts`` (the golden records' own rows name it in ``organisation_id``).
    """
    key = pseudonym_key() if pseudonymise else None  # before any work: no key, no export
    store = GoldenStore(store_url, must_exist=True)
    if organisations:
        from cdq.organisations import organisation_frame

        golden = organisation_frame(store)
        golden = golden[golden["status"] == "active"].drop(columns=["seq"]).reset_index(drop=True)
        if key is not None:
            golden = _keyed_ids(golden, key, ["organisation_id", "locations", "contacts"])
    else:
        golden = active_golden(store)
        if key is not None:
            golden = _pseudonymised(golden, key)
    path = write_table(golden, out)
    os.chmod(path, 0o600)
    return path, len(golden)


def _keyed(key: bytes, value: str) -> str:
    import hashlib
    import hmac

    return "P" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:12]


def _keyed_ids(frame: pd.DataFrame, key: bytes, columns: list[str]) -> pd.DataFrame:
    """Ids (';'-joined lists too) replaced by keyed stand-ins: they would link the export back to the store."""
    out = frame.copy()
    for column in [c for c in columns if c in out.columns]:
        out[column] = out[column].map(
            lambda v: ";".join(_keyed(key, x) for x in str(v).split(";")) if isinstance(v, str) and v else v)
    return out


def _pseudonymised(golden: pd.DataFrame, key: bytes) -> pd.DataFrame:
    # the golden id links the export back to the store: a vendor gets a keyed stand-in for it
    out = _keyed_ids(pseudonymise(golden, key), key, ["golden_id", "organisation_id"])
    # a BAG id names the real address even with the house number replaced
    return out.drop(columns=[c for c in ("merged_into", "bag_address_id") if c in out.columns])
