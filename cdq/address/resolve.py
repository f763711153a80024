"""Pick the register address for each record among the addresses under its (postcode, number).

A house number can have several register addresses (12, 12A, 12-1, 12-2). The typed letter and addition
choose one: first exactly, then by :func:`cdq.address.keys.suffix_key` ("12 II" is "12-2", "12-B" is "12B").
A number that does not exist under the postcode is ``not_found``: it is never "completed" to a neighbour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.address.keys import per_distinct, suffix_key

#: How a record met the register.
KINDS = ("exact", "suffix", "single", "addition_unknown", "ambiguous", "not_found")


def add_suffix_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Add ``letter_s``/``addition_s`` ('' for none) and ``skey``, computed once per distinct pair."""
    out = frame.copy()
    out["letter_s"] = out["letter"].fillna("").astype(str)
    out["addition_s"] = out["addition"].fillna("").astype(str)
    combined = pd.Series(out["letter_s"].to_numpy() + "\x1f" + out["addition_s"].to_numpy(), dtype=object)
    out["skey"] = per_distinct(combined, lambda v: suffix_key(*v.split("\x1f"))) if len(out) else []
    return out


def resolve(records: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Match records to candidates.

    Args:
        records: ``pos, pc_code, number, letter, addition`` (one row per record).
        candidates: register rows with ``pc_code, number, letter, addition, street, city``.

    Returns:
        One row per record position with ``cidx`` (row of ``candidates`` or -1), ``kind`` (:data:`KINDS`)
        and ``variants`` (register addresses under the number).
    """
    rec = add_suffix_keys(records)
    cand = add_suffix_keys(candidates.reset_index(drop=True))
    cand["cidx"] = np.arange(len(cand))
    key = ["pc_code", "number"]
    exact = rec.merge(cand[key + ["letter_s", "addition_s", "cidx"]], on=key + ["letter_s", "addition_s"])
    exact["kind"] = "exact"
    rest = rec[~rec["pos"].isin(exact["pos"])]
    suffix = rest.merge(cand[key + ["skey", "cidx"]], on=key + ["skey"])
    suffix = suffix[~suffix["pos"].duplicated(keep=False)].assign(kind="suffix")
    rest = rest[~rest["pos"].isin(suffix["pos"])]
    other = _by_count(rest, cand)
    out = pd.concat([exact[["pos", "cidx", "kind"]], suffix[["pos", "cidx", "kind"]], other], ignore_index=True)
    counts = cand.groupby(key).size().rename("variants").reset_index()
    out = out.merge(rec[["pos"] + key], on="pos").merge(counts, on=key, how="left")
    out["variants"] = out["variants"].fillna(0).astype(int)
    return out[["pos", "cidx", "kind", "variants"]].set_index("pos")


def _by_count(rest: pd.DataFrame, cand: pd.DataFrame) -> pd.DataFrame:
    """Records with no exact or suffix match: decide by how many addresses the number has."""
    key = ["pc_code", "number"]
    groups = cand.groupby(key).agg(n=("cidx", "size"), first=("cidx", "first"), n_street=("street", "nunique"),
                                   n_city=("city", "nunique"), first_skey=("skey", "first")).reset_index()
    merged = rest.merge(groups, on=key, how="left")
    n = merged["n"].fillna(0).to_numpy()
    given = merged["skey"].to_numpy() != ""
    single = n == 1
    plain_single = single & (merged["first_skey"].fillna("x").to_numpy() == "")
    kind = np.select(
        [n == 0, single & ~given, plain_single & given],
        ["not_found", "single", "addition_unknown"], default="ambiguous")
    shared = (merged["n_street"].fillna(0).to_numpy() == 1) & (merged["n_city"].fillna(0).to_numpy() == 1)
    first = merged["first"].fillna(-1).to_numpy().astype(np.int64)
    cidx = np.where((kind != "not_found") & ((kind != "ambiguous") | shared), first, -1)
    return pd.DataFrame({"pos": merged["pos"].to_numpy(), "cidx": cidx, "kind": kind})
