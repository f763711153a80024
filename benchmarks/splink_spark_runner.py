"""Run Splink 5 on its Spark backend on one Parquet file, configured as its Spark demo does
(``docs/demos/examples/spark/deduplicate_1k_synthetic``): Splink's bundled similarity jar, a checkpoint folder,
``SparkAPI``, the deterministic-rules prior, u from random pairs, EM per training rule, predict, then clusters at
a match probability of 0.95.

Run with the Spark benchmark venv (benchmark-only, not a cdq dependency)::

    python3.11 -m venv .venv-bench-spark && .venv-bench-spark/bin/pip install "splink[spark]==5.0.0" "pandas<3"
    .venv-bench-spark/bin/python benchmarks/splink_spark_runner.py IN.parquet OUT.csv [MASTER]

The input has the columns ``unique_id, first_name, surname, dob, postcode, city, email`` (``bench_spark.py``
writes them from cdq's prepared columns, as ``bench_linkage.py`` does for Splink on DuckDB); the comparisons and
blocking rules are the generic ones of ``splink_runner.py``. Prints ``seconds`` (session start to clusters
written) on the last line.
"""

import os
import sys
import tempfile
import time

#: The driver and executor bounds cdq's Spark engine runs with in the same benchmark (bench_spark.py).
MEMORY = {"spark.driver.memory": "2g", "spark.executor.memory": "3g"}


def _session(master: str, checkpoints: str):
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    conf = SparkConf().setMaster(master).setAppName("splink-bench")
    for key, value in MEMORY.items():
        conf.set(key, value)
    conf.set("spark.default.parallelism", os.environ.get("SPLINK_PARALLELISM", "16"))
    conf.set("spark.sql.shuffle.partitions", os.environ.get("SPLINK_PARALLELISM", "16"))
    conf.set("spark.sql.codegen.wholeStage", "false")  # as Splink's Spark demo sets it
    conf.set("spark.jars", similarity_jar_location())  # Splink's bundled jaro-winkler etc.
    conf.set("spark.ui.enabled", "false")
    spark = SparkSession(SparkContext.getOrCreate(conf=conf))
    spark.sparkContext.setCheckpointDir(checkpoints)
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def main(src: str, out: str, master: str = "local[2]") -> None:
    from splink import Linker, SettingsCreator, SparkAPI
    from splink_runner import GENERIC_COLUMNS, generic_model, train

    start = time.time()
    spark = _session(master, tempfile.mkdtemp(prefix="splink-checkpoints-"))
    df = spark.read.parquet(src)
    present = [c for c in GENERIC_COLUMNS if df.where(df[c].isNotNull()).limit(1).count()]
    comparisons, rules = generic_model(present)
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=rules)
    api = SparkAPI(spark_session=spark)
    linker = Linker(api.register(df), settings, log_level=40)
    train(linker, rules)
    pairs = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, 0.95).as_spark_dataframe()
    clusters.select(clusters["unique_id"].alias("record_id"), "cluster_id").toPandas().to_csv(out, index=False)
    print(f"{time.time() - start:.2f}")
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
