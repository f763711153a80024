"""Blocking: candidate pairs from several passes, unioned, with a cap on oversized blocks and a report.

Records sharing every key of a pass form a block; a block larger than ``max_block_size`` is split by the
next ``refine`` key (first initial, birth year, ...) instead of being dropped, so one common e-mail local
part or birth date does not hide its true pairs; only what is still oversized after every refine key is
skipped (and counted in the report), so loose keys cannot blow up memory. Pairs are ``int64`` row positions ``(l, r)``
with ``l < r``; the union is kept as one sorted array of ``l << shift | r`` codes (``shift``: the bits of a row
number), which sort as the pairs do.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.linkage.columns import Columns
from cdq.linkage.parallel import run_tasks

logger = logging.getLogger(__name__)

#: Files from this many records on block in two processes (passes split between them).
PARALLEL_MIN_ROWS = 20_000
REPORT_COLUMNS = ["pass", "keys", "blocks", "largest_block", "refined_blocks", "windowed_blocks", "skipped_blocks",
                  "skipped_records", "pairs", "new_pairs"]


def block_codes(prepared: pd.DataFrame, keys: list[str], rows: np.ndarray | None = None) -> np.ndarray:
    """Block number per row (of ``rows`` only, when given) for a pass; -1 where any key is missing.

    Combines the keys' factorized codes (shared with the comparisons, see ``Columns.of``) instead of a
    groupby over text columns: at 1M records that is most of the blocking time.

    Examples:
        >>> f = pd.DataFrame({"a": ["x", "x", None, "y"], "b": ["1", "1", "1", "1"]})
        >>> block_codes(f, ["a", "b"]).tolist()
        [0, 0, -1, 1]
    """
    cols = Columns.of(prepared)
    parts = [cols.codes(key) if rows is None else cols.codes(key)[rows] for key in keys]
    idx = np.flatnonzero(np.logical_and.reduce([part >= 0 for part in parts]))
    out = np.full(len(parts[0]), -1, dtype=np.int64)
    if len(idx):
        combined = np.zeros(len(idx), dtype=np.int64)
        for part in parts:  # both numbers are below the row count: their combination fits an int64
            values = part[idx]
            combined = pd.factorize(combined * (int(values.max()) + 1) + values)[0].astype(np.int64)
        out[idx] = combined
    return out


def refined_codes(prepared: pd.DataFrame, keys: list[str], max_block_size: int,
                  refine: tuple[str, ...] = ()) -> tuple[np.ndarray, int]:
    """Block codes where every block above ``max_block_size`` is split by the refine keys in turn.

    Returns ``(codes, refined)``: ``refined`` counts the oversized blocks that were split. Rows of an
    oversized block that lack the refine key drop out of that pass (they have no finer key to pair on).

    Examples:
        >>> f = pd.DataFrame({"a": ["x"] * 4 + ["y"], "b": ["1", "1", "2", "2", "1"]})
        >>> codes, refined = refined_codes(f, ["a"], 3, ("b",))
        >>> codes.tolist(), refined
        ([2, 2, 3, 3, 1], 1)
    """
    codes = block_codes(prepared, keys)
    refined, used = 0, list(keys)
    for extra in refine:
        valid = codes >= 0
        if not valid.any() or extra in used:
            continue
        sizes = np.bincount(codes[valid])
        big = sizes > max_block_size
        if not big.any():
            break
        refined += int(big.sum())
        used.append(extra)
        rows = np.flatnonzero(valid & big[np.maximum(codes, 0)])
        sub = block_codes(prepared, used, rows)
        codes = codes.copy()
        codes[rows] = np.where(sub >= 0, sub + codes.max() + 1, -1)
    return codes, refined


def _windowed(codes: np.ndarray, rows: np.ndarray, order: np.ndarray | None, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted neighbourhood inside blocks: each row of ``rows`` paired with the next ``window`` rows of its block,
    rows ordered by ``order`` (e.g. the alphabetical rank of the name) within each block."""
    rank = order[rows] if order is not None else rows
    sorted_rows = rows[np.lexsort((rank, codes[rows]))]
    block_of = codes[sorted_rows]
    left, right = [], []
    for k in range(1, window + 1):
        same = block_of[k:] == block_of[:-k]
        left.append(sorted_rows[:-k][same])
        right.append(sorted_rows[k:][same])
    left_all = np.concatenate(left) if left else np.empty(0, dtype=np.int64)
    right_all = np.concatenate(right) if right else np.empty(0, dtype=np.int64)
    return np.minimum(left_all, right_all), np.maximum(left_all, right_all)


def pairs_within_blocks(codes: np.ndarray, max_block_size: int, *, window: int = 0,
                        order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """All pairs of rows sharing a block code (``l < r``); blocks above ``max_block_size`` are skipped, or with
    ``window`` give a sorted neighbourhood (each row and its next ``window`` rows in ``order``).

    An organisation with hundreds of records under one name (a group's patent office, a chain's branches) is
    one oversized block: skipping it would lose all of them; a window links them in a chain that
    clustering closes.

    Examples:
        >>> l, r, info = pairs_within_blocks(np.array([0, 1, 0, 0, -1]), 10)
        >>> sorted(zip(l.tolist(), r.tolist()))
        [(0, 2), (0, 3), (2, 3)]
        >>> info["largest_block"]
        3
        >>> l, r, info = pairs_within_blocks(np.array([0, 0, 0, 0, 1]), 3, window=1)
        >>> sorted(zip(l.tolist(), r.tolist())), info["skipped_blocks"], info["windowed_blocks"]
        ([(0, 1), (1, 2), (2, 3)], 0, 1)
    """
    valid = np.flatnonzero(codes >= 0)
    empty = np.empty(0, dtype=np.int64)
    info = {"blocks": 0, "largest_block": 0, "skipped_blocks": 0, "skipped_records": 0, "windowed_blocks": 0}
    if len(valid) == 0:
        return empty, empty, info
    sizes = np.bincount(codes[valid])
    info.update(blocks=int((sizes > 0).sum()), largest_block=int(sizes.max()))
    too_big = sizes > max_block_size
    extra_l, extra_r = empty, empty
    if window and too_big.any():
        info["windowed_blocks"] = int(too_big.sum())
        extra_l, extra_r = _windowed(codes, valid[too_big[codes[valid]]], order, window)
    else:
        info.update(skipped_blocks=int(too_big.sum()), skipped_records=int(sizes[too_big].sum()))
    keep = valid[(sizes[codes[valid]] > 1) & ~too_big[codes[valid]]]
    if len(keep) == 0:
        return extra_l, extra_r, info
    sorted_keep = keep[np.argsort(codes[keep], kind="stable")]
    block_of = codes[sorted_keep]
    starts = np.flatnonzero(np.r_[True, block_of[1:] != block_of[:-1]])
    lengths = np.diff(np.r_[starts, len(sorted_keep)])
    rank = np.arange(len(sorted_keep)) - np.repeat(starts, lengths)
    partners = np.repeat(lengths, lengths) - rank - 1
    total = int(partners.sum())
    left_pos = np.repeat(np.arange(len(sorted_keep)), partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    right_pos = left_pos + 1 + offset
    left, right = sorted_keep[left_pos], sorted_keep[right_pos]
    return np.r_[np.minimum(left, right), extra_l], np.r_[np.maximum(left, right), extra_r], info


def candidate_pairs(
    prepared: pd.DataFrame,
    passes: tuple[tuple, ...],  # (name, keys[, max_block_size or None, window, sort column or None])
    max_block_size: int,
    *,
    is_new: np.ndarray | None = None,
    refine: tuple[str, ...] = (),
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Union of the pairs of every pass; returns ``(left, right, report)``.

    Args:
        prepared: output of :func:`cdq.linkage.prepare.prepare`.
        passes: ``(name, keys)`` or ``(name, keys, max_block_size)`` per pass (a loose key such as the
            birth date gets a lower limit of its own, so at scale its blocks are refined sooner).
        max_block_size: blocks with more records are split by ``refine`` keys; still too big: skipped.
        is_new: when given, only pairs with at least one new row are kept (incremental linking).
    """
    n = len(prepared)
    shift = max(1, (n - 1).bit_length())  # a pair's code: l << shift | r (sorts as (l, r) does)
    bits = max(1, (len(passes) - 1).bit_length())  # a pass number in the low bits of a tagged code
    room = bits <= 8 and (1 << (2 * shift)) < 2 ** (62 - bits)

    def run(which: list[int]) -> tuple[list[np.ndarray] | np.ndarray, list[dict]]:
        """The passes ``which``: their union, each code tagged with the first of them that made it (or the
        passes' own codes when the codes leave no room for a tag), and their report rows."""
        results = [_one_pass(prepared, passes[k], max_block_size, is_new, refine, shift) for k in which]
        codes, rows = [c for c, _ in results], [row for _, row in results]
        del results
        return (_tagged_union(codes, which, bits) if room else codes), rows

    order = list(range(len(passes)))
    if n >= PARALLEL_MIN_ROWS and len(passes) > 1:
        # passes are independent: every other one in a forked child (see cdq.linkage.parallel), which also
        # merges its own passes, so only the merge of the two unions is left for this process
        (theirs, their_rows), (mine, my_rows) = run_tasks([lambda: run(order[1::2]), lambda: run(order[::2])])
        rows_by_pass = dict(zip(order[1::2] + order[::2], their_rows + my_rows))
        parts = [mine, theirs]
        del mine, theirs
    else:
        only, rows_list = run(order)
        rows_by_pass = dict(zip(order, rows_list))
        parts = [only]
        del only
    rows = [rows_by_pass[k] for k in order]
    for row in rows:
        if row["skipped_blocks"]:
            logger.warning("blocking pass %s: %d blocks over %d records skipped (%d records)",
                           row["pass"], row["skipped_blocks"], max_block_size, row["skipped_records"])
    if room:
        union, new = _merged(parts, bits, len(passes))
    else:
        per_pass = dict(zip(order[1::2] + order[::2] if len(parts) > 1 else order,
                            [c for part in reversed(parts) for c in part]))
        union, new = _union_and_new_by_lookup([per_pass[k] for k in order])
    for row, k in zip(rows, new):
        row["new_pairs"] = k
        logger.info("blocking pass %s: %d pairs, %d new", row["pass"], row["pairs"], k)
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    return union >> shift, union & ((1 << shift) - 1), report


def _one_pass(prepared: pd.DataFrame, spec: tuple, max_block_size: int, is_new: np.ndarray | None,
              refine: tuple[str, ...], shift: int) -> tuple[np.ndarray, dict]:
    """The sorted pair codes (``l << shift | r``) of one pass and its report row (without ``new_pairs``)."""
    name, keys, *own = spec
    limit = own[0] if own and own[0] else max_block_size
    window = own[1] if len(own) > 1 and own[1] else 0
    if window:  # a sorted neighbourhood instead of refining: the keys are an organisation's name
        codes, refined = block_codes(prepared, list(keys)), 0
        order = _alphabetical(prepared, own[2] if len(own) > 2 and own[2] else keys[0])
        left, right, info = pairs_within_blocks(codes, limit, window=window, order=order)
    else:
        codes, refined = refined_codes(prepared, list(keys), limit, refine)
        left, right, info = pairs_within_blocks(codes, limit)
    info["refined_blocks"] = refined
    if is_new is not None and len(left):
        wanted = is_new[left] | is_new[right]
        left, right = left[wanted], right[wanted]
    codes = sorted_unique((left.astype(np.int64) << shift) | right)
    return codes, {"pass": name, "keys": "+".join(keys), **info, "pairs": len(codes)}


def _alphabetical(prepared: pd.DataFrame, column: str) -> np.ndarray:
    """Alphabetical rank of each row's value of ``column`` (missing last)."""
    codes = pd.factorize(prepared[column], sort=True)[0].astype(np.int64)
    return np.where(codes < 0, np.iinfo(np.int64).max, codes)


def sorted_unique(values: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    """Sorted distinct values by sorting (numpy 2's hash-based ``np.unique`` is ~50x slower on pair codes).

    ``kind``: numpy's sort; equal values are equal, so any kind gives the same result. Quicksort (SIMD in
    numpy 2) is ~3x faster than a stable sort on unordered pair codes; "stable" (timsort) merges
    concatenated sorted runs faster.

    Examples:
        >>> sorted_unique(np.array([5, 1, 5, 3])).tolist()
        [1, 3, 5]
    """
    if len(values) == 0:
        return values.astype(np.int64)
    out = np.sort(values, kind=kind)  # type: ignore[call-overload]
    return out[np.r_[True, out[1:] != out[:-1]]]


def _tagged_union(per_pass: list[np.ndarray], which: list[int], bits: int) -> np.ndarray:
    """The union of sorted code arrays, each code shifted left by ``bits`` and tagged with the number (of
    ``which``) of the first pass that made it; sorted.

    One stable sort of the concatenated tagged runs (timsort merges runs) puts every code's copies together,
    earliest pass first. Empties ``per_pass`` (each pass's array is let go once copied: at 1M records the
    passes hold ~40M codes, 0.3 GB per copy).

    Examples:
        >>> (_tagged_union([np.array([1, 5]), np.array([2, 5, 9])], [0, 3], 2) >> 2).tolist()
        [1, 2, 5, 9]
        >>> (_tagged_union([np.array([1, 5]), np.array([2, 5, 9])], [0, 3], 2) & 3).tolist()
        [0, 3, 0, 3]
    """
    tagged = np.empty(sum(len(codes) for codes in per_pass), dtype=np.int64)
    at = 0
    for k in which:
        codes = per_pass.pop(0)  # the list lets go of each pass once it is copied
        part = tagged[at:at + len(codes)]
        np.left_shift(codes, bits, out=part)
        part |= k
        at += len(codes)
        del codes
    tagged.sort(kind="stable")
    return _first_of_each(tagged, bits)


def _first_of_each(tagged: np.ndarray, bits: int) -> np.ndarray:
    """Of sorted tagged codes, the first (lowest tag) of each code."""
    if not len(tagged):
        return tagged
    first = np.empty(len(tagged), dtype=bool)
    first[0] = True
    # two tagged codes of one code differ in the tag bits only
    differ = np.bitwise_xor(tagged[1:], tagged[:-1])
    np.greater_equal(differ, 1 << bits, out=first[1:])
    del differ
    return tagged[first]


def _merged(parts: list[np.ndarray], bits: int, count: int) -> tuple[np.ndarray, list[int]]:
    """The union of sorted tagged unions (:func:`_tagged_union`) and, per pass, how many of its codes no earlier
    pass produced (the report).

    Examples:
        >>> codes, new = _merged([np.array([1 << 1, 5 << 1]), np.array([2 << 1 | 1, 5 << 1 | 1, 9 << 1 | 1])], 1, 2)
        >>> codes.tolist(), new
        ([1, 2, 5, 9], [2, 2])
    """
    if not parts:
        return np.empty(0, dtype=np.int64), [0] * count
    several = len(parts) > 1
    tagged = np.concatenate(parts) if several else parts[0]
    parts.clear()
    if several:
        tagged.sort(kind="stable")  # sorted runs: merged
        tagged = _first_of_each(tagged, bits)
    new = np.bincount((tagged & ((1 << bits) - 1)).astype(np.intp), minlength=count)
    tagged >>= bits
    return tagged, [int(k) for k in new[:count]]


def _union_and_new_by_lookup(per_pass: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """:func:`_union_and_new` for codes too large to carry a pass number."""
    union = sorted_unique(np.concatenate(per_pass), kind="stable")
    seen = np.zeros(len(union), dtype=bool)
    new = []
    for codes in per_pass:
        at = np.searchsorted(union, codes)
        new.append(int((~seen[at]).sum()))
        seen[at] = True
    return union, new


def reduction_ratio(n_records: int, n_pairs: int) -> float:
    """Share of all record pairs that blocking avoided comparing.

    Examples:
        >>> reduction_ratio(100, 495)
        0.9
    """
    total = n_records * (n_records - 1) // 2
    return 1.0 - n_pairs / total if total else 1.0
