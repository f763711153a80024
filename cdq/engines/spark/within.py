"""Comparing within blocks on Spark: each block's records go to one task, once, with their prepared columns,
and the task pairs and compares them with the pandas engine's code. No candidate pair is ever shuffled with
both records' columns (that join shipped ~17 pairs x 2 records per record at 1M; a record is in ~10 blocks).

A pair two passes both produce is compared once, by the first of them (the pandas engine compares the union
once): every block row carries its record's membership of every pass (:func:`memberships`), so the task
producing a pair of pass ``p`` can tell, from the two records alone, whether a pass before ``p`` put them in one
block too (same key values, same refine depth, within the window) and then leaves the pair to that pass.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.engines.spark.blocking import passes
from cdq.engines.spark.pairs import vector_schema
from cdq.engines.spark.records import prepared_columns, tf_columns
from cdq.linkage.block import _windowed, pairs_within_blocks
from cdq.linkage.columns import Columns
from cdq.linkage.compare import compare
from cdq.linkage.locations import same_organisation
from cdq.linkage.settings import Settings
from cdq.linkage.vetoes import vetoes

logger = logging.getLogger(__name__)

#: Membership of a record in a pass: ``-1`` no pairs there (no key, dropped by a refine key, skipped or alone
#: in its block); else in a non-window pass the refine depth of its block (refine keys appended), in a window
#: pass ``0`` in a block under the limit and the rank in the sort order (1, 2, ...) in an oversized one.
NONE = -1


def _member_value():
    from pyspark.sql import functions as F

    small = (F.col("size") >= 2) & (F.col("size") <= F.col("limit"))
    windowed = (F.col("size") > F.col("limit")) & (F.col("window") > 0)
    return small, windowed


def block_rows(blocks, s: Settings):
    """The rows of the blocks that give pairs, ``pass, idx, bk`` (the final key as one text) and ``m`` (the
    membership value above; the rank as :func:`cdq.engines.spark.blocking._pairs` orders a window block)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    small, windowed = _member_value()
    depth = F.size("bkey") - F.element_at(F.array(*[F.lit(len(keys)) for _n, keys, *_ in passes(s)]),
                                          F.col("pass") + 1)
    order = Window.partitionBy("pass", "bkey").orderBy(F.col("sort").asc_nulls_last(), F.col("idx"))
    plain = blocks.where(small).select("pass", "idx", "bkey", F.when(F.col("window") > 0, F.lit(0))
                                       .otherwise(depth).alias("m"))
    ranked = blocks.where(windowed).select("pass", "idx", "bkey", F.row_number().over(order).alias("m"))
    return (plain.unionByName(ranked)
            .select(F.col("pass").cast("int").alias("pass"), "idx", F.concat_ws("\u001f", "bkey").alias("bk"),
                    F.col("m").cast("int").alias("m")))


def memberships(rows, s: Settings):
    """``idx, m_0 .. m_<P-1>``: every pass's membership value of each record in some pair-giving block."""
    from pyspark.sql import functions as F

    count = len(passes(s))
    wide = rows.groupBy("idx").pivot("pass", list(range(count))).agg(F.first("m"))
    return wide.select("idx", *[F.coalesce(F.col(str(p)), F.lit(NONE)).alias(f"m_{p}") for p in range(count)])


def _same_in(cols: Columns, members: np.ndarray, spec: tuple, refine: tuple[str, ...], l: np.ndarray,
             r: np.ndarray) -> np.ndarray:
    """Whether pass ``spec`` pairs records ``l`` and ``r`` (positions in the local frame)."""
    _name, keys, _limit, window, _sort = spec
    ml, mr = members[l], members[r]
    same = (ml >= 0) & (mr >= 0)
    for key in keys:
        codes = cols.codes(key)
        same &= codes[l] == codes[r]
    if window:  # never refined: one block per key; both under the limit, or both ranked within the window
        return same & (((ml == 0) & (mr == 0)) | ((ml > 0) & (mr > 0) & (np.abs(ml - mr) <= window)))
    same &= ml == mr
    for depth, extra in enumerate(refine, start=1):
        if extra in keys:  # a pass's own key never splits its blocks
            continue
        deep = same & (ml >= depth)
        if deep.any():
            codes = cols.codes(extra)
            same &= ~deep | (codes[l] == codes[r])
    return same


def _run_codes(keys: np.ndarray) -> np.ndarray:
    """Block number per row of rows sorted by block key: a new number wherever the key changes.

    Not ``pd.factorize``: it hashes an all-text object array as C strings, which end at a NUL, so keys that
    differ only after one (a refine step's ``\\u0000keep``, see :mod:`cdq.engines.spark.blocking`) became
    one block and their records were paired across blocks (historical_50k: 93k pairs no pass makes). The rows
    arrive sorted by key, so comparing neighbours (Python string equality) is exact and cheaper.

    Examples:
        >>> _run_codes(np.array(["a\\x00x", "a\\x00x", "a\\x00y"], dtype=object)).tolist()
        [0, 0, 1]
    """
    if not len(keys):
        return np.empty(0, dtype=np.int64)
    return np.cumsum(np.r_[False, keys[1:] != keys[:-1]]).astype(np.int64)


#: Rows of a window pass's oversized block a task holds at most (about; plus one Arrow batch): such a block
#: has no size limit (a common first word of company names: 2,000 records at 100k, 20,000 at 1M), so it is
#: compared as it streams in, rank by rank, instead of being gathered whole.
STREAM_ROWS = 10_000


def _pass_pairs(rows: pd.DataFrame, pos: np.ndarray, window: int,
                head: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (local positions, ``l < r``) of one pass's complete blocks in a batch, as the pandas engine
    makes them: every pair of a block under the limit, the ``window`` next in rank order in an oversized one
    (with ``head``, only the pairs whose lower rank is at most ``head``: the part of a streamed block whose
    pairs are all present)."""
    codes = _run_codes(rows["bk"].to_numpy(dtype=object))
    members = rows["m"].to_numpy(dtype=np.int64)
    ranked = members > 0 if window else np.zeros(len(rows), dtype=bool)
    all_codes = np.where(ranked, -1, codes)
    left, right, _ = pairs_within_blocks(all_codes, np.iinfo(np.int64).max)
    if ranked.any():
        wl, wr = _windowed(codes, np.flatnonzero(ranked), members, window)
        if head is not None:
            early = np.minimum(members[wl], members[wr]) <= head
            wl, wr = wl[early], wr[early]
        left, right = np.r_[left, wl], np.r_[right, wr]
    a, b = pos[left], pos[right]
    return np.minimum(a, b), np.maximum(a, b)


def _compare_blocks(s: Settings, columns: list[str]):
    specs = passes(s)
    refine = tuple(dict.fromkeys(s.refine))
    shares = list(tf_columns(s).values())
    member_columns = [f"m_{p}" for p in range(len(specs))]

    def pairs_of(rows: pd.DataFrame, head: int | None = None) -> pd.DataFrame:
        local = rows.drop_duplicates("idx").sort_values("idx").reset_index(drop=True)
        order = local["idx"].to_numpy(dtype=np.int64)
        pos = np.searchsorted(order, rows["idx"].to_numpy(dtype=np.int64))
        frame = local[columns]
        cols = Columns.of(frame)
        members = local[member_columns].to_numpy(dtype=np.int64)
        ls, rs, first = [], [], []
        for p, part in rows.groupby("pass", sort=True):
            l, r = _pass_pairs(part, pos[part.index.to_numpy()], specs[int(p)][3], head)
            keep = np.ones(len(l), dtype=bool)
            for q in range(int(p)):  # a pair an earlier pass makes is that pass's (compared once)
                if keep.any():
                    keep &= ~_same_in(cols, members[:, q], specs[q], refine, l, r)
            ls.append(l[keep])
            rs.append(r[keep])
            first.append(np.full(int(keep.sum()), int(p), dtype=np.int16))
        l, r = np.concatenate(ls), np.concatenate(rs)
        vectors = compare(frame, l, r, s)
        out = pd.concat([pd.DataFrame({"l": order[l], "r": order[r]}), vectors], axis=1)
        out["veto"] = vetoes(vectors, s, frame, l, r)
        out["org_same"] = same_organisation(frame, l, r, vectors, s)
        for name in shares:
            out[name] = local[name].to_numpy(dtype=float)[l]
        out["first"] = np.concatenate(first)
        return out

    def streamed(carry: pd.DataFrame):
        """The pairs of a large ranked block's rows so far whose partners have all arrived (rows arrive in
        rank order), and the rows still needed: the last ``window`` ranks."""
        window = specs[int(carry["pass"].iat[0])][3]
        ranks = carry["m"].to_numpy(dtype=np.int64)
        if len(carry) <= STREAM_ROWS or not window or ranks[0] <= 0:
            return None, carry
        head = int(ranks[-1]) - window
        return pairs_of(carry.reset_index(drop=True), head), carry[ranks > head]

    def run(batches):
        carry = None
        for batch in batches:
            rows = batch if carry is None else pd.concat([carry, batch], ignore_index=True)
            if rows.empty:
                continue
            # the batch's last block may go on in the next batch: keep it for then
            last = (rows["pass"].to_numpy() == rows["pass"].iat[-1]) & (rows["bk"].to_numpy() == rows["bk"].iat[-1])
            cut = len(rows) - int(np.argmin(last[::-1])) if not last.all() else 0
            carry = rows.iloc[cut:]
            if cut:
                yield pairs_of(rows.iloc[:cut].reset_index(drop=True))
            done, carry = streamed(carry)
            if done is not None:
                yield done
        if carry is not None and len(carry):
            yield pairs_of(carry.reset_index(drop=True))

    return run


def compared_within_blocks(blocks, records, s: Settings, partitions: int):
    """Comparison vectors of every candidate pair (the layout of
    :func:`cdq.engines.spark.pairs.comparison_vectors` with ``full``, plus ``first``: the pass that made it)."""
    from pyspark.sql import types as T

    columns = prepared_columns(s)
    shares = list(tf_columns(s).values())
    rows = block_rows(blocks, s).localCheckpoint()
    members = memberships(rows, s)
    wide = records.select("idx", *columns, *shares).join(members, "idx")
    grouped = (rows.select("pass", "idx", "bk", "m").join(wide, "idx")
               # ranks in order: a window pass's oversized block is compared as it streams in (STREAM_ROWS); in
               # every other block ``m`` is one value
               .repartition(partitions, "pass", "bk").sortWithinPartitions("pass", "bk", "m", "idx"))
    schema = T.StructType(list(vector_schema(s).fields) + [T.StructField("first", T.ShortType(), False)])
    return grouped.mapInPandas(_compare_blocks(s, columns + shares), schema)
