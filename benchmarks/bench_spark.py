"""Spark engine benchmark: cdq synth data of 1M and 5M records on local[2] and on a 1-master 2-worker
standalone cluster (started here, on loopback, from the PySpark installation), against the pandas engine
where it fits and Splink on its Spark backend.

Run: ``.venv/bin/python benchmarks/bench_spark.py [--sizes 1000000 5000000] [--modes local standalone pandas
splink]``. Needs ``pip install -e ".[spark]"`` and Java 17+. Splink runs in ``.venv-bench-spark``
(``python3.11 -m venv .venv-bench-spark && .venv-bench-spark/bin/pip install "splink[spark]==5.0.0" "pandas<3"
pyspark==4.1.4``: the same Spark as cdq's) as a subprocess (``splink_spark_runner.py``), on ``local[2]`` with the same
memory bounds, on cdq's prepared columns of the same input (written before its timed run, as ``bench_linkage.py``
gives Splink on DuckDB cdq's normalization). Prints one table: records, mode, wall seconds, peak memory (MB) of the driver, the executors and
the Python workers (sampled from /proc every half second; every sample in ``memory_SIZE_MODE.csv`` beside the
mode's log, whose ``-v`` stage lines say when each stage ended), pairwise P/R/F1 against the truth and the pairwise F1
between the Spark and the pandas engine's clusters.

Memory bounds: driver 2 GB (``spark.driver.memory``), executors 3 GB each (``spark.executor.memory`` / the
standalone workers' ``--memory``); local[2] runs driver and executor in one JVM (heap 2 GB).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CDQ = Path(sys.executable).parent / "cdq"
SPLINK_PY = REPO / ".venv-bench-spark" / "bin" / "python"


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _kind(pid: int) -> str | None:
    try:
        cmd = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if "CoarseGrainedExecutorBackend" in cmd:
        return "executors"
    if "deploy.master.Master" in cmd or "deploy.worker.Worker" in cmd:
        return "daemons"
    if "java" in cmd.split(" ")[0]:
        return "driver"
    if "pyspark.daemon" in cmd or "pyspark/worker" in cmd or "pyspark.worker" in cmd:
        return "python workers"
    return "driver python"


def _rss_mb(pid: int) -> float:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Sampler(threading.Thread):
    """Peak resident memory per kind of process below the given roots (the sum over processes of a kind)."""

    def __init__(self, roots: list[int]):
        super().__init__(daemon=True)
        self.roots, self.peak, self.stopped = roots, {}, threading.Event()
        self.series: list[dict] = []  # every sample (seconds since start, MB per kind): where memory grows
        self.began = time.time()

    def run(self) -> None:
        while not self.stopped.is_set():
            now: dict[str, float] = {}
            for root in self.roots:
                for pid in _tree(root):
                    kind = _kind(pid)
                    if kind:
                        now[kind] = now.get(kind, 0.0) + _rss_mb(pid)
            for kind, mb in now.items():
                self.peak[kind] = max(self.peak.get(kind, 0.0), mb)
            self.series.append({"seconds": round(time.time() - self.began, 1), **{k: round(v) for k, v in now.items()}})
            self.stopped.wait(0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_standalone(workdir: Path, workers: int = 2, memory: str = "3g") -> tuple[str, list[subprocess.Popen]]:
    """A master and ``workers`` one-core workers on loopback, from the PySpark installation."""
    import pyspark

    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(workdir),
           "PYSPARK_PYTHON": sys.executable}
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    cls = str(home / "bin" / "spark-class")
    workdir.mkdir(parents=True, exist_ok=True)
    logs = open(workdir / "standalone.log", "w")
    procs = [subprocess.Popen([cls, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                               str(port), "--webui-port", str(_free_port())], env=env, stdout=logs, stderr=logs)]
    for _ in range(240):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    for i in range(workers):
        procs.append(subprocess.Popen([cls, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                                       "--cores", "1", "--memory", memory, "--webui-port", str(_free_port()),
                                       "--work-dir", str(workdir / f"worker{i}")], env=env, stdout=logs, stderr=logs))
    time.sleep(10)
    return url, procs


def _timed(cmd: list[str], roots_extra: list[int] | None = None, env: dict | None = None,
           log: Path | None = None) -> tuple[float, dict, str]:
    start = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    sampler = Sampler([proc.pid, *(roots_extra or [])])
    sampler.start()
    output, _ = proc.communicate()
    sampler.stopped.set()
    sampler.join()
    if log is not None:  # the whole output: a failure's cause is often far above its last lines
        log.write_text(output, encoding="utf-8")
        pd.DataFrame(sampler.series).to_csv(log.with_name(log.stem.replace("log_", "memory_") + ".csv"), index=False)
    if proc.returncode != 0:
        print(output[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)} (output: {log})")
    return time.time() - start, sampler.peak, output


def _scores(clusters: Path, truth: pd.Series) -> dict:
    from cdq.linkage.evaluate import evaluate

    got = pd.read_csv(clusters, dtype=str)
    return evaluate(pd.Series(got["cluster_id"].values, index=got["record_id"].values), truth)


def _agreement(a: Path, b: Path) -> float:
    from cdq.engines.spark.inputs import evaluate_against

    return evaluate_against(pd.read_csv(a, dtype=str), pd.read_csv(b, dtype=str))


def pandas_child(parquet: str, out: str) -> None:
    """The pandas engine on a synth Parquet file (what `cdq dedupe` does after reading it), in this process."""
    from cdq.importers import RawTable
    from cdq.linkage import dedupe
    from cdq.normalize import normalize
    from cdq.staging import stage

    frame = pd.read_parquet(parquet).astype(str).where(lambda f: f != "None", None)
    raw = RawTable(frame=frame.astype(object).where(frame.notna(), None), rows=list(range(1, len(frame) + 1)),
                   source_file=parquet)
    staging, _ = normalize(stage(raw, source=Path(parquet).stem, keep_unusable=True)[0])
    del frame, raw
    result = dedupe(staging)
    pd.DataFrame({"record_id": staging["src:record_id"].to_numpy(),
                  "cluster_id": result.clusters["cluster_id"].to_numpy()}).to_csv(out, index=False)


def splink_input_child(parquet: str, out: str) -> None:
    """Splink's input columns from cdq's normalization and prepared columns (untimed, before Splink's run)."""
    from cdq.importers import RawTable
    from cdq.linkage.prepare import prepare
    from cdq.normalize import normalize
    from cdq.staging import stage

    frame = pd.read_parquet(parquet).astype(str).where(lambda f: f != "None", None)
    raw = RawTable(frame=frame.astype(object).where(frame.notna(), None), rows=list(range(1, len(frame) + 1)),
                   source_file=parquet)
    staging, _ = normalize(stage(raw, source=Path(parquet).stem, keep_unusable=True)[0])
    p = prepare(staging)
    pd.DataFrame({"unique_id": staging["src:record_id"].astype(str).to_numpy(), "first_name": p["first_name"],
                  "surname": p["surname_core"], "dob": p["birth_date"], "postcode": p["postcode"],
                  "city": p["city"], "email": p["email"]}).to_parquet(out, index=False)


def run(size: int, modes: list[str], work: Path) -> list[dict]:
    data = work / f"synth_{size}.parquet"
    if not data.exists():
        subprocess.run([str(CDQ), "synth", "--records", str(size), "--seed", "7", "--out", str(data)], check=True)
    truth_frame = pd.read_parquet(data, columns=["record_id", "entity_id"])
    truth = pd.Series(truth_frame["entity_id"].astype(str).values, index=truth_frame["record_id"].values)
    rows, outputs = [], {}
    env = {**os.environ, "CDQ_SPARK_DRIVER_MEMORY": "2g", "CDQ_SPARK_EXECUTOR_MEMORY": "3g",
           "CDQ_SPARK_SQL_SHUFFLE_PARTITIONS": str(max(8, size // 50_000)),
           # on a shared machine whose bench lock stops untimed processes (SIGSTOP) for minutes, an executor's
           # heartbeat is older than the default 120 s when they resume: Spark then declares it lost and, in
           # local mode (no task retries), fails the job (the likely end of a 1M run: it failed one second after
           # a 159 s stop)
           "CDQ_SPARK_NETWORK_TIMEOUT": "3600s",
           # the blocking report in each mode's log, one line per pass (rich wraps it to 80 columns in a pipe)
           "COLUMNS": "240"}
    for mode in modes:
        out = work / f"clusters_{size}_{mode}.csv"
        procs: list[subprocess.Popen] = []
        if mode == "pandas":
            cmd = [sys.executable, __file__, "--pandas-child", str(data), str(out)]
        elif mode == "splink":
            if not SPLINK_PY.exists():
                print(f"splink: {SPLINK_PY} missing, skipped", file=sys.stderr)
                continue
            prepared = work / f"splink_input_{size}.parquet"
            if not prepared.exists():
                subprocess.run([sys.executable, __file__, "--splink-input", str(data), str(prepared)], check=True)
            cmd = [str(SPLINK_PY), str(REPO / "benchmarks" / "splink_spark_runner.py"), str(prepared), str(out),
                   "local[2]"]
        else:
            master = "local[2]"
            if mode == "standalone":
                master, procs = start_standalone(work / f"cluster_{size}")
            cmd = [str(CDQ), "-v", "dedupe", str(data), "--engine", "spark", "--spark-master", master, "--id-column",
                   "record_id", "--out", str(out)]
        try:
            seconds, peak, _ = _timed(cmd, [p.pid for p in procs], env, work / f"log_{size}_{mode}.txt")
        except SystemExit as e:  # one failed mode (printed) does not lose the others' rows
            print(e, file=sys.stderr)
            continue
        finally:
            for p in procs:
                p.terminate()
        outputs[mode] = out
        scores = _scores(out, truth)
        rows.append({"records": size, "mode": mode, "seconds": round(seconds, 1),
                     **{f"peak MB {k}": round(v) for k, v in sorted(peak.items())},
                     "P": scores["precision"], "R": scores["recall"], "F1": scores["f1"]})
        print(pd.DataFrame([rows[-1]]).round(4).to_string(index=False), flush=True)
    earlier = work / f"clusters_{size}_pandas.csv"
    if "pandas" not in outputs and earlier.exists():
        # the pandas engine's clusters of the same input from an earlier invocation with this --workdir (each
        # timed run fits a short slot under the bench lock on a shared machine)
        outputs["pandas"] = earlier
    if "pandas" in outputs:
        for row in rows:
            if row["mode"] in ("local", "standalone"):
                row["F1 vs pandas"] = _agreement(outputs[row["mode"]], outputs["pandas"])
    return rows


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--pandas-child":
        pandas_child(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "--splink-input":
        splink_input_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="*", type=int, default=[1_000_000, 5_000_000])
    parser.add_argument("--modes", nargs="*", default=["local", "standalone", "pandas", "splink"])
    parser.add_argument("--workdir", default=None, help="keeps the synth files and clusters (default: a temp dir)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cdq-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        modes = [m for m in args.modes if not (m in ("pandas", "splink") and size > 1_000_000)]
        rows += run(size, modes, work)
    print()
    print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
