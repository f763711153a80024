"""Pick the register address for each record among the addresses under its (postcode, number).

A house number can have several register addresses (12, 12A, 12-1, 12-2). The typed letter and addition
choose one, in this order:

1. exactly, ignoring case, where a lone letter and a lone one-letter addition are the same thing ("105-H"
   typed as the register prints it is the addition H; "12b" is the letter B);
2. by :func:`cdq.address.keys.suffix_key` ("12 II" is "12-2");
3. by a notation rule (``reference_data/address_notations.yaml``: "105 hs" is 105-H, "1 hoog" is 1, "1 links"
   is 1L), used only where the register holds that addition.

A typed letter/addition the register does not hold at the number is ``addition_not_found`` (never a BAG id);
a number that does not exist under the postcode is ``not_found``: it is never "completed" to a neighbour. All
joins are on integer codes: (postcode, number) packed in one int, letter/addition factorised.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from cdq.address.keys import suffix_key
from cdq.config import load_model
from cdq.resources import resource

#: How a record met the register.
KINDS = ("exact", "suffix", "notation", "single", "addition_not_found", "ambiguous", "not_found")


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str
    to: str


class Notations(BaseModel):
    """The authoring form of ``address_notations.yaml``."""

    model_config = ConfigDict(extra="forbid")
    rules: list[_Rule]


@lru_cache(maxsize=1)
def _rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    table = load_model(resource("reference_data", "address_notations.yaml"), Notations)
    return tuple((re.compile(r.pattern), r.to) for r in table.rules)


def notation_key(letter: str | None, addition: str | None) -> str:
    """The register form of a typed notation, or "" when no rule applies.

    Examples:
        >>> notation_key(None, "hs"), notation_key(None, "1 hoog"), notation_key("I", None), notation_key(None, "1e")
        ('H', '1', '1', '1')
        >>> notation_key(None, "1 links"), notation_key(None, "bov")
        ('1L', '')
    """
    squashed = re.sub(r"[^0-9A-Z]", "", f"{letter or ''}{addition or ''}".upper())
    for pattern, register in _rules():
        if pattern.match(squashed):
            return pattern.sub(register, squashed)
    return ""


def exact_key(letter: str | None, addition: str | None) -> str:
    """Letter and addition compared ignoring case; a lone letter equals a lone one-letter addition.

    Examples:
        >>> exact_key("H", None) == exact_key(None, "h"), exact_key("A", "2") == exact_key(None, "A2")
        (True, False)
    """
    letter, addition = (letter or "").upper(), (addition or "").upper()
    if bool(letter) != bool(addition) and len(letter + addition) == 1 and (letter + addition).isalpha():
        return "\x1f" + letter + addition
    return letter + "\x1f" + addition


def _codes(rec: pd.DataFrame, cand: pd.DataFrame) -> None:
    """Add ``key`` (postcode*100000+number), ``exact``, ``skey`` (suffix) and ``nkey`` (notation) codes."""
    both = pd.concat([rec[["letter", "addition"]], cand[["letter", "addition"]]], ignore_index=True)
    joined = pd.Series(both["letter"].fillna("").astype(str).to_numpy() + "\x1e"
                       + both["addition"].fillna("").astype(str).to_numpy(), dtype=object)
    raw, uniques = pd.factorize(joined)
    pairs = [u.split("\x1e") for u in uniques]
    exact = pd.factorize(pd.Series([exact_key(*p) for p in pairs], dtype=object))[0][raw]
    suffix = pd.Series([suffix_key(*p) for p in pairs], dtype=object)
    skey_codes, skey_uniques = pd.factorize(suffix)
    notation = [notation_key(*p) for p in pairs]
    # the notation key is compared with the register's suffix key, so both share one code table
    table = {k: i for i, k in enumerate(skey_uniques)}
    nkey = np.array([table.get(n, -1 - i) if n else -1 - i for i, n in enumerate(notation)], dtype=np.int64)
    empty = np.flatnonzero(np.asarray(skey_uniques, dtype=object) == "")
    skey = skey_codes[raw]
    for frame, part in ((rec, slice(0, len(rec))), (cand, slice(len(rec), None))):
        frame["key"] = frame["pc_code"].to_numpy(dtype=np.int64) * 100_000 + frame["number"].to_numpy(dtype=np.int64)
        frame["exact"] = exact[part]
        frame["skey"] = skey[part]
        frame["nkey"] = nkey[raw][part]
        frame["plain"] = np.isin(skey[part], empty)


def _unique_match(rest: pd.DataFrame, cand: pd.DataFrame, on: str, cand_on: str) -> pd.DataFrame:
    merged = rest[["pos", "key", on]].merge(cand[["key", cand_on, "cidx"]].rename(columns={cand_on: on}),
                                            on=["key", on])
    return merged[~merged["pos"].duplicated(keep=False)]


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
    exact = exact[~exact["pos"].duplicated(keep="first")]
    rest = rec[~rec["pos"].isin(exact["pos"])]
    suffix = _unique_match(rest, cand, "skey", "skey")
    rest = rest[~rest["pos"].isin(suffix["pos"])]
    notation = _unique_match(rest[rest["nkey"] >= 0], cand, "nkey", "skey")
    rest = rest[~rest["pos"].isin(notation["pos"])]
    groups = _groups(cand)
    out = pd.concat([exact[["pos", "cidx"]].assign(kind="exact"), suffix[["pos", "cidx"]].assign(kind="suffix"),
                     notation[["pos", "cidx"]].assign(kind="notation"), _by_count(rest, groups)],
                    ignore_index=True)
    variants = rec[["pos", "key"]].merge(groups[["key", "n"]], on="key", how="left").set_index("pos")["n"]
    out["variants"] = variants.reindex(out["pos"]).fillna(0).astype(int).to_numpy()
    return out.set_index("pos")


def _groups(cand: pd.DataFrame) -> pd.DataFrame:
    """Per (postcode, number): variant count, first variant, whether street and city are shared."""
    return cand.groupby("key").agg(n=("cidx", "size"), first=("cidx", "first"), n_street=("street", "nunique"),
                                   n_city=("city", "nunique"), first_plain=("plain", "first")).reset_index()


def _by_count(rest: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Records with no exact, suffix or notation match: decide by what the number has.

    No typed letter/addition and one register address: ``single`` (completed); none typed and several:
    ``ambiguous``; one typed that the register does not hold: ``addition_not_found``.
    """
    merged = rest[["pos", "key", "plain"]].merge(groups, on="key", how="left", suffixes=("", "_cand"))
    n = merged["n"].fillna(0).to_numpy()
    given = ~merged["plain"].to_numpy(dtype=bool)
    kind = np.select([n == 0, given, n == 1], ["not_found", "addition_not_found", "single"], default="ambiguous")
    shared = (merged["n_street"].fillna(0).to_numpy() == 1) & (merged["n_city"].fillna(0).to_numpy() == 1)
    first = merged["first"].fillna(-1).to_numpy().astype(np.int64)
    # street and place may still be filled where every address under the number shares them
    cidx = np.where((kind != "not_found") & ((kind == "single") | shared), first, -1)
    return pd.DataFrame({"pos": merged["pos"].to_numpy(), "cidx": cidx, "kind": kind})
