"""Blocking on Spark: the passes of ``rules/matching.yaml`` as self-joins on their keys.

The same blocks as :func:`cdq.linkage.block.candidate_pairs`: records sharing every key of a pass; a block
above the pass's limit is split by the ``refine`` keys in turn (records without the refine key drop out of that
pass), what is still oversized is skipped; a pass with a ``window`` pairs each record of an oversized block with
its next ``window`` records in the order of the ``sort`` column instead. Pairs are ``(l, r)`` row numbers with
``l < r``; the union over passes is distinct.
"""

from __future__ import annotations

import logging

import pandas as pd

from cdq.linkage.block import REPORT_COLUMNS, reduction_ratio
from cdq.linkage.settings import Settings

logger = logging.getLogger(__name__)


def passes(s: Settings) -> list[tuple]:
    """``(name, keys, limit, window, sort)`` per pass, the extra comparisons' passes included (as the pandas
    engine runs them)."""
    out = []
    for name, keys, *own in s.passes + tuple((f"extra_{e.name}", (e.name,), None) for e in s.extras if e.block):
        limit = own[0] if own and own[0] else s.max_block_size
        window = own[1] if len(own) > 1 and own[1] else 0
        sort = own[2] if len(own) > 2 and own[2] else keys[0]
        out.append((name, tuple(keys), limit, window, sort))
    return out


def _sized(frame):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    return frame.withColumn("size", F.count(F.lit(1)).over(Window.partitionBy("bkey")))


def _refined_blocks(prepared, keys: tuple[str, ...], limit: int, refine: tuple[str, ...]):
    """Rows with their final block key (an array of key values) and block size; ``refined`` blocks split."""
    from pyspark.sql import functions as F

    present = F.lit(True)
    for key in keys:
        present = present & F.col(key).isNotNull()
    current = _sized(prepared.where(present).select("idx", F.array(*[F.col(k) for k in keys]).alias("bkey"),
                                                   *[F.col(e) for e in refine if e not in keys]))
    used, refined, done = list(keys), 0, []
    for extra in refine:
        if extra in used:
            continue
        big = current.where(F.col("size") > limit)
        blocks = big.select("bkey").distinct().count()
        if not blocks:
            break
        refined += blocks
        used.append(extra)
        done.append(current.where(F.col("size") <= limit))
        split = big.where(F.col(extra).isNotNull()).withColumn("bkey", F.concat("bkey", F.array(F.col(extra))))
        current = _sized(split.drop("size")).localCheckpoint()
    for part in done:
        current = current.unionByName(part)
    return current.select("idx", "bkey", "size"), refined


def _all_pairs(blocks, limit: int):
    """Every pair of rows within a block of 2..``limit`` rows."""
    from pyspark.sql import functions as F

    rows = blocks.where((F.col("size") >= 2) & (F.col("size") <= limit)).select("idx", "bkey")
    a, b = rows.alias("a"), rows.alias("b")
    return (a.join(b, (F.col("a.bkey") == F.col("b.bkey")) & (F.col("a.idx") < F.col("b.idx")))
            .select(F.col("a.idx").alias("l"), F.col("b.idx").alias("r")))


def _windowed_pairs(prepared, blocks, limit: int, window: int, sort: str):
    """Sorted neighbourhood in blocks above ``limit``: each row and its next ``window`` rows, in the order of
    ``sort`` (missing last), ties in row order (as :func:`cdq.linkage.block._windowed`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    big = blocks.where(F.col("size") > limit).join(prepared.select("idx", F.col(sort).alias("_sort")), "idx")
    order = Window.partitionBy("bkey").orderBy(F.col("_sort").asc_nulls_last(), F.col("idx"))
    ranked = big.withColumn("rank", F.row_number().over(order)).select("idx", "bkey", "rank")
    a, b = ranked.alias("a"), ranked.alias("b")
    near = (F.col("a.bkey") == F.col("b.bkey")) & (F.col("b.rank") > F.col("a.rank")) & \
        (F.col("b.rank") <= F.col("a.rank") + window)
    return (a.join(b, near).select(F.least("a.idx", "b.idx").alias("l"), F.greatest("a.idx", "b.idx").alias("r")))


def _pass_pairs(prepared, keys, limit, window, sort, refine):
    """The pairs of one pass and its report row (without ``pairs`` / ``new_pairs``)."""
    from pyspark.sql import functions as F

    if window:
        blocks, refined = _refined_blocks(prepared, keys, limit, ())
        pairs = _all_pairs(blocks, limit).unionByName(_windowed_pairs(prepared, blocks, limit, window, sort))
    else:
        blocks, refined = _refined_blocks(prepared, keys, limit, refine)
        pairs = _all_pairs(blocks, limit)
    sizes = blocks.groupBy("bkey").agg(F.first("size").alias("size"))
    stats = sizes.agg(F.count(F.lit(1)).alias("blocks"), F.max("size").alias("largest"),
                      F.sum(F.when(F.col("size") > limit, 1).otherwise(0)).alias("big"),
                      F.sum(F.when(F.col("size") > limit, F.col("size")).otherwise(0)).alias("big_records")).first()
    big, big_records = int(stats["big"] or 0), int(stats["big_records"] or 0)
    info = {"keys": "+".join(keys), "blocks": int(stats["blocks"] or 0), "largest_block": int(stats["largest"] or 0),
            "refined_blocks": refined, "windowed_blocks": big if window else 0,
            "skipped_blocks": 0 if window else big, "skipped_records": 0 if window else big_records}
    return pairs, info


def candidate_pairs(prepared, s: Settings, n: int):
    """The distinct candidate pairs ``(l, r)`` of every pass and the blocking report (as the pandas engine's)."""
    from pyspark.sql import functions as F

    keyed = prepared.select("idx", *sorted({k for p in passes(s) for k in (*p[1], p[4])} | set(s.refine)))
    keyed = keyed.localCheckpoint()
    union, rows = None, []
    for number, (name, keys, limit, window, sort) in enumerate(passes(s)):
        pairs, info = _pass_pairs(keyed, keys, limit, window, sort, s.refine)
        pairs = pairs.withColumn("pass", F.lit(number))
        union = pairs if union is None else union.unionByName(pairs)
        rows.append({"pass": name, **info})
        if info["skipped_blocks"]:
            logger.warning("blocking pass %s: %d blocks over %d records skipped (%d records)",
                           name, info["skipped_blocks"], limit, info["skipped_records"])
    first = union.groupBy("l", "r").agg(F.min("pass").alias("first"), F.count(F.lit(1)).alias("_k"))
    first = first.localCheckpoint()
    per_pass = {int(r["pass"]): int(r["count"]) for r in union.groupBy("pass").count().collect()}
    new = {int(r["first"]): int(r["count"]) for r in first.groupBy("first").count().collect()}
    for number, row in enumerate(rows):
        row["pairs"], row["new_pairs"] = per_pass.get(number, 0), new.get(number, 0)
        logger.info("blocking pass %s: %d pairs, %d new", row["pass"], row["pairs"], row["new_pairs"])
    total = sum(new.values())
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    report = pd.concat([report, pd.DataFrame([{"pass": "total", "keys": "", "pairs": total, "new_pairs": total,
                                              "reduction_ratio": reduction_ratio(n, total)}])], ignore_index=True)
    return first.select("l", "r"), report
