"""Derived columns computed once per distinct value, and the factorizations that come with them.

A staging column repeats its values a lot (1M Dutch records: ~9k distinct first names), so every derived
column of :mod:`cdq.linkage.prepare` runs its function on the distinct values and takes the results back by
code. Each derived Series is remembered with its own factorization (:data:`_FACTORIZED`), so a column derived
from it, blocking and the comparisons start from integer codes instead of hashing a million strings again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cdq.linkage.placeholders import placeholder_mask

#: ``pd.factorize`` of the Series of the frame being prepared, by ``id``: ``(series, codes, uniques)``. Derived
#: columns get theirs from their input's (no second hash of a million strings), and the comparison stage
#: starts from them (:func:`_prepare` hands them to ``Columns``).
_FACTORIZED: dict[int, tuple[pd.Series, np.ndarray, np.ndarray]] = {}


def _factorized(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(series.astype("object"))`` (codes -1 = missing), once per Series while it is prepared."""
    hit = _FACTORIZED.get(id(series))
    if hit is not None and hit[0] is series:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    _remember(series, codes, np.asarray(uniques, dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _remember(series: pd.Series, codes: np.ndarray, uniques: np.ndarray) -> pd.Series:
    _FACTORIZED[id(series)] = (series, codes, uniques)
    return series


def _taken_back(codes: np.ndarray, results: np.ndarray) -> pd.Series:
    """The Series of ``results[codes]`` (``results``: one value per distinct input value, then None for
    missing), remembered with its own factorization: the distinct results factorized, taken back by code.
    The distinct inputs are in order of first appearance, so the results' codes are those of factorizing
    the whole column."""
    derived, uniques = pd.factorize(results[:-1], use_na_sentinel=True)
    out = pd.Series(results[codes], dtype="object")
    return _remember(out, np.r_[derived, -1][codes], np.asarray(uniques, dtype=object))


def _distinct(series: pd.Series, fn: Callable) -> pd.Series:
    """Apply ``fn`` once per distinct value; rows take their result by index (no per-row Python call).

    Examples:
        >>> _distinct(pd.Series(["a", None, "a", "b"]), str.upper).tolist()
        ['A', None, 'A', 'B']
    """
    codes, uniques = _factorized(series)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [fn(v) for v in uniques]
    results[-1] = None  # code -1 (missing) picks the last slot
    return _taken_back(codes, results)


def _distinct_vec(series: pd.Series, fn: Callable) -> pd.Series:
    """A vectorised Series -> Series function applied to the distinct values only, taken back by code.

    Examples:
        >>> _distinct_vec(pd.Series(["ab", None, "ab", "cd"]), lambda s: s.str[0]).tolist()
        ['a', None, 'a', 'c']
    """
    codes, uniques = _factorized(series)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = fn(pd.Series(uniques, dtype="object")).astype("object").to_numpy()
    results[-1] = None
    results[pd.isna(results)] = None
    return _taken_back(codes, results)


#: Cleaned input columns of the frame being prepared, by ``(id(frame), column)``: several derived columns read
#: one input column (first name: first name, middle names, initials), screened for placeholders once.
_COLUMNS: dict[tuple[int, str], pd.Series] = {}


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of the input with placeholder values ("onbekend", "REMOVED", "-") as missing."""
    key = (id(frame), name)
    if key not in _COLUMNS:
        _COLUMNS[key] = _screened(frame, name)
    return _COLUMNS[key]


def _screened(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        values = frame[name].reset_index(drop=True)
        if values.dtype != object:
            return values
        codes, uniques = _factorized(values)
        flags = placeholder_mask(pd.Series(uniques, dtype="object"), name)
        if flags.any():
            values = values.where(~np.r_[flags, False][codes], None)
            # the placeholders' codes out, the others renumbered in their order: factorizing the result
            renumber = np.where(flags, -1, np.cumsum(~flags) - 1)
            _remember(values, np.r_[renumber, -1][codes], uniques[~flags])
        return values
    return pd.Series([None] * len(frame), dtype="object")


#: A prepared column as its factorization: int32 codes (-1 = None) and the distinct values.
_Packed = tuple[np.ndarray, np.ndarray]


def _known_codes(columns: dict[str, pd.Series]) -> dict[str, _Packed]:
    """The factorizations known of ``columns`` (see :data:`_FACTORIZED`)."""
    known: dict[str, _Packed] = {}
    for name, values in columns.items():
        hit = _FACTORIZED.get(id(values))
        if hit is not None and hit[0] is values:
            known[name] = (hit[1], hit[2])
    return known


def _packed(columns: dict[str, pd.Series]) -> dict[str, pd.Series | _Packed]:
    """Columns as a forked child sends them: a text column whose factorization is known, with None for
    missing, as int32 codes and its distinct values (pickling a million strings per column costs seconds;
    the codes are one buffer); any other column as it is."""
    known = _known_codes(columns)
    out: dict[str, pd.Series | _Packed] = {}
    for name, values in columns.items():
        if name in known and values.dtype == object:
            codes, uniques = known[name]
            if bool((values.to_numpy()[codes < 0] == None).all()):  # noqa: E711 - elementwise: missing is None
                out[name] = (codes.astype(np.int32), uniques)
                continue
        out[name] = values
    return out


def _unpacked(packed: dict[str, pd.Series | _Packed]) -> tuple[dict[str, pd.Series], dict[str, _Packed]]:
    """:func:`_packed` undone: the columns, and the factorizations that came with them."""
    columns: dict[str, pd.Series] = {}
    known: dict[str, _Packed] = {}
    for name, item in packed.items():
        if isinstance(item, tuple):
            codes, uniques = item
            columns[name] = pd.Series(np.r_[uniques, np.array([None], dtype=object)].astype(object)[codes],
                                      dtype="object")
            known[name] = (codes, uniques)
        else:
            columns[name] = item
    return columns, known


def _distinct_pairs(a: pd.Series, b: pd.Series, fn: Callable) -> pd.Series:
    """``fn(a, b)`` once per distinct pair of values (missing = None), by integer codes: a Series of tuples
    hashes every row's tuple in Python.

    Examples:
        >>> _distinct_pairs(pd.Series(["x", "x", None]), pd.Series(["1", "1", "2"]), lambda u, v: f"{u}{v}").tolist()
        ['x1', 'x1', 'None2']
    """
    ca, ua = _factorized(a)
    cb, ub = _factorized(b)
    ua, ub = np.r_[ua.astype(object), None], np.r_[ub.astype(object), None]  # code -1 takes the last slot
    ca, cb = np.where(ca < 0, len(ua) - 1, ca), np.where(cb < 0, len(ub) - 1, cb)
    codes, uniques = pd.factorize(ca.astype(np.int64) * len(ub) + cb)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(ua[k // len(ub)], ub[k % len(ub)]) for k in uniques.tolist()]
    # remembered with its factorization (the distinct pairs are in order of first appearance, so are their
    # results): a forked child then sends the column as codes (:func:`_packed`)
    derived, distinct = pd.factorize(results, use_na_sentinel=True)
    return _remember(pd.Series(results[codes], dtype="object"), derived[codes], np.asarray(distinct, dtype=object))
