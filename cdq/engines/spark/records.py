"""Records on Spark: a row number per record, normalization and the linkage's prepared columns, computed per
partition with the pandas functions (``mapInPandas``), and the file-wide counts those need (Spark aggregations).

The row number ``idx`` is the record's position in the input, as in the pandas engine: the random pairs u is
estimated from are drawn on positions, so both engines draw the same ones.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.linkage.organisations import company_words
from cdq.linkage.prepare import prepare
from cdq.linkage.settings import Settings

logger = logging.getLogger(__name__)

#: Prepared columns that are not text.
_TYPED = {"first_name_variant_id": "long", "email_role": "boolean"}
_WORDS = "_company_words"


#: ``monotonically_increasing_id`` keeps the partition index above this bit and the row's position in the
#: partition below it.
_PARTITION_SHIFT = 33


def with_row_numbers(frame, column: str = "idx", *, checkpoint: bool = False):
    """``frame`` with a 0-based ``column`` in its current order (partition order, then row order).

    In the JVM (``zipWithIndex`` on ``frame.rdd`` would ship every row through Python twice: at 100k records
    that alone took minutes): one job counts the rows per partition, then each row's number is its
    partition's offset plus its position in the partition. That evaluates ``frame`` twice; with
    ``checkpoint`` it is evaluated once and kept (for a frame that is costly to compute, e.g. normalized
    per partition in Python).
    """
    from pyspark.sql import functions as F

    tagged = frame.withColumn("_mid", F.monotonically_increasing_id())
    if checkpoint:
        tagged = tagged.localCheckpoint()
    part = F.shiftright(F.col("_mid"), _PARTITION_SHIFT)
    counts = sorted((int(r["p"]), int(r["n"])) for r in
                    tagged.groupBy(part.alias("p")).agg(F.count(F.lit(1)).alias("n")).collect())
    offsets, total = [], 0
    for p, n in counts:
        offsets += [F.lit(p), F.lit(total)]
        total += n
    offset = F.element_at(F.create_map(*offsets), part) if offsets else F.lit(0)
    position = F.col("_mid") - F.shiftleft(part, _PARTITION_SHIFT)
    return tagged.withColumn(column, (offset + position).cast("long")).drop("_mid")


def from_pandas(spark, frame: pd.DataFrame, partitions: int | None = None):
    """A pandas staging frame as a Spark frame of text columns with ``idx`` = its row position."""
    from pyspark.sql import types as T

    text = frame.astype(object).where(frame.notna(), None)
    text = text.apply(lambda col: col.map(lambda v: v if v is None or isinstance(v, str) else str(v)))
    text["idx"] = np.arange(len(frame), dtype=np.int64)
    fields = [T.StructField(str(c), T.StringType(), True) for c in frame.columns]
    schema = T.StructType(fields + [T.StructField("idx", T.LongType(), False)])
    out = spark.createDataFrame(text, schema)
    return out.repartition(partitions, "idx") if partitions else out


def prepared_columns(s: Settings) -> list[str]:
    """The columns :func:`cdq.linkage.prepare.prepare` derives, in its order (extras last)."""
    sample = prepare(pd.DataFrame({"first_name": ["x"]}), s.extras)
    return list(sample.columns)


def _prepared_schema(s: Settings):
    from pyspark.sql import types as T

    fields = [T.StructField("idx", T.LongType(), False), T.StructField("record_id", T.StringType(), True)]
    for name in prepared_columns(s):
        kind = {"long": T.LongType(), "boolean": T.BooleanType()}.get(_TYPED.get(name, ""), T.StringType())
        fields.append(T.StructField(name, kind, True))
    fields.append(T.StructField(_WORDS, T.ArrayType(T.StringType()), True))
    fields.append(T.StructField("source", T.StringType(), True))
    return T.StructType(fields)


def _prepare_batches(s: Settings):
    columns = prepared_columns(s)

    def run(batches):
        for batch in batches:
            frame = batch.reset_index(drop=True)
            out = prepare(frame, s.extras)[columns]
            out.insert(0, "record_id", frame["record_id"].astype(object) if "record_id" in frame else None)
            out.insert(0, "idx", frame["idx"].to_numpy(dtype=np.int64))
            names = frame["company_name"] if "company_name" in frame else pd.Series([None] * len(frame))
            out[_WORDS] = [list(company_words(v)) or None if isinstance(v, str) else None for v in names]
            out["email_role"] = out["email_role"].astype(bool)
            # the source system, as the pandas engine's place_moved_locations reads it (str() of the value)
            out["source"] = frame["source"].astype(str).to_numpy(dtype=object) if "source" in frame else None
            yield out

    return run


def prepare_records(staging, s: Settings):
    """The prepared columns of every record (``idx``, ``record_id`` and :func:`prepared_columns`).

    Per partition with :func:`cdq.linkage.prepare.prepare`; the one file-wide column, ``company_rare`` (the
    organisation name's least frequent word in the file), is recomputed from word counts over all records.
    """

    prepared = staging.mapInPandas(_prepare_batches(s), _prepared_schema(s))
    return _with_rarest_word(prepared).drop(_WORDS)


def _with_rarest_word(prepared):
    """``company_rare`` as :func:`cdq.linkage.prepare._rarest_word` gives it: each record's word of 3+ letters
    counted in the fewest records' names (a record counts a word once), ties to the earlier word."""
    from pyspark.sql import functions as F

    words = prepared.select("idx", F.posexplode(_WORDS).alias("pos", "word"))
    counts = (prepared.select(F.explode(F.array_distinct(_WORDS)).alias("word"))
              .groupBy("word").agg(F.count(F.lit(1)).alias("records")))
    best = (words.where(F.length("word") >= 3).join(counts, "word")
            .groupBy("idx").agg(F.min(F.struct("records", "pos", "word")).alias("best"))
            .select("idx", F.col("best.word").alias("_rare")))
    return (prepared.join(best, "idx", "left").withColumn("company_rare", F.col("_rare")).drop("_rare"))


def tf_columns(s: Settings) -> dict[str, str]:
    """Term-frequency comparison -> the Spark column holding the share of the record's value among records."""
    return {c: f"tf__{c}" for c in sorted(s.tf_comparisons) if c in s.all_comparisons}


def with_value_shares(prepared, s: Settings):
    """Per term-frequency comparison, the share of each record's value among the records that have one
    (what :func:`cdq.linkage.model.tf_adjustments` counts), from one aggregation per column."""
    from pyspark.sql import functions as F

    tf = tf_columns(s)
    if not tf:
        return prepared
    columns = {comparison: s.tf_column(comparison) for comparison in tf}
    totals = prepared.agg(*[F.count(F.col(c)).alias(k) for k, c in columns.items()]).first()
    out = prepared
    for comparison, name in tf.items():
        column = columns[comparison]
        shares = (prepared.where(F.col(column).isNotNull()).groupBy(column)
                  .agg((F.count(F.lit(1)) / F.lit(max(int(totals[comparison]), 1))).alias(name)))
        out = out.join(shares, column, "left")
    return out
