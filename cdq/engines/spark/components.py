"""Clusters on Spark: connected components by the large-star / small-star algorithm in Spark SQL (Kiveris et
al., "Connected Components in MapReduce and Beyond", 2014; no GraphFrames), then the pandas engine's guarded
clustering per component.

The guarded clustering (:func:`cdq.linkage._cluster`: cannot-link vetoes, the chain check, the birth-date
guard) only ever splits a component of match edges; a component of two records has nothing to split. So only
components of three or more records are sent, many per task, to the very same function.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cdq.engines.spark.records import prepared_columns
from cdq.linkage import _cluster
from cdq.linkage.locations import place_moved_locations
from cdq.linkage.settings import Settings

logger = logging.getLogger(__name__)

#: Rounds of large-star + small-star before giving up (each round at least halves the depth of the forest).
MAX_ROUNDS = 64
#: Records (of components of three or more) one guarded-clustering group holds at most, about: a group is one
#: pandas frame in a Python worker (its records' prepared columns and their pairs), so the number of groups
#: grows with the input rather than each group.
GUARD_RECORDS = 50_000


def _large_star(edges):
    """Each node's larger neighbours are linked to the smallest node of its neighbourhood."""
    from pyspark.sql import functions as F

    both = edges.select("a", "b").unionByName(edges.select(F.col("b").alias("a"), F.col("a").alias("b")))
    smallest = both.groupBy("a").agg(F.least(F.min("b"), F.first("a")).alias("m"))
    return (both.join(smallest, "a").where(F.col("b") > F.col("a"))
            .select(F.col("b").alias("a"), F.col("m").alias("b")).distinct())


def _small_star(edges):
    """Each node and its smaller neighbours are linked to the smallest of them (edges stored as a > b)."""
    from pyspark.sql import functions as F

    smallest = edges.groupBy("a").agg(F.min("b").alias("m"))
    linked = edges.join(smallest, "a")
    out = linked.select(F.col("b").alias("x"), "m").unionByName(linked.select(F.col("a").alias("x"), "m"))
    return (out.where(F.col("x") != F.col("m"))
            .select(F.greatest("x", "m").alias("a"), F.least("x", "m").alias("b")).distinct())


def components(edges):
    """``(node, label)`` for every node on an edge ``(l, r)``: label = the smallest node of its component."""
    from pyspark.sql import functions as F

    current = (edges.where(F.col("l") != F.col("r"))
               .select(F.greatest("l", "r").alias("a"), F.least("l", "r").alias("b")).distinct().localCheckpoint())
    for round_ in range(1, MAX_ROUNDS + 1):
        current = _small_star(_large_star(current)).localCheckpoint()
        # a star forest: every node points at a root, and no root points anywhere
        roots = current.select(F.col("b").alias("a")).distinct()
        deeper = current.join(roots, "a").limit(1).count()
        several = current.groupBy("a").count().where(F.col("count") > 1).limit(1).count()
        if not deeper and not several:
            logger.info("spark: connected components after %d round(s)", round_)
            break
    else:
        raise RuntimeError(f"connected components did not converge in {MAX_ROUNDS} rounds")
    roots = current.select(F.col("b").alias("node"), F.col("b").alias("label")).distinct()
    return current.select(F.col("a").alias("node"), F.col("b").alias("label")).unionByName(roots)


def _guard_schema():
    from pyspark.sql import types as T

    return T.StructType([T.StructField("idx", T.LongType(), False), T.StructField("label", T.LongType(), False)])


def _guard_groups(s: Settings, columns: list[str]):
    def run(records: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
        if records.empty:
            return pd.DataFrame({"idx": [], "label": []}, dtype=np.int64)
        records = records.sort_values("idx").reset_index(drop=True)
        order = records["idx"].to_numpy(dtype=np.int64)
        pairs = pairs.sort_values(["l", "r"]).reset_index(drop=True)  # sorted codes: the chain check looks up
        l = np.searchsorted(order, pairs["l"].to_numpy(dtype=np.int64))
        r = np.searchsorted(order, pairs["r"].to_numpy(dtype=np.int64))
        labels = _cluster(records[columns], l, r, pairs["match_weight"].to_numpy(dtype=np.float32),
                          pairs["decision"].to_numpy(dtype=object) == "match", pairs["veto"].to_numpy(dtype=bool), s)
        return pd.DataFrame({"idx": order, "label": order[labels]})

    return run


def guarded_labels(records, scored, s: Settings, partitions: int):
    """Cluster label (the row number of the cluster's first record) per record, as the pandas engine's."""
    from pyspark.sql import functions as F

    matched = components(scored.where(F.col("decision") == "match").select("l", "r")).localCheckpoint()
    sizes = matched.groupBy("label").agg(F.count(F.lit(1)).alias("size"))
    big = matched.join(sizes.where(F.col("size") >= 3), "label").select("node", "label").localCheckpoint()
    buckets = max(partitions, -(-big.count() // GUARD_RECORDS))
    members = (records.join(big.withColumnRenamed("node", "idx"), "idx")
               .withColumn("bucket", F.pmod(F.xxhash64("label"), F.lit(buckets))))
    node_l = big.select(F.col("node").alias("l"), F.col("label").alias("cl"))
    node_r = big.select(F.col("node").alias("r"), F.col("label").alias("cr"))
    inside = (scored.select("l", "r", "match_weight", "decision", "veto").join(node_l, "l").join(node_r, "r")
              .where(F.col("cl") == F.col("cr")).withColumn("bucket", F.pmod(F.xxhash64("cl"), F.lit(buckets)))
              .drop("cl", "cr"))
    columns = prepared_columns(s)
    guarded = (members.select("idx", "bucket", *columns).groupBy("bucket")
               .cogroup(inside.groupBy("bucket")).applyInPandas(_guard_groups(s, columns), _guard_schema()))
    small = matched.join(sizes.where(F.col("size") < 3), "label").select(F.col("node").alias("idx"), "label")
    return guarded.unionByName(small)


def organisation_labels(records, scored, labels):
    """The organisation group of each record with an organisation (see :func:`cdq.linkage.organisation_ids`):
    components of the same-organisation pairs plus each organisation record's link to its cluster."""
    from pyspark.sql import functions as F

    company = records.where(F.col("company_key").isNotNull()).select("idx")
    to_cluster = company.join(labels, "idx").select(F.col("idx").alias("l"), F.col("label").alias("r"))
    edges = scored.where("org_same").select("l", "r").unionByName(to_cluster)
    groups = components(edges).withColumnRenamed("node", "idx")
    groups = records.select("idx", F.col("company_key").isNotNull().alias("has")).join(groups, "idx", "left")
    groups = groups.withColumn("group", F.coalesce("label", "idx"))
    has = groups.groupBy("group").agg(F.max(F.col("has").cast("int")).alias("has_org"))
    return groups.join(has, "group").select("idx", F.when(F.col("has_org") == 1, F.col("group")).alias("org"))


def _moved_groups(records: pd.DataFrame) -> pd.DataFrame:
    records = records.sort_values("idx").reset_index(drop=True)
    phones = pd.factorize(records["phone"])[0].astype(np.int64)
    labels = place_moved_locations(records["label"].to_numpy(dtype=np.int64), records["org"].to_numpy(dtype=object),
                                   np.ones(len(records), dtype=bool), records["source"].to_numpy(dtype=object), phones)
    return pd.DataFrame({"idx": records["idx"].to_numpy(dtype=np.int64), "moved": labels.astype(np.int64)})


def place_moved(records, labels, orgs):
    """Labels with each lone branch record joined to the one branch of its organisation it can be
    (:func:`cdq.linkage.locations.place_moved_locations`, per organisation)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    branch = F.col("company_key").isNotNull() & F.col("surname_core").isNull() & F.col("initials").isNull()
    rows = (records.where(branch).select("idx", "source", "phone").join(labels, "idx").join(orgs, "idx")
            .where(F.col("org").isNotNull()))
    schema = T.StructType([T.StructField("idx", T.LongType(), False), T.StructField("moved", T.LongType(), False)])
    moved = rows.groupBy("org").applyInPandas(_moved_groups, schema)
    return (labels.join(moved, "idx", "left").select("idx", F.coalesce("moved", "label").alias("label")))
