"""Data for ``bench_serve.py``: a 9.8M-address synthetic reference and a golden store of 1,000,000 records.

Both are built once into a work folder and reused (minutes to build, seconds to reuse):

- ``bag.sqlite``: :func:`cdq.synthetic.reference.write_synthetic_bag` → ``cdq.address.load_bag``;
- ``golden.sqlite``: :func:`cdq.synthetic.generate_records` (one record per customer, no duplicates, so
  1,000,000 golden records), normalized by :func:`cdq.normalize.normalize`, bulk-seeded one golden record
  per source record (as ``bench_nightly.py`` does; the nightly merge is benchmarked there);
- ``queries.parquet``: 20,000 stored records, half of them retyped with a typo, for ``/v1/match``.

    .venv/bin/python benchmarks/serve_data.py [--workdir /tmp/cdq-bench-serve] [--golden 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cdq.golden import PAYLOAD_COLUMNS, record_refs  # noqa: E402
from cdq.store import GoldenStore  # noqa: E402
from cdq.store.schema import counters, golden_records, source_records, xref  # noqa: E402

DEFAULT_WORKDIR = Path("/tmp/cdq-bench-serve")


def build_reference(work: Path, n: int) -> Path:
    """The synthetic national reference store (reused when present)."""
    from cdq.address import load_bag
    from cdq.synthetic.reference import write_synthetic_bag

    store = work / "bag.sqlite"
    if store.is_file():
        return store
    csv = work / "bag.csv"
    t = time.perf_counter()
    write_synthetic_bag(csv, n_addresses=n)
    load_bag(csv, fmt="flat", out=work / "bag.partial.sqlite")
    (work / "bag.partial.sqlite").rename(store)
    csv.unlink()
    print(f"reference: {n:,} addresses in {time.perf_counter() - t:.0f} s -> {store}", flush=True)
    return store


def _seed_rows(frame: pd.DataFrame, start: int) -> tuple[list, list, list]:
    values = frame.reindex(columns=PAYLOAD_COLUMNS).astype("object")
    values = values.where(values.notna(), None)
    refs = record_refs(frame).tolist()
    src, xr, gold = [], [], []
    for k, row in enumerate(values.itertuples(index=False, name=None)):
        i = start + k + 1
        data = {c: (v if v is None else str(v)) for c, v in zip(PAYLOAD_COLUMNS, row)}
        payload = json.dumps(data, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha1(payload.encode()).hexdigest()
        src.append({"id": i, "ref": refs[k], "source": data["source"], "payload": payload, "content_hash": digest,
                    "first_run": 0, "last_run": 0})
        gid = f"G{i:07d}"
        xr.append({"source_record_id": i, "golden_id": gid, "rule": "seed", "pinned": False, "run_id": 0})
        gold.append({"golden_id": gid, "version": 1, "status": "active", "data": payload, "lineage": "[]",
                     "data_hash": digest, "seq": 1, "created_run": 0, "updated_run": 0})
    return src, xr, gold


def build_store(work: Path, n: int, chunk: int = 100_000) -> Path:
    """The golden store of ``n`` normalized synthetic customers (reused when present)."""
    from cdq.normalize import normalize
    from cdq.synthetic import generate_records

    path = work / "golden.sqlite"
    if path.is_file():
        return path
    partial = work / "golden.partial.sqlite"
    partial.unlink(missing_ok=True)
    t = time.perf_counter()
    records = generate_records(n, seed=11, duplicate_rate=0.0)
    records["source_key"] = np.arange(len(records)).astype(str)  # unique refs: one golden record each
    records = records.drop(columns=["entity_id"])
    store = GoldenStore(f"sqlite:///{partial}")
    queries = []
    with store.begin() as conn:
        for start in range(0, len(records), chunk):
            part, _ = normalize(records.iloc[start:start + chunk].reset_index(drop=True))
            src, xr, gold = _seed_rows(part, start)
            conn.execute(source_records.insert(), src)
            conn.execute(xref.insert(), xr)
            conn.execute(golden_records.insert(), gold)
            queries.append(part.sample(n=min(len(part), 20_000 * chunk // n + 1), random_state=start))
            print(f"store: {start + len(part):,}/{n:,} in {time.perf_counter() - t:.0f} s", flush=True)
        conn.execute(counters.update().where(counters.c.name == "golden").values(value=n))
        conn.execute(counters.update().where(counters.c.name == "seq").values(value=1))
    store.engine.dispose()
    _write_queries(pd.concat(queries, ignore_index=True), work / "queries.parquet")
    partial.rename(path)
    return path


def _write_queries(stored: pd.DataFrame, path: Path) -> None:
    """Stored customers as a form would send them: half retyped with one letter dropped from the surname."""
    rng = np.random.default_rng(5)
    q = stored.reindex(columns=["first_name", "infix", "last_name", "birth_date", "postcode", "house_number",
                                "house_letter", "house_number_addition", "email", "phone", "mobile", "city",
                                "street"]).astype("object")
    typo = rng.random(len(q)) < 0.5
    names = q["last_name"].fillna("").astype(str)
    q.loc[typo, "last_name"] = [s[: len(s) // 2] + s[len(s) // 2 + 1:] if len(s) > 3 else s for s in names[typo]]
    q.where(q.notna(), None).to_parquet(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--golden", type=int, default=1_000_000)
    parser.add_argument("--addresses", type=int, default=9_800_000)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    build_reference(args.workdir, args.addresses)
    build_store(args.workdir, args.golden)


if __name__ == "__main__":
    main()
