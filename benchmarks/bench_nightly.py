"""Benchmark: a nightly merge of 10,000 changed records against a golden store of 1,000,000 records.

Seeds the store in bulk (SQLite file in a temp folder, or ``--store URL``), then times ``merge_batch``
(5,000 changed records, 4,000 new singletons, 900 new records joining existing golden records, 100 merges
of two existing golden records) and the delta CRM load of what it wrote. Prints a table.

    .venv/bin/python benchmarks/bench_nightly.py [--golden 1000000] [--changed 10000] [--store URL]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cdq.crm import SqlCrmTarget, load_from_store  # noqa: E402
from cdq.crm.sql import LEDGER  # noqa: E402
from cdq.golden import PAYLOAD_COLUMNS, merge_batch  # noqa: E402
from cdq.store import GoldenStore  # noqa: E402
from cdq.store.schema import counters, golden_records, source_records, xref  # noqa: E402
from cdq.survivorship import load_rules  # noqa: E402


def person(i: int, email: str | None = None) -> dict:
    return {"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i % 9973}",
            "last_name": f"Jansen{i % 101}", "postcode": f"{1000 + i % 8999}AB", "house_number": str(i % 300 + 1),
            "email": email or f"p{i}@example.nl", "source_updated_at": "2024-01-01"}


def seed(store: GoldenStore, n: int, batch: int = 50_000) -> None:
    """Bulk-insert n source records, xrefs and golden records (one source record per golden record)."""
    with store.begin() as conn:
        for start in range(0, n, batch):
            ids = range(start + 1, min(n, start + batch) + 1)
            src, xr, gold = [], [], []
            for i in ids:
                rec = person(i - 1)
                values = {c: rec.get(c) for c in PAYLOAD_COLUMNS}
                payload = json.dumps(values, sort_keys=True, ensure_ascii=False)
                hashable = json.dumps({k: v for k, v in values.items() if k not in ("source_file", "source_row")},
                                      sort_keys=True)
                src.append({"id": i, "ref": f"erp|{i - 1}", "source": "erp", "payload": payload,
                            "content_hash": hashlib.sha1(hashable.encode()).hexdigest(), "first_run": 0,
                            "last_run": 0})
                gid = f"G{i:07d}"
                xr.append({"source_record_id": i, "golden_id": gid, "rule": "seed", "pinned": False, "run_id": 0})
                gold.append({"golden_id": gid, "version": 1, "status": "active", "data": payload, "lineage": "[]",
                             "data_hash": "seed", "seq": 1, "created_run": 0, "updated_run": 0})
            conn.execute(source_records.insert(), src)
            conn.execute(xref.insert(), xr)
            conn.execute(golden_records.insert(), gold)
        conn.execute(counters.update().where(counters.c.name == "golden").values(value=n))
        conn.execute(counters.update().where(counters.c.name == "seq").values(value=1))


def nightly_batch(n_golden: int, n_changed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Changed, new singleton, new-joining-existing and merging records, with their clusters."""
    half, rows, clusters = n_changed // 2, [], []
    for k in range(half):  # changed existing records
        i = k * (n_golden // half)
        rows.append(person(i, email=f"changed{i}@example.nl"))
        clusters.append((f"r{i}", f"c{i}"))
    for k in range(n_changed - half):
        i = n_golden + k
        rows.append(person(i))
        if k < 900:  # joins an existing golden record (its stored record comes along, unchanged)
            j = k * 7 + 3
            rows.append(person(j))
            clusters += [(f"r{i}", f"j{k}"), (f"r{j}", f"j{k}")]
        elif k < 1000:  # joins two existing golden records: a merge
            a, b = k * 11 + 5, k * 11 + 6
            rows += [person(a), person(b)]
            clusters += [(f"r{i}", f"m{k}"), (f"r{a}", f"m{k}"), (f"r{b}", f"m{k}")]
        else:
            clusters.append((f"r{i}", f"n{k}"))
    staging = pd.DataFrame(rows).drop_duplicates("record_id")
    cl = pd.DataFrame(clusters, columns=["record_id", "cluster_id"]).drop_duplicates("record_id")
    return staging, cl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--golden", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--store")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cdq-bench-"))
    store = GoldenStore(args.store or f"sqlite:///{tmp / 'golden.db'}")
    rules = load_rules()
    timings = []
    t = time.perf_counter()
    seed(store, args.golden)
    timings.append(("seed golden store (bulk)", args.golden, time.perf_counter() - t))
    staging, clusters = nightly_batch(args.golden, args.changed)
    t = time.perf_counter()
    result = merge_batch(staging, clusters, store, rules, store.start_run("nightly"))
    timings.append(("nightly merge_batch", len(staging), time.perf_counter() - t))
    t = time.perf_counter()
    again = merge_batch(staging, clusters, store, rules, store.start_run("nightly"))
    timings.append(("same night again (no-op)", len(staging), time.perf_counter() - t))
    crm = SqlCrmTarget(f"sqlite:///{tmp / 'crm.db'}")
    with crm.engine.begin() as conn:  # as if the seeded store had been loaded before: load the delta only
        conn.execute(LEDGER.insert().values(store_seq=1, created=0, updated=0, merged=0, unchanged=0))
    t = time.perf_counter()
    loaded, _ = load_from_store(store, crm)
    timings.append(("CRM delta load", len(result.golden), time.perf_counter() - t))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'step':<28}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
    for name, rows, secs in timings:
        print(f"{name:<28}{rows:>10}{secs:>10.1f}{rows / secs:>12.0f}")
    print(f"peak memory {peak:.0f} MiB; merge counts {result.counts}; rerun counts {again.counts}")
    print(loaded.line())
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(golden_records)).scalar()
    print(f"golden records in store: {total}")


if __name__ == "__main__":
    main()
