"""How golden values are stored: the payload columns kept per source record, and the deterministic JSON and
digest of a golden row (so an unchanged record hashes the same).

Shared by :mod:`cdq.golden` (persons and locations) and :mod:`cdq.organisations` (the organisation above its
locations), which is why it sits below both.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from cdq.columns import CANONICAL, NAME_DERIVED
from cdq.survivorship import Rules

__all__ = ["PAYLOAD_COLUMNS", "golden_rows", "digest", "versioned_rows"]

#: Stored per source record: the canonical values and the name parts normalize derives (partner name, name
#: use, letter lines), so a golden record built later from stored records keeps them.
PAYLOAD_COLUMNS = [c for c in CANONICAL + NAME_DERIVED if c != "record_id"]


def golden_rows(golden: pd.DataFrame, lineage: pd.DataFrame, rules: Rules,
                organisation: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """golden id → (values JSON, lineage JSON), deterministic so unchanged records hash the same.

    ``organisation``: golden id → its golden organisation (``organisation_id`` among the values of a location
    or contact of one; left out for everyone else, so their values hash as before).
    """
    organisation = organisation or {}
    lin = {gid: sorted(map(list, g[["column", "value", "record_id", "rule"]].itertuples(index=False, name=None)))
           for gid, g in lineage.groupby("cluster_id")} if len(lineage) else {}
    for gid, oid in organisation.items():
        lin.setdefault(gid, []).append(["organisation_id", oid, "linkage", "organisation"])
    out = {}
    for row in golden.itertuples(index=False):
        values = {c: getattr(row, c) for c in rules.outputs}
        if row.cluster_id in organisation:
            values["organisation_id"] = organisation[row.cluster_id]
        out[row.cluster_id] = (json.dumps(values, sort_keys=True, ensure_ascii=False),
                               json.dumps(lin.get(row.cluster_id, []), ensure_ascii=False))
    return out


def digest(*parts) -> str:
    """A stable hash of the parts (None and '' alike), to tell a changed row from an unchanged one."""
    return hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def versioned_rows(ids, existing: pd.DataFrame, retired: dict[str, str], built: dict[str, tuple[str, str]],
                   key: str) -> list[dict]:
    """The new versions to write for ``ids`` (golden records or organisations), unchanged ones left out.

    ``existing``: the stored rows indexed by id; ``retired``: id -> survivor; ``built``: id -> (values JSON,
    lineage JSON) of the ids that are active now. An id neither built nor retired but stored is ``deleted`` (its
    last values kept); a retired one keeps its last values and points to its survivor.
    """
    rows = []
    for ident in sorted(ids):
        old = existing.loc[ident] if ident in existing.index else None
        if ident in retired:
            status, merged_into, (data, lin) = "retired", retired[ident], (old["data"], old["lineage"]) \
                if old is not None else ("{}", "[]")
        elif ident in built:
            status, merged_into, (data, lin) = "active", None, built[ident]
        elif old is not None:
            status, merged_into, data, lin = "deleted", None, old["data"], old["lineage"]
        else:
            continue
        hashed = digest(status, merged_into, data, lin)
        if old is not None and old["data_hash"] == hashed:
            continue
        version = 1 if old is None else int(old["version"]) + 1
        rows.append({key: ident, "version": version, "status": status, "merged_into": merged_into,
                     "data": data, "lineage": lin, "data_hash": hashed})
    return rows
