"""``cdq dedupe --engine spark`` as one library call: read, normalize, match, cluster, write."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdq.errors import InputError

logger = logging.getLogger(__name__)


@dataclass
class SparkDedupeSummary:
    """What ``dedupe_files`` did: counts, the blocking report, warnings and the quarantine (driver-read inputs)."""

    records: int
    clusters: int
    matches: int
    review: int
    report: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def dedupe_files(inputs: Sequence[str | Path], out: Path, *, id_column: str | None = None, mapping=None,
                 master: str | None = None, model=None, settings=None, workdir: str | Path | None = None,
                 progress: Callable | None = None, conf: dict[str, str] | None = None) -> SparkDedupeSummary:
    """Import, normalize, match and cluster ``inputs`` on Spark; write ``record_id,cluster_id`` to ``out``.

    Args:
        inputs: files as ``cdq dedupe`` takes them; Parquet files are read by Spark itself.
        out: the clusters CSV (same columns and order as the pandas engine's).
        master: Spark master URL (default: the active session, ``CDQ_SPARK_MASTER`` or ``local[*]``).
        workdir: keep the Parquet intermediates here (default: a temporary folder, removed afterwards).
    """
    from pyspark.sql import functions as F

    from cdq.engines.spark.inputs import read_inputs, write_clusters
    from cdq.engines.spark.linkage import dedupe
    from cdq.engines.spark.session import spark_session

    spark = spark_session(master, conf)
    staging, quarantine = read_inputs(spark, inputs, mapping)  # kept (checkpointed) by read_inputs
    if staging.limit(1).count() == 0:
        raise InputError(", ".join(map(str, inputs)), "no records to match (the input has no data rows)")
    result = dedupe(staging, settings, progress, model=model, workdir=workdir)
    try:
        written = write_clusters(result.clusters, staging, out, id_column)
        decisions = {r["decision"]: int(r["count"]) for r in
                     result.pairs.groupBy("decision").count().collect()}
        clusters = result.clusters.select(F.countDistinct("cluster_id")).first()[0]
    finally:
        result.close()
    return SparkDedupeSummary(written, int(clusters), decisions.get("match", 0), decisions.get("review", 0),
                              result.report, quarantine, result.warnings)
