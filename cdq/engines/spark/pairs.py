"""Comparison vectors and scores on Spark: each partition of pairs is compared with the pandas engine's own
code (:func:`cdq.linkage.compare.compare`, the vetoes, the organisation test) on a small frame of the
records it names, and scored with the trained model.

A pair row carries both records' prepared columns (``l_<column>``, ``r_<column>``), joined on the row numbers.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from cdq.engines.spark.records import prepared_columns, tf_columns
from cdq.linkage.compare import compare
from cdq.linkage.model import FSModel, score, tf_weights
from cdq.linkage.settings import Settings
from cdq.linkage.vetoes import decide

logger = logging.getLogger(__name__)


def with_records(pairs, records, columns: list[str]):
    """``pairs`` (``l``, ``r``, ...) with both records' ``columns`` as ``l_<c>`` and ``r_<c>``."""
    from pyspark.sql import functions as F

    left = records.select(F.col("idx").alias("l"), *[F.col(c).alias(f"l_{c}") for c in columns])
    right = records.select(F.col("idx").alias("r"), *[F.col(c).alias(f"r_{c}") for c in columns])
    return pairs.join(left, "l").join(right, "r")


def local_records(batch: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The records a batch of pairs names as one prepared frame (in row-number order) and the pairs as
    positions in it."""
    left = batch[["l", *[f"l_{c}" for c in columns]]].set_axis(["idx", *columns], axis=1)
    right = batch[["r", *[f"r_{c}" for c in columns]]].set_axis(["idx", *columns], axis=1)
    local = pd.concat([left, right], ignore_index=True).drop_duplicates("idx").sort_values("idx")
    local = local.reset_index(drop=True)
    order = local["idx"].to_numpy(dtype=np.int64)
    l = np.searchsorted(order, batch["l"].to_numpy(dtype=np.int64))
    r = np.searchsorted(order, batch["r"].to_numpy(dtype=np.int64))
    return local.drop(columns="idx"), l, r


def vector_schema(s: Settings, comparisons: tuple[str, ...] | None = None, *, full: bool = True):
    from pyspark.sql import types as T

    fields = [T.StructField("l", T.LongType(), False), T.StructField("r", T.LongType(), False)]
    fields += [T.StructField(c, T.ByteType(), False) for c in (comparisons or s.all_comparisons)]
    if full:
        fields += [T.StructField("veto", T.BooleanType(), False), T.StructField("org_same", T.BooleanType(), False)]
        fields += [T.StructField(name, T.DoubleType(), True) for name in tf_columns(s).values()]
    return T.StructType(fields)


def _compare_batches(s: Settings, columns: list[str]):
    def run(batches):
        for batch in batches:
            local, l, r = local_records(batch, columns)
            yield pd.concat([batch[["l", "r"]].reset_index(drop=True), compare(local, l, r, s)], axis=1)

    return run


def comparison_vectors(pairs, records, s: Settings):
    """Agreement levels of every pair (``l``, ``r``, one int8 column per comparison): for pairs that are not
    candidates (the random pairs u is estimated on); candidates are compared within their blocks
    (:mod:`cdq.engines.spark.within`), with their vetoes and value shares."""
    columns = prepared_columns(s)
    joined = with_records(pairs.select("l", "r"), records, columns)
    return joined.mapInPandas(_compare_batches(s, columns), vector_schema(s, full=False))


def pattern_counts(vectors, comparisons: tuple[str, ...], by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Distinct comparison vectors and their counts (an aggregation: the driver gets patterns, not pairs),
    in lexicographic order as :func:`cdq.linkage.model.pattern_counts` gives them."""
    from pyspark.sql import functions as F

    counted = vectors.groupBy(*comparisons, *by).agg(F.count(F.lit(1)).alias("count")).toPandas()
    counted = counted.sort_values(list(comparisons) + list(by), kind="stable").reset_index(drop=True)
    for c in comparisons:
        counted[c] = counted[c].astype(np.int64)
    return counted


def scored_schema(s: Settings):
    from pyspark.sql import types as T

    fields = [T.StructField("l", T.LongType(), False), T.StructField("r", T.LongType(), False),
              T.StructField("match_weight", T.FloatType(), False),
              T.StructField("match_probability", T.DoubleType(), False),
              T.StructField("decision", T.StringType(), False), T.StructField("veto", T.BooleanType(), False),
              T.StructField("org_same", T.BooleanType(), False)]
    fields += [T.StructField(c, T.ByteType(), False) for c in s.all_comparisons]
    fields += [T.StructField(name, T.DoubleType(), True) for name in tf_columns(s).values()]
    return T.StructType(fields)


def _tf(model: FSModel, s: Settings, batch: pd.DataFrame, vectors: pd.DataFrame) -> dict[str, np.ndarray]:
    bounds = (s.tf_min_weight, s.tf_max_weight)
    return {c: tf_weights(model, c, vectors[c].to_numpy(),
                          lambda exact, name=name: batch[name].to_numpy(dtype=float)[exact], bounds)
            for c, name in tf_columns(s).items()}


def _score_batches(model: FSModel, s: Settings):
    shares = list(tf_columns(s).values())

    def run(batches):
        for batch in batches:
            batch = batch.reset_index(drop=True)
            vectors = batch[list(s.all_comparisons)].astype(np.int8)
            scored = score(model, vectors, _tf(model, s, batch, vectors), fields=False)
            veto = batch["veto"].to_numpy(dtype=bool)
            out = batch[["l", "r"]].reset_index(drop=True)
            out["match_weight"] = scored["match_weight"].to_numpy(dtype=np.float32)
            out["match_probability"] = scored["match_probability"].to_numpy(dtype=float)
            out["decision"] = decide(scored["match_probability"].to_numpy(), veto, s)
            out["veto"], out["org_same"] = veto, batch["org_same"].to_numpy(dtype=bool)
            yield pd.concat([out, vectors, batch[shares]], axis=1)

    return run


def scored_pairs(vectors, model: FSModel, s: Settings):
    """Match weight, probability and decision of every pair (as :func:`cdq.linkage.dedupe` scores them)."""
    return vectors.mapInPandas(_score_batches(model, s), scored_schema(s))


def only(s: Settings, comparisons: tuple[str, ...]) -> Settings:
    """Settings comparing only ``comparisons`` (no extras unless named)."""
    return replace(s, comparisons=tuple(c for c in comparisons if c in s.comparisons),
                   extras=tuple(e for e in s.extras if e.name in comparisons))


def explained_pairs(scored: pd.DataFrame, ids: np.ndarray, model: FSModel, s: Settings) -> pd.DataFrame:
    """Kept scored pairs (a pandas frame from :func:`scored_pairs`) in the pandas engine's ``pairs`` layout:
    ``record_id_l/_r``, weight, probability, decision, and per comparison ``<name>_level`` / ``<name>_weight``."""
    scored = scored.reset_index(drop=True)
    vectors = scored[list(s.all_comparisons)].astype(np.int8)
    fields = score(model, vectors, _tf(model, s, scored, vectors))
    out = pd.DataFrame({"record_id_l": ids[scored["l"].to_numpy()], "record_id_r": ids[scored["r"].to_numpy()],
                        "match_weight": scored["match_weight"].to_numpy(dtype=np.float32),
                        "match_probability": scored["match_probability"].to_numpy(dtype=float),
                        "decision": pd.Categorical(scored["decision"], categories=["match", "review", "non_match"])})
    for name in vectors.columns:
        out[f"{name}_level"] = pd.Categorical.from_codes(vectors[name].to_numpy() + 1,
                                                         categories=["missing", *s.levels(name)])
        out[f"{name}_weight"] = fields[f"{name}_weight"].to_numpy()
    return out
