"""``dedupe`` on Spark: prepare → block → compare → train (EM on pattern counts) → score → cluster, the
pandas engine's model and rules, with the driver holding only counts, patterns and small samples.

Intermediates (``prepared``, ``comparison_vectors``, ``scored_pairs``, ``clusters``) are
Parquet in ``workdir`` (a temporary folder unless one is given), so each is computed once and can be inspected.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cdq.engines.spark.blocking import blocked, with_new_pairs
from cdq.engines.spark.components import guarded_labels, organisation_labels, place_moved
from cdq.engines.spark.pairs import (
    comparison_vectors,
    explained_pairs,
    local_records,
    only,
    pattern_counts,
    scored_pairs,
)
from cdq.engines.spark.records import from_pandas, prepare_records, prepared_columns, with_value_shares
from cdq.engines.spark.within import compared_within_blocks
from cdq.linkage import (
    _VALUE_COLUMNS,
    DISTINCT_U_PAIRS,
    KEEP_MIN_PROBABILITY,
    LinkageResult,
    _random_pairs,
    train_on_patterns,
    u_from_random_pairs,
    u_sample_size,
    u_settings,
)
from cdq.linkage.checks import check_input
from cdq.linkage.compare import compare
from cdq.linkage.model import FSModel, level_distribution
from cdq.linkage.settings import Settings, load_settings
from cdq.log import ProgressLog

logger = logging.getLogger(__name__)
_STEPS = 6
#: Records a sample for the input checks holds (the checks look for columns that carry values).
CHECK_SAMPLE = 10_000


@dataclass
class SparkLinkageResult:
    """Clusters (a Spark frame: ``idx, record_id, cluster_id, organisation_id``), scored pairs (Spark), the
    blocking report and the model, like :class:`cdq.linkage.LinkageResult`; the frames live in ``workdir``."""

    clusters: Any
    pairs: Any
    report: pd.DataFrame
    model: FSModel
    workdir: Path
    counts: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _owned: bool = False

    def close(self) -> None:
        """Delete the intermediates (when the workdir was a temporary one)."""
        if self._owned:
            shutil.rmtree(self.workdir, ignore_errors=True)


def _parquet(frame, workdir: Path, name: str):
    path = str(workdir / name)
    frame.write.mode("overwrite").parquet(path)
    return frame.sparkSession.read.parquet(path)


def _random_vectors(records, n: int, s: Settings):
    """Pattern counts of the random pairs u is estimated from (the pandas engine's pairs, by row number)."""
    size = u_sample_size(n, s)
    l, r = _random_pairs(n, size, s.seed)
    spark = records.sparkSession
    pairs = spark.createDataFrame(pd.DataFrame({"l": l.astype(np.int64), "r": r.astype(np.int64)}))
    settings = u_settings(s)
    counted = pattern_counts(comparison_vectors(pairs, records, settings), settings.all_comparisons)
    return counted, len(l), size


def _distinct_u(records, s: Settings, size: int) -> dict[str, list[float]]:
    """u of ``u_distinct`` comparisons from random pairs of records with different values, one record per
    value (the first in input order), as :func:`cdq.linkage._distinct_value_u`; only those records reach
    the driver (at most ``2 * DISTINCT_U_PAIRS`` per comparison)."""
    from pyspark.sql import functions as F

    out: dict[str, list[float]] = {}
    columns = prepared_columns(s)
    for name in sorted(s.u_distinct & set(s.comparisons)):
        column = _VALUE_COLUMNS.get(name, name)
        first = (records.where(F.col(column).isNotNull()).groupBy(column).agg(F.min("idx").alias("idx"))
                 .select("idx").toPandas()["idx"].to_numpy(dtype=np.int64))
        rows = np.sort(first)
        if len(rows) < 2:
            continue
        k = len(rows)
        l, r = _random_pairs(k, min(size, k * (k - 1), DISTINCT_U_PAIRS), s.seed)
        needed = records.sparkSession.createDataFrame(pd.DataFrame({"idx": np.unique(np.r_[rows[l], rows[r]])}))
        local = records.join(F.broadcast(needed), "idx").select("idx", *columns).toPandas()
        batch = pd.DataFrame({"l": rows[l], "r": rows[r]})
        batch = batch.merge(local.add_prefix("l_").rename(columns={"l_idx": "l"}), on="l")
        batch = batch.merge(local.add_prefix("r_").rename(columns={"r_idx": "r"}), on="r")
        batch = batch.set_index(pd.Index(np.arange(len(batch)))).loc[:, :]
        frame, ll, rr = local_records(batch, columns)
        vectors = compare(frame, ll, rr, only(s, (name,)))
        out[name] = level_distribution(vectors, {name: len(s.levels(name))}, smoothing=0.1)[name]
    return out


def _train(records, vectors, n: int, s: Settings) -> FSModel:
    """The pandas engine's training (:func:`cdq.linkage.train_on_patterns`) on pattern counts."""
    counted = pattern_counts(vectors, s.all_comparisons, ("veto",))
    clean = counted[~counted["veto"]]
    train = clean if clean["count"].sum() >= 100 else counted
    grouped = (train.groupby(list(s.all_comparisons), sort=True)["count"].sum().reset_index())
    random_counts, n_random, size = _random_vectors(records, n, s)
    comparisons = [c for c in random_counts.columns if c != "count"]
    u = u_from_random_pairs(random_counts[comparisons], random_counts["count"].to_numpy(dtype=float), n, n_random,
                            _distinct_u(records, s, size), s)
    patterns = grouped[list(s.all_comparisons)].astype(np.int64)
    return train_on_patterns(patterns, grouped["count"].to_numpy(dtype=float), u, n, s)


def _without_contradicted_vetoes(vectors, s: Settings) -> Settings:
    """:func:`cdq.linkage.vetoes.without_contradicted_vetoes` over the Spark vectors: the patterns (with their
    counts) of the pairs the check looks at (those at a checkable rule's vetoed level that agree on the rest)
    reach the driver, not the pairs: household members are such pairs, about one per few records, so
    collecting them grew the driver's Python with the input."""
    from functools import reduce
    from operator import or_

    from pyspark.sql import functions as F

    from cdq.linkage.vetoes import veto_checks, without_contradicted_vetoes

    conditions = []
    for name, (vetoed, others) in veto_checks(s, vectors.columns).items():
        condition = F.col(name).isin(vetoed)
        for other, lowest in others.items():
            condition &= F.col(other) >= lowest
        conditions.append(condition)
    if not conditions:
        return s
    levels = tuple(c for c in s.all_comparisons if c in vectors.columns)
    patterns = pattern_counts(vectors.where(reduce(or_, conditions)), levels)
    return without_contradicted_vetoes(patterns[list(levels)], s, patterns["count"].to_numpy(dtype=np.int64))


def _check(staging, s: Settings) -> list[str]:
    """The pandas engine's input checks on a sample (which linkage columns carry values)."""
    sample = staging.limit(CHECK_SAMPLE).toPandas()
    return check_input(sample, s)


def dedupe(staging, settings: Settings | None = None, progress: Callable | None = None, *,
           model: FSModel | None = None, workdir: str | Path | None = None,
           partitions: int | None = None) -> SparkLinkageResult:
    """Find duplicate records within a Spark staging frame, as :func:`cdq.linkage.dedupe` does.

    Args:
        staging: Spark frame of canonical staging columns, ``record_id`` and ``idx`` (the record's 0-based
            position in the input: :func:`cdq.engines.spark.records.with_row_numbers` adds it).
        settings: resolved settings (default: ``rules/matching.yaml``).
        progress: optional ``(done, total)`` callback per stage.
        model: a trained model to reuse (skips EM).
        workdir: where the Parquet intermediates go (default: a temporary folder, see ``close``).
        partitions: tasks per stage (default: ``spark.sql.shuffle.partitions``).
    """
    s = settings or load_settings()
    spark = staging.sparkSession
    partitions = partitions or int(spark.conf.get("spark.sql.shuffle.partitions"))
    owned = workdir is None
    work = Path(tempfile.mkdtemp(prefix="cdq-spark-")) if workdir is None else Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    step = ProgressLog(logger, "spark linkage", _STEPS, progress=progress)
    _check(staging, s)
    # prepared (Python, per partition) and kept before the value shares: their aggregations and joins would
    # otherwise each recompute the preparation (five times with four term-frequency columns)
    prepared = _parquet(prepare_records(staging, s), work, "prepared_columns")
    records = _parquet(with_value_shares(prepared, s).repartition(partitions, "idx"), work, "prepared")
    n = records.count()
    step(1)
    blocks, rows = blocked(records, s)
    step(2)
    vectors = _parquet(compared_within_blocks(blocks, records, s, partitions), work, "comparison_vectors")
    checked = _without_contradicted_vetoes(vectors, s)
    if checked is not s:  # a cannot-link rule this file contradicts: its vetoes again without it, as pandas does
        s = checked
        vectors = _parquet(compared_within_blocks(blocks, records, s, partitions), work, "comparison_vectors_checked")
    report = with_new_pairs(rows, {int(r["first"]): int(r["count"])
                                   for r in vectors.groupBy("first").count().collect()}, n)
    step(3)
    if model is None:
        model = _train(records, vectors, n, s)
    else:
        from cdq.linkage.training import check_model

        check_model(model, s)
    step(4)
    scored = _parquet(scored_pairs(vectors, model, s), work, "scored_pairs")
    step(5)
    clusters = _parquet(_clusters(records, scored, s, partitions), work, "clusters")
    step(6)
    counts = {"records": n, "pairs": int(report["pairs"].iloc[-1])}
    logger.info("spark linkage: %d records, %d pairs", n, counts["pairs"])
    warnings = [f"{model.meta['why']}: scored with the rules' prior model"] if model.meta.get("why") else []
    return SparkLinkageResult(clusters, scored, report, model, work, counts, warnings, owned)


def _clusters(records, scored, s: Settings, partitions: int):
    """``idx, record_id, cluster_id, organisation_id`` for every record."""
    from pyspark.sql import functions as F

    grouped = guarded_labels(records, scored, s, partitions)
    labels = (records.select("idx").join(grouped, "idx", "left")
              .select("idx", F.coalesce("label", "idx").alias("label"))).localCheckpoint()
    orgs = organisation_labels(records, scored, labels).localCheckpoint()
    if records.where(F.col("source").isNotNull()).limit(1).count():  # the pandas engine needs a source column
        labels = place_moved(records, labels, orgs)
    ids = records.select(F.col("idx").alias("_i"), F.col("record_id").alias("_id"))
    out = (records.select("idx", "record_id").join(labels, "idx").join(orgs, "idx")
           .join(ids.withColumnRenamed("_id", "cluster_id"), F.col("label") == F.col("_i")).drop("_i")
           .join(ids.withColumnRenamed("_id", "organisation_id"), F.col("org") == F.col("_i"), "left").drop("_i"))
    return out.select("idx", "record_id", "cluster_id", "organisation_id")


def dedupe_frame(frame: pd.DataFrame, settings: Settings | None = None, progress: Callable | None = None, *,
                 model: FSModel | None = None, master: str | None = None) -> LinkageResult:
    """:func:`cdq.linkage.dedupe` on Spark for a pandas staging frame (a pipeline's batch): the same
    :class:`cdq.linkage.LinkageResult`, the pairs as the pandas engine keeps them (matches, review and pairs
    of probability >= ``KEEP_MIN_PROBABILITY``); matches the guarded clustering kept apart go to review."""
    from pyspark.sql import functions as F

    from cdq.engines.spark.session import spark_session

    spark = spark_session(master)
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    staging = frame.reset_index(drop=True)
    if "record_id" not in staging.columns:
        staging = staging.assign(record_id=np.arange(len(staging)).astype(str))
    result = dedupe(from_pandas(spark, staging, partitions), settings, progress, model=model, partitions=partitions)
    try:
        s = settings or load_settings()
        clusters = result.clusters.toPandas().sort_values("idx").reset_index(drop=True)
        label = clusters["cluster_id"].to_numpy(dtype=object)
        kept = result.pairs.where((F.col("decision") != "non_match") |
                                  (F.col("match_probability") >= KEEP_MIN_PROBABILITY)).toPandas()
        ids = clusters["record_id"].to_numpy(dtype=object)
        pairs = explained_pairs(kept, ids, result.model, s)
        split = (pairs["decision"] == "match").to_numpy() & (label[kept["l"]] != label[kept["r"]])
        pairs.loc[split, "decision"] = "review"
    finally:
        result.close()
    return LinkageResult(pairs, clusters.drop(columns="idx"), result.report, result.model, result.warnings)
