"""Blocking on Spark: the blocks of the passes of ``rules/matching.yaml`` (the pairs are made and compared
inside each block, :mod:`cdq.engines.spark.within`).

The same blocks as :func:`cdq.linkage.block.candidate_pairs`: records sharing every key of a pass; a block
above the pass's limit is split by the ``refine`` keys in turn (records without the refine key drop out of that
pass), what is still oversized is skipped; a pass with a ``window`` pairs each record of an oversized block with
its next ``window`` records in the order of the ``sort`` column instead. Every pass is a row set of one frame
(a record once per pass whose keys it has), so all passes cost the shuffles of one.
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
    for name, keys, *own in s.passes + s.extra_passes:
        limit = own[0] if own and own[0] else s.max_block_size
        window = own[1] if len(own) > 1 and own[1] else 0
        sort = own[2] if len(own) > 2 and own[2] else keys[0]
        out.append((name, tuple(keys), limit, window, sort))
    return out


def _sized(frame):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    return frame.withColumn("size", F.count(F.lit(1)).over(Window.partitionBy("pass", "bkey")))


#: The refine value of a pass that a refine key does not split (a window pass, or the key is one of its own):
#: every row of a block gets the same value, so the block stays whole.
_KEEP = "\u0000keep"


def _keyed(prepared, s: Settings, extras: list[str]):
    """One row per record and pass whose keys it has: ``pass, idx, bkey`` (the key values), the pass's
    ``limit`` and ``window``, its ``sort`` value and the refine keys' values."""
    from pyspark.sql import functions as F

    parts = []
    for number, (_name, keys, limit, window, sort) in enumerate(passes(s)):
        present = F.lit(True)
        for key in keys:
            present = present & F.col(key).isNotNull()
        refine = [(F.lit(_KEEP) if window or e in keys else F.col(e)).alias(e) for e in extras]
        parts.append(prepared.where(present).select(
            F.lit(number).alias("pass"), "idx", F.array(*[F.col(k) for k in keys]).alias("bkey"),
            F.lit(limit).alias("limit"), F.lit(window).alias("window"), F.col(sort).alias("sort"), *refine))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def _refined(keyed, extras: list[str]):
    """Final blocks with their sizes: an oversized block is split by each refine key in turn (rows without the
    key drop out of the pass); a block at or under its limit never is, so every key is applied without first
    counting on the driver. Also the oversized blocks each step split (the report's ``refined_blocks``)."""
    from pyspark.sql import functions as F

    # each step kept: the final union and the report read every step, which would otherwise recompute the
    # chain of window counts before it (quadratic in the refine keys)
    current, done, split = _sized(keyed).localCheckpoint(), [], []
    big = F.col("size") > F.col("limit")
    for extra in extras:
        done.append(current.where(~big))
        split.append(current.where(big & (F.col(extra).isNull() | (F.col(extra) != _KEEP)))
                     .select("pass", "bkey").distinct())
        current = _sized(current.where(big & F.col(extra).isNotNull())
                         .withColumn("bkey", F.concat("bkey", F.array(F.col(extra)))).drop("size")).localCheckpoint()
    for part in done:
        current = current.unionByName(part)
    refined = None
    for part in split:
        refined = part if refined is None else refined.unionByName(part)
    return current.select("pass", "idx", "bkey", "size", "limit", "window", "sort"), refined


def _pair_count():
    """Pairs a block gives (as the pandas engine makes them): all of a block of 2..limit records; in a window
    pass's oversized block of ``k`` records, each with its next ``w``: ``k*w - w*(w+1)/2`` (``k(k-1)/2`` when
    ``k <= w``)."""
    from pyspark.sql import functions as F

    k, w = F.col("size").cast("long"), F.col("window").cast("long")
    every = k * (k - 1) / 2
    window = F.when(k <= w, every).otherwise(k * w - w * (w + 1) / 2)
    return (F.when((k >= 2) & (k <= F.col("limit")), every)
            .when((k > F.col("limit")) & (w > 0), window).otherwise(F.lit(0)))


def _stats(blocks, refined) -> dict[int, dict]:
    """Per pass: blocks, largest block, oversized blocks and their records, pairs, refined blocks (one job)."""
    from pyspark.sql import functions as F

    sizes = blocks.groupBy("pass", "bkey").agg(F.first("size").alias("size"), F.first("limit").alias("limit"),
                                               F.first("window").alias("window"))
    big = F.col("size") > F.col("limit")
    stats = {int(r["pass"]): r.asDict() for r in sizes.groupBy("pass").agg(
        F.count(F.lit(1)).alias("blocks"), F.max("size").alias("largest"),
        F.sum(F.when(big, 1).otherwise(0)).alias("big"),
        F.sum(F.when(big, F.col("size")).otherwise(0)).alias("big_records"),
        F.sum(_pair_count()).cast("long").alias("pairs")).collect()}
    if refined is not None:
        for r in refined.groupBy("pass").count().collect():
            stats.setdefault(int(r["pass"]), {})["refined"] = int(r["count"])
    return stats


def _report_row(name: str, keys, window: int, stats: dict) -> dict:
    big, big_records = int(stats.get("big") or 0), int(stats.get("big_records") or 0)
    return {"pass": name, "keys": "+".join(keys), "blocks": int(stats.get("blocks") or 0),
            "largest_block": int(stats.get("largest") or 0), "refined_blocks": int(stats.get("refined") or 0),
            "windowed_blocks": big if window else 0, "skipped_blocks": 0 if window else big,
            "skipped_records": 0 if window else big_records, "pairs": int(stats.get("pairs") or 0)}


def blocked(prepared, s: Settings):
    """The final blocks (``pass, idx, bkey, size, limit, window, sort``: one row per record and pass, kept)
    and the blocking report without ``new_pairs`` (:func:`with_new_pairs` adds them once the pairs are made)."""
    extras = list(dict.fromkeys(s.refine))
    blocks, refined = _refined(_keyed(prepared, s, extras), extras)
    blocks = blocks.localCheckpoint()
    stats = _stats(blocks, refined)
    rows = [_report_row(name, keys, window, stats.get(number, {}))
            for number, (name, keys, _limit, window, _sort) in enumerate(passes(s))]
    for row in rows:
        if row["skipped_blocks"]:
            logger.warning("blocking pass %s: %d blocks over the limit skipped (%d records)",
                           row["pass"], row["skipped_blocks"], row["skipped_records"])
    return blocks, rows


def with_new_pairs(rows: list[dict], new: dict[int, int], n: int) -> pd.DataFrame:
    """The blocking report from :func:`blocked`'s rows and the distinct pairs each pass made first."""
    for number, row in enumerate(rows):
        row["new_pairs"] = new.get(number, 0)
        logger.info("blocking pass %s: %d pairs, %d new", row["pass"], row["pairs"], row["new_pairs"])
    total = sum(new.values())
    report = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    return pd.concat([report, pd.DataFrame([{"pass": "total", "keys": "", "pairs": total, "new_pairs": total,
                                             "reduction_ratio": reduction_ratio(n, total)}])], ignore_index=True)
