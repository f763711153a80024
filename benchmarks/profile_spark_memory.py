"""Peak memory of the Spark engine per stage: the driver Python, the JVM and the PySpark Python workers.

Runs ``dedupe_files`` in this process (the driver) on a ``cdq synth`` Parquet file and samples the process
tree from /proc every ``--every`` seconds. The stage is what the driver is doing at the time (each engine step
is wrapped to name itself; Spark runs a step's Python work while the driver waits in it). Per stage it prints
the peak RSS of the driver Python, of the JVM, of the largest single Python worker, of all Python workers
added up, and of their unique (private) memory added up: the workers are forks of one daemon and share its
pages, so the RSS sum overstates them.

Run: ``.venv/bin/python benchmarks/profile_spark_memory.py synth_100000.parquet --workdir DIR
[--conf spark.sql.execution.arrow.maxRecordsPerBatch=5000 ...]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import threading
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_spark import _tree  # noqa: E402

STAGE = ["start"]


def _mb(pid: int) -> tuple[float, float, float]:
    """Resident, private (unshared) and virtual MB of ``pid`` (zeros when it is gone). The virtual size is
    what ``spark.executor.pyspark.memory`` limits (``RLIMIT_AS`` in the worker)."""
    rss = private = virtual = 0.0
    try:
        for line in (Path("/proc") / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith(("Private_Clean:", "Private_Dirty:")):
                private += int(line.split()[1]) / 1024
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmSize:"):
                virtual = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, private, virtual


def _kind(pid: int) -> str | None:
    try:
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if pid == os.getpid():
        return "driver"
    if "java" in cmd.split(" ")[0]:
        return "jvm"
    if "pyspark.daemon" in cmd or "pyspark/worker" in cmd or "pyspark.worker" in cmd:
        return "worker"
    return None


class StageSampler(threading.Thread):
    """Peak MB per stage: ``driver``, ``jvm``, ``worker max`` (one process), ``worker virtual max`` (one
    process), ``workers`` (sum of RSS), ``workers private`` (sum of private memory)."""

    def __init__(self, every: float):
        super().__init__(daemon=True)
        self.every, self.peak, self.seconds, self.stopped = every, {}, {}, threading.Event()

    def run(self) -> None:
        last = time.time()
        while not self.stopped.is_set():
            now: dict[str, float] = {}
            for pid in _tree(os.getpid()):
                kind = _kind(pid)
                if kind is None:
                    continue
                rss, private, virtual = _mb(pid)
                if kind == "worker":
                    now["worker max"] = max(now.get("worker max", 0.0), rss)
                    now["worker virtual max"] = max(now.get("worker virtual max", 0.0), virtual)
                    now["workers"] = now.get("workers", 0.0) + rss
                    now["workers private"] = now.get("workers private", 0.0) + private
                else:
                    now[kind] = now.get(kind, 0.0) + rss
            stage = STAGE[0]
            peak = self.peak.setdefault(stage, {})
            for key, mb in now.items():
                peak[key] = max(peak.get(key, 0.0), mb)
            t = time.time()
            self.seconds[stage] = self.seconds.get(stage, 0.0) + t - last
            last = t
            self.stopped.wait(self.every)


def _named(module, attribute: str, stage: str) -> None:
    """Wrap ``module.attribute`` so that the sampler attributes what runs inside it to ``stage``."""
    inner = getattr(module, attribute)

    @functools.wraps(inner)
    def wrapper(*args, **kwargs):
        STAGE[0] = stage
        try:
            return inner(*args, **kwargs)
        finally:
            STAGE[0] = f"after {stage}"  # the driver's own steps between two named ones

    setattr(module, attribute, wrapper)


def _instrument() -> None:
    from cdq.engines.spark import components, inputs, linkage

    original = linkage._parquet

    def parquet(frame, workdir, name):
        STAGE[0] = f"write {name}"
        try:
            return original(frame, workdir, name)
        finally:
            STAGE[0] = f"after write {name}"

    linkage._parquet = parquet
    _named(inputs, "read_inputs", "read+normalize")
    _named(inputs, "write_clusters", "write clusters csv")
    _named(linkage, "_check", "input check")
    _named(linkage, "blocked", "blocking")
    _named(linkage, "_without_contradicted_vetoes", "veto check")
    _named(linkage, "with_new_pairs", "report")
    _named(linkage, "_train", "train")
    _named(components, "components", "components")
    _named(components, "organisation_labels", "organisations")
    _named(components, "place_moved", "moved branches")
    _named(linkage, "_clusters", "clusters (guarded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parquet")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--every", type=float, default=0.25)
    parser.add_argument("--conf", nargs="*", default=[], help="key=value Spark settings")
    args = parser.parse_args()
    from cdq.engines.spark.run import dedupe_files

    _instrument()
    conf = dict(item.split("=", 1) for item in args.conf)
    work = Path(args.workdir)
    sampler = StageSampler(args.every)
    sampler.start()
    start, cpu = time.time(), os.times()
    summary = dedupe_files([args.parquet], work / "clusters.csv", id_column="record_id", master=args.master,
                           workdir=work / "intermediates", conf=conf)
    STAGE[0] = "end"
    time.sleep(2 * args.every)
    sampler.stopped.set()
    sampler.join()
    wall, used = time.time() - start, os.times()
    rows = [{"stage": stage, "seconds": round(sampler.seconds.get(stage, 0.0), 1),
             **{k: round(v) for k, v in peak.items()}} for stage, peak in sampler.peak.items()]
    print(pd.DataFrame(rows).fillna(0).to_string(index=False))
    print(f"records {summary.records}, clusters {summary.clusters}, wall {wall:.1f} s, driver CPU "
          f"{used.user - cpu.user + used.system - cpu.system:.1f} s, children CPU "
          f"{used.children_user - cpu.children_user + used.children_system - cpu.children_system:.1f} s "
          f"(JVM and workers, counted when they end), conf {conf}")


if __name__ == "__main__":
    main()
