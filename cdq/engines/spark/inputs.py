"""Inputs and outputs of the Spark engine.

Parquet inputs are read by Spark itself (no machine holds the file): their columns are the input's headers,
mapped once on a sample (the same header recognition as ``cdq import``) and then staged and normalized per
partition with the pandas functions. Every other kind (CSV, Excel, vCard, mail: files one machine reads well)
is imported and normalized on the driver as the pandas engine does, and handed to Spark.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.columns import RAW_PREFIX
from cdq.errors import InputError

logger = logging.getLogger(__name__)

#: Rows of a Parquet input the header recognition looks at (as ``recognise`` does on a whole table).
SAMPLE_ROWS = 2000


def _text_columns(frame):
    from pyspark.sql import functions as F

    return frame.select(*[F.col(f"`{c}`").cast("string").alias(c) for c in frame.columns])


def _staging_batches(path: str, source: str, matches, columns: list[str]):
    from cdq.importers import RawTable
    from cdq.normalize import normalize
    from cdq.staging import stage

    def run(batches):
        for batch in batches:
            rows = (batch.pop("_row") + 1).astype(int).tolist()
            raw = RawTable(frame=batch.reset_index(drop=True).astype(object).where(batch.notna(), None), rows=rows,
                           source_file=path)
            staged, _ = stage(raw, source=source, matches=matches, keep_unusable=True)
            cleaned, _ = normalize(staged)
            out = cleaned.reindex(columns=columns).astype(object)
            yield out.where(out.notna(), None).map(lambda v: v if v is None or isinstance(v, str) else str(v))

    return run


def _staged_schema(sample: pd.DataFrame):
    from pyspark.sql import types as T

    return T.StructType([T.StructField(c, T.StringType(), True) for c in sample.columns])


def read_parquet(spark, path: str | Path, mapping=None):
    """A Parquet input as a normalized Spark staging frame (``record_id`` = ``<source>#<row>``)."""
    from cdq.engines.spark.records import with_row_numbers
    from cdq.importers import RawTable
    from cdq.normalize import REWRITTEN, normalize
    from cdq.staging import _default_source, _hygienic, recognise_table, stage

    try:
        frame = _text_columns(spark.read.parquet(str(path)))
    except Exception as e:  # noqa: BLE001 - Spark raises its own analysis errors for unreadable files
        raise InputError(str(path), f"cannot read as Parquet ({type(e).__name__})") from e
    head = frame.limit(SAMPLE_ROWS).toPandas()
    raw = RawTable(frame=head.astype(object).where(head.notna(), None), rows=list(range(1, len(head) + 1)),
                   source_file=str(path))
    source = mapping.source if mapping and mapping.source else _default_source(raw)
    matches = recognise_table(_hygienic(raw)[0], mapping)
    sample, _ = normalize(stage(raw, source=source, matches=matches, keep_unusable=True)[0])
    columns = list(dict.fromkeys([*sample.columns, *[f"orig:{c}" for c in REWRITTEN]]))
    numbered = with_row_numbers(frame, "_row")
    # a file gives as many tasks as it has splits (one for a 60 MB file of 1M records: normalization on one
    # core); ranges of the row number, each sorted, spread it over every core and keep the input order that
    # the records' ``idx`` is numbered in (read_inputs)
    parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    numbered = numbered.repartitionByRange(parts, "_row").sortWithinPartitions("_row")
    staged = numbered.mapInPandas(_staging_batches(str(path), source, matches, columns),
                                  _staged_schema(pd.DataFrame(columns=columns)))
    return staged


def read_inputs(spark, paths: Sequence[str | Path], mapping=None):
    """Every input as one normalized Spark staging frame with ``idx``, and the driver-side quarantine."""
    from cdq.clean import clean_files
    from cdq.engines.spark.records import from_pandas, with_row_numbers

    parquet = [p for p in paths if str(p).lower().endswith(".parquet") or (Path(p).is_dir() and
                                                                           any(Path(p).glob("*.parquet")))]
    others = [p for p in paths if p not in parquet]
    parts, quarantine = [], pd.DataFrame()
    if others:
        result = clean_files(others, mapping=mapping)
        quarantine = result.quarantine
        parts.append(from_pandas(spark, result.cleaned).drop("idx"))
    parts += [read_parquet(spark, p, mapping) for p in parquet]
    if not parts:
        raise InputError(", ".join(map(str, paths)), "no input")
    staged = parts[0]
    for part in parts[1:]:
        staged = staged.unionByName(part, allowMissingColumns=True)
    # staged per partition in Python: computed once, kept for every later step
    return with_row_numbers(staged, checkpoint=True), quarantine


def write_clusters(clusters, staging, out: Path, id_column: str | None) -> int:
    """Write ``record_id,cluster_id`` in input order, streaming (the driver holds one partition at a time)."""
    from pyspark.sql import functions as F

    if id_column:
        column = RAW_PREFIX + id_column
        if column not in staging.columns:
            from cdq.errors import UsageError

            raise UsageError(f"--id-column {id_column!r} is not a column of the input",
                             hint="use the header exactly as it is written in the file")
        ids = staging.select("idx", F.col(f"`{column}`").alias("_out"))
        clusters = clusters.join(ids, "idx").withColumn("record_id", F.col("_out"))
    rows = clusters.select("idx", "record_id", "cluster_id").orderBy("idx").toLocalIterator()
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["record_id", "cluster_id"])
        for row in rows:
            writer.writerow([row["record_id"], row["cluster_id"]])
            written += 1
    return written


def evaluate_against(clusters: pd.DataFrame, other: pd.DataFrame) -> float:
    """Pairwise F1 of one engine's ``record_id, cluster_id`` against another's (1.0 = the same clusters)."""
    from cdq.linkage.evaluate import evaluate

    a = pd.Series(clusters["cluster_id"].to_numpy(), index=clusters["record_id"].to_numpy())
    b = pd.Series(other["cluster_id"].to_numpy(), index=other["record_id"].to_numpy())
    return float(evaluate(a, b)["f1"]) if len(a) else float(np.nan)
