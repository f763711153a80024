"""The Spark engine gives the pandas engine's clusters (issue 24).

Needs PySpark (``cdq[spark]``) and a Java runtime: under ``CI=true`` a missing one fails, elsewhere the tests
skip. One ``local[2]`` session serves every test of the run (starting Spark costs seconds).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO, need

SMALL = 1_500
pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark():
    need(importlib.util.find_spec("pyspark") is not None, 'PySpark (pip install "cdq[spark]")')
    from cdq.engines.spark import java_available, spark_session

    need(java_available(), "a Java runtime for Spark")
    session = spark_session("local[2]", {"spark.sql.shuffle.partitions": "2", "spark.default.parallelism": "2"})
    yield session
    session.stop()


def _both(spark, staging: pd.DataFrame, settings=None):
    """(pandas result, Spark clusters as pandas, Spark result) of one staging frame."""
    from cdq.engines.spark import dedupe as spark_dedupe
    from cdq.engines.spark.records import from_pandas
    from cdq.linkage import dedupe

    expected = dedupe(staging, settings)
    result = spark_dedupe(from_pandas(spark, staging, 2), settings, partitions=2)
    try:
        got = result.clusters.toPandas().sort_values("idx").reset_index(drop=True)
    finally:
        result.close()
    return expected, got, result


def _pairwise_f1(a: pd.DataFrame, b: pd.DataFrame) -> float:
    from cdq.engines.spark.inputs import evaluate_against

    return evaluate_against(a, b)


def _assert_same(expected, got, result) -> None:
    assert _pairwise_f1(got, expected.clusters) >= 0.999
    # the same model to the bit: EM sums the same pattern counts in the same order
    assert result.model.m == expected.model.m and result.model.u == expected.model.u
    assert result.model.prior == expected.model.prior
    same = expected.clusters.set_index("record_id").loc[got["record_id"]]
    assert (same["cluster_id"].to_numpy() == got["cluster_id"].to_numpy()).all()
    orgs = same["organisation_id"].fillna("-").to_numpy() == got["organisation_id"].fillna("-").to_numpy()
    assert orgs.all()
    blocking = ["pass", "pairs", "new_pairs", "blocks", "largest_block", "refined_blocks", "skipped_blocks"]
    pd.testing.assert_frame_equal(result.report[blocking].fillna(-1), expected.report[blocking].fillna(-1),
                                  check_dtype=False)


@pytest.mark.slow  # a whole dedupe on Spark (about a minute of both cores' JVM time): .ci/run's second step, with
# the labelled sets; the default run keeps the blocking equality, the components and the engine option
def test_synthetic_dutch_customers_cluster_as_on_pandas(spark):
    from cdq.synthetic import generate_records

    staging = generate_records(SMALL, seed=3).drop(columns=["entity_id"])
    expected, got, result = _both(spark, staging)
    assert expected.clusters["cluster_id"].nunique() < len(staging)  # there are duplicates to find
    _assert_same(expected, got, result)


@pytest.mark.slow  # a Spark job of its own on the session's JVM: .ci/run's second step (beside the synthetic
# customers' equality with pandas, which goes through the same blocking passes)
def test_refined_and_windowed_blocks_as_on_pandas(spark):
    """Oversized blocks: a tiny limit forces refinement (and skipped blocks) and the company window."""
    from dataclasses import replace

    from cdq.linkage.settings import load_settings
    from cdq.synthetic import generate_records

    staging = generate_records(600, seed=11).drop(columns=["entity_id"])
    staging.loc[::3, "company_name"] = "Bakkerij De Vries B.V."
    settings = load_settings()
    settings = replace(settings, max_block_size=4, refine=("first_initial", "birth_year"))
    expected, got, result = _both(spark, staging, settings)
    assert (expected.report["refined_blocks"].fillna(0) > 0).any()
    assert (expected.report["windowed_blocks"].fillna(0) > 0).any()
    _assert_same(expected, got, result)


@pytest.mark.slow  # 17-25 s of Spark jobs on two cores: .ci/run's second step (the default run keeps the
# JVM out entirely, so it stays under 4 minutes)
def test_blocks_split_after_a_pass_key_among_the_refine_keys_as_on_pandas(spark):
    """An oversized block whose pass already has a refine key (birth year) is split by the next one (first
    initial): two blocks of three, six pairs, not one block of six (historical_50k lost this: the block keys
    differed only after the kept key's marker, and a C-string hash ended them there). The candidate pairs of
    both engines, without the rest of a dedupe (a few Spark jobs)."""
    from dataclasses import replace

    from cdq.engines.spark.blocking import blocked
    from cdq.engines.spark.records import from_pandas, prepare_records, with_value_shares
    from cdq.engines.spark.within import compared_within_blocks
    from cdq.linkage.block import candidate_pairs
    from cdq.linkage.prepare import prepare
    from cdq.linkage.settings import load_settings
    from cdq.synthetic import generate_records

    staging = generate_records(200, seed=4).drop(columns=["entity_id"])
    block = pd.DataFrame({"first_name": ["Anna", "Anne", "Annie", "Bert", "Bart", "Bert"],
                          "last_name": ["Jansen"] * 6, "birth_date": [f"1980-01-0{d}" for d in range(1, 7)]})
    staging = pd.concat([staging, block], ignore_index=True)
    staging["record_id"] = [f"r{i}" for i in range(len(staging))]
    s = replace(load_settings(), passes=(("surname_year", ("surname_phonetic", "birth_year"), 4, None, None),),
                refine=("birth_year", "first_initial"))
    l, r, _ = candidate_pairs(prepare(staging, s.extras), s.passes, s.max_block_size, refine=s.refine)
    records = with_value_shares(prepare_records(from_pandas(spark, staging, 2), s), s).localCheckpoint()
    blocks, _ = blocked(records, s)
    got = compared_within_blocks(blocks, records, s, 2).select("l", "r").toPandas()
    last = set(range(len(staging) - 6, len(staging)))
    assert sum(a in last and b in last for a, b in zip(l.tolist(), r.tolist())) == 6  # 3 + 3 records
    assert sorted(zip(got["l"].tolist(), got["r"].tolist())) == sorted(zip(l.tolist(), r.tolist()))


@pytest.mark.slow  # 17-25 s of Spark jobs on two cores: .ci/run's second step (the default run keeps the
# JVM out entirely, so it stays under 4 minutes)
def test_a_window_block_larger_than_a_batch_streams_with_the_pandas_pairs(spark, monkeypatch):
    """A window pass's oversized block has no size limit (a common first word of company names: 20,000
    records at 1M); a task compares it as it streams in, the last ``window`` ranks kept for the next batch.
    Batches of 50 rows and a stream threshold of 20 put a 200-record block over several batches; the
    candidate pairs equal the pandas engine's (an earlier pass's pairs are still left to it)."""
    from dataclasses import replace

    from cdq.engines.spark import within
    from cdq.engines.spark.blocking import blocked
    from cdq.engines.spark.records import from_pandas, prepare_records, with_value_shares
    from cdq.linkage.block import candidate_pairs
    from cdq.linkage.prepare import prepare
    from cdq.linkage.settings import load_settings
    from cdq.synthetic import generate_records

    staging = generate_records(600, seed=11).drop(columns=["entity_id"])
    staging.loc[::3, "company_name"] = "Bakkerij De Vries B.V."
    staging.loc[:59, "postcode"] = "1234AB"  # an earlier pass that makes some of the block's pairs first
    s = replace(load_settings(), passes=(("postcode", ("postcode",), 40, 2, None),
                                         ("company", ("company_key",), 4, 3, None)), refine=())
    l, r, _ = candidate_pairs(prepare(staging, s.extras), s.passes, s.max_block_size, refine=s.refine)
    monkeypatch.setattr(within, "STREAM_ROWS", 20)
    batch = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "50")
    try:
        records = with_value_shares(prepare_records(from_pandas(spark, staging, 2), s), s).localCheckpoint()
        blocks, rows = blocked(records, s)
        got = within.compared_within_blocks(blocks, records, s, 2).select("l", "r").toPandas()
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", batch)
    assert rows[1]["largest_block"] >= 200 and rows[0]["largest_block"] >= 60  # both passes windowed
    assert sorted(zip(got["l"].tolist(), got["r"].tolist())) == sorted(zip(l.tolist(), r.tolist()))


@pytest.mark.slow  # a Spark job of its own on the session's JVM: .ci/run's second step (a labelled set, like the
# acceptance runs below)
@pytest.mark.shared_data
def test_fake_1000_clusters_as_on_pandas(spark, shared_data):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench_linkage as bench

    from cdq.linkage.settings import load_settings

    data = bench.load_fake1000(shared_data)
    staging, extras, _ = bench._staging(data)
    expected, got, result = _both(spark, staging, load_settings().with_extras(extras))
    _assert_same(expected, got, result)


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["febrl1", "febrl2", "febrl3", "febrl20k",
                                  "historical",
                                  "rldata", "chicago", "patstat", "dutch10000"])
def test_labelled_sets_cluster_as_on_pandas(spark, shared_data, name):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench_linkage as bench

    from cdq.linkage.settings import load_settings

    data = next(bench.benches([name], [10_000]))
    staging, extras, _ = bench._staging(data)
    expected, got, result = _both(spark, staging, load_settings().with_extras(extras))
    _assert_same(expected, got, result)


@pytest.mark.slow  # the first Spark job starts the JVM and its Python workers (~27 s on two cores): .ci/run's
# second step, with every other Spark test, so the default run stays under 4 minutes
def test_connected_components_against_a_reference(spark):
    """Large-star / small-star labels every node with its component's smallest node (random graphs)."""
    from cdq.engines.spark.components import components
    from cdq.linkage.cluster import connected_components

    rng = np.random.default_rng(5)
    n = 300
    l, r = rng.integers(0, n, 260), rng.integers(0, n, 260)
    l[:40], r[:40] = np.arange(40), np.arange(1, 41)  # one long chain: the worst case for label propagation
    edges = spark.createDataFrame(pd.DataFrame({"l": l.astype(np.int64), "r": r.astype(np.int64)}))
    got = components(edges).toPandas().set_index("node")["label"]
    expected = connected_components(n, l, r)
    assert (got.to_numpy() == expected[got.index.to_numpy()]).all()
    assert set(got.index) == set(l[l != r]) | set(r[l != r])


@pytest.mark.slow  # a Spark job of its own on the session's JVM: .ci/run's second step (the default run keeps
# test_cli_refuses_an_unknown_engine for the option; the synthetic equality for the engine is in step 2 too)
def test_cli_dedupe_on_spark_equals_pandas(spark, tmp_path):
    """`cdq dedupe --engine spark` on a Parquet input writes the clusters the pandas engine writes for the CSV."""
    from typer.testing import CliRunner

    from cdq.cli.main import app
    from cdq.synthetic import generate_records

    frame = generate_records(800, seed=5).drop(columns=["entity_id"])
    frame.to_csv(tmp_path / "klanten.csv", index=False)
    frame.to_parquet(tmp_path / "klanten.parquet", index=False)
    runner = CliRunner()
    done = runner.invoke(app, ["dedupe", str(tmp_path / "klanten.csv"), "--out", str(tmp_path / "pandas.csv"),
                               "--id-column", "record_id"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["dedupe", str(tmp_path / "klanten.parquet"), "--out", str(tmp_path / "spark.csv"),
                               "--id-column", "record_id", "--engine", "spark"])
    assert done.exit_code == 0, done.output
    a, b = (pd.read_csv(tmp_path / f"{x}.csv", dtype=str) for x in ("pandas", "spark"))
    assert a["record_id"].tolist() == b["record_id"].tolist()  # every input row, in input order
    assert _pairwise_f1(b, a) >= 0.999


def test_cli_refuses_an_unknown_engine(tmp_path):
    from typer.testing import CliRunner

    from cdq.cli.main import app

    done = CliRunner().invoke(app, ["dedupe", "x.csv", "--out", str(tmp_path / "o.csv"), "--engine", "dask"])
    assert done.exit_code == 2
    assert "dask" in done.output and "pandas, spark" in done.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def standalone(spark, tmp_path):
    """A 1-master 2-worker Spark standalone cluster on loopback, started from the PySpark installation."""
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(tmp_path),
           "SPARK_WORKER_DIR": str(tmp_path / "work"), "PYSPARK_PYTHON": sys.executable}
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    cls = str(home / "bin" / "spark-class")
    procs = [subprocess.Popen([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                               str(port), "--webui-port", str(_free_port())], env=env,
                              stdout=open(tmp_path / "master.log", "w"), stderr=subprocess.STDOUT)]
    deadline = time.time() + 120
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(1)
    for i in range(2):
        procs.append(subprocess.Popen([cls, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                                       "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port()),
                                       "--work-dir", str(tmp_path / f"work{i}")], env=env,
                                      stdout=open(tmp_path / f"worker{i}.log", "w"), stderr=subprocess.STDOUT))
    try:
        yield url
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


@pytest.mark.slow
def test_standalone_cluster_of_two_workers(standalone, tmp_path):
    """`cdq dedupe --engine spark --spark-master spark://...` on a 2-worker cluster: the pandas clusters."""
    from cdq.synthetic import generate_records

    frame = generate_records(1_000, seed=9).drop(columns=["entity_id"])
    frame.to_parquet(tmp_path / "in.parquet", index=False)
    frame.to_csv(tmp_path / "in.csv", index=False)
    cdq = [str(Path(sys.executable).parent / "cdq")]
    env = {**os.environ, "CDQ_SPARK_EXECUTOR_MEMORY": "768m", "CDQ_SPARK_DRIVER_MEMORY": "1g"}
    done = subprocess.run([*cdq, "dedupe", str(tmp_path / "in.parquet"), "--out", str(tmp_path / "spark.csv"),
                           "--id-column", "record_id", "--engine", "spark", "--spark-master", standalone],
                          capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    workers = [p for p in tmp_path.glob("work*/app-*/*/stderr")]
    assert len({p.parent.parent.parent for p in workers}) == 2  # both workers ran executors
    done = subprocess.run([*cdq, "dedupe", str(tmp_path / "in.csv"), "--out", str(tmp_path / "pandas.csv"),
                           "--id-column", "record_id"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    a, b = (pd.read_csv(tmp_path / f"{x}.csv", dtype=str) for x in ("pandas", "spark"))
    assert _pairwise_f1(b, a) >= 0.999


def _pipeline(tmp_path: Path, engine: str) -> Path:
    from cdq.resources import resource

    fixtures = resource("fixtures")
    spec = tmp_path / f"{engine}.yaml"
    spec.write_text(f"""name: spark_check
inputs:
  - path: "{fixtures}/backoffice_export.csv"
  - path: "{fixtures}/outlook_contacts.csv"
  - path: "{fixtures}/contacts.vcf"
store: "sqlite:///{{workdir}}/golden.sqlite"
crm: null
engine: {engine}
stages: [normalize, linkage, golden]
""", encoding="utf-8")
    return spec


@pytest.mark.slow  # a Spark job of its own on the session's JVM: .ci/run's second step (a whole pipeline twice, once
# per engine)
def test_pipeline_engine_spark_builds_the_same_golden_records(spark, tmp_path):
    """`engine: spark` in a pipeline YAML: the first run's batch is matched on Spark; the golden store holds the
    same members per golden record as with the pandas engine."""
    import sqlalchemy as sa
    from typer.testing import CliRunner

    from cdq.cli.main import app

    members = {}
    for engine in ("pandas", "spark"):
        work = tmp_path / engine
        done = CliRunner().invoke(app, ["run", str(_pipeline(tmp_path, engine)), "--workdir", str(work)])
        assert done.exit_code == 0, done.output
        db = sa.create_engine(f"sqlite:///{work / 'golden.sqlite'}")
        with db.connect() as conn:
            xref = pd.read_sql("select x.golden_id, s.ref from xref x join source_records s "
                               "on s.id = x.source_record_id", conn)
        db.dispose()
        groups = xref.groupby("golden_id")["ref"].apply(lambda s: tuple(sorted(s)))
        members[engine] = sorted(groups)
    assert members["spark"] == members["pandas"] and len(members["pandas"]) > 10
