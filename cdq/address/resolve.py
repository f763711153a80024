"""Pick the register address for each record among the addresses under its (postcode, number).

A house number can have several register addresses (12, 12A, 12-1, 12-2). The typed letter and addition
choose one: first exactly, then by :func:`cdq.address.keys.suffix_key` ("12 II" is "12-2", "12-B" is "12B").
A number that does not exist under the postcode is ``not_found``: it is never "completed" to a neighbour.
All joins are on integer codes: (postcode, number) packed in one int, letter/addition factorised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.address.keys import per_distinct, suffix_key

#: How a record met the register.
KINDS = ("exact", "suffix", "single", "addition_unknown", "ambiguous", "not_found")


def _codes(rec: pd.DataFrame, cand: pd.DataFrame) -> None:
    """Add ``key`` (postcode*100000+number), ``exact`` (letter/addition code) and ``skey`` (suffix code)."""
    both = pd.concat([rec[["letter", "addition"]], cand[["letter", "addition"]]], ignore_index=True)
    joined = pd.Series(both["letter"].fillna("").astype(str).to_numpy() + "\x1f"
                       + both["addition"].fillna("").astype(str).to_numpy(), dtype=object)
    exact, uniques = pd.factorize(joined)
    suffix = per_distinct(pd.Series(uniques, dtype=object), lambda v: suffix_key(*v.split("\x1f")))
    skey_codes, skey_uniques = pd.factorize(pd.Series(suffix, dtype=object))
    empty = np.flatnonzero(np.asarray(skey_uniques, dtype=object) == "")
    skey = skey_codes[exact]
    for frame, part in ((rec, slice(0, len(rec))), (cand, slice(len(rec), None))):
        frame["key"] = frame["pc_code"].to_numpy(dtype=np.int64) * 100_000 + frame["number"].to_numpy(dtype=np.int64)
        frame["exact"] = exact[part]
        frame["skey"] = skey[part]
        frame["plain"] = np.isin(skey[part], empty)


def resolve(records: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """Match records to candidates.

    Args:
        records: ``pos, pc_code, number, letter, addition`` (one row per record).
        candidates: register rows with ``pc_code, number, letter, addition, street, city``.

    Returns:
        One row per record position with ``cidx`` (row of ``candidates`` or -1), ``kind`` (:data:`KINDS`)
        and ``variants`` (register addresses under the number).
    """
    rec = records[["pos", "pc_code", "number", "letter", "addition"]].reset_index(drop=True)
    cand = candidates[["pc_code", "number", "letter", "addition", "street", "city"]].reset_index(drop=True)
    _codes(rec, cand)
    cand["cidx"] = np.arange(len(cand))
    exact = rec[["pos", "key", "exact"]].merge(cand[["key", "exact", "cidx"]], on=["key", "exact"])
    rest = rec[~rec["pos"].isin(exact["pos"])]
    suffix = rest[["pos", "key", "skey"]].merge(cand[["key", "skey", "cidx"]], on=["key", "skey"])
    suffix = suffix[~suffix["pos"].duplicated(keep=False)]
    rest = rest[~rest["pos"].isin(suffix["pos"])]
    groups = _groups(cand)
    out = pd.concat([exact[["pos", "cidx"]].assign(kind="exact"), suffix[["pos", "cidx"]].assign(kind="suffix"),
                     _by_count(rest, groups)], ignore_index=True)
    variants = rec[["pos", "key"]].merge(groups[["key", "n"]], on="key", how="left").set_index("pos")["n"]
    out["variants"] = variants.reindex(out["pos"]).fillna(0).astype(int).to_numpy()
    return out.set_index("pos")


def _groups(cand: pd.DataFrame) -> pd.DataFrame:
    """Per (postcode, number): variant count, first variant, whether street and city are shared."""
    return cand.groupby("key").agg(n=("cidx", "size"), first=("cidx", "first"), n_street=("street", "nunique"),
                                   n_city=("city", "nunique"), first_plain=("plain", "first")).reset_index()


def _by_count(rest: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Records with no exact or suffix match: decide by how many addresses the number has."""
    merged = rest[["pos", "key", "plain"]].merge(groups, on="key", how="left", suffixes=("", "_cand"))
    n = merged["n"].fillna(0).to_numpy()
    given = ~merged["plain"].to_numpy(dtype=bool)
    single = n == 1
    plain_single = single & (merged["first_plain"].to_numpy(dtype=object) == True)  # noqa: E712 - NaN is False
    kind = np.select([n == 0, single & ~given, plain_single & given],
                     ["not_found", "single", "addition_unknown"], default="ambiguous")
    shared = (merged["n_street"].fillna(0).to_numpy() == 1) & (merged["n_city"].fillna(0).to_numpy() == 1)
    first = merged["first"].fillna(-1).to_numpy().astype(np.int64)
    cidx = np.where((kind != "not_found") & ((kind != "ambiguous") | shared), first, -1)
    return pd.DataFrame({"pos": merged["pos"].to_numpy(), "cidx": cidx, "kind": kind})
