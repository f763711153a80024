"""Benchmark address completion against a national-size synthetic BAG reference.

Run: ``.venv/bin/python benchmarks/bench_address.py [--addresses 9800000] [--records 1000000] [--workdir DIR]``

Phases: write a synthetic flat BAG CSV (``cdq.synthetic.reference.write_synthetic_bag`` when present, else
``cdq.address.synthetic.write_flat``), load it into the store (time, size on disk), sample records from the
store and type them the way people do (typos, upper-case cities, letters in numbers, missing postcodes,
numbers that do not exist), then complete them in a fresh child process so its peak memory (ru_maxrss) is
the completion's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _write_reference(path: Path, n: int, seed: int) -> str:
    try:
        from cdq.synthetic.reference import write_synthetic_bag
    except ImportError:
        from cdq.address.synthetic import write_flat

        write_flat(path, n, seed)
        return "cdq.address.synthetic.write_flat"
    write_synthetic_bag(path, n, seed)
    return "cdq.synthetic.reference.write_synthetic_bag"


def _typo(words: pd.Series, rng: np.random.Generator) -> pd.Series:
    """Drop one letter from the middle of each value (vectorised enough for a million rows)."""
    cut = (words.str.len() // 2).to_numpy()
    return pd.Series([w[:c] + w[c + 1:] for w, c in zip(words, cut)], index=words.index)


def _records(store_path: Path, n: int, seed: int) -> pd.DataFrame:
    """Sample ``n`` register addresses and type them with realistic mistakes."""
    from cdq.address import AddressStore

    rng = np.random.default_rng(seed)
    with AddressStore.open(store_path) as store:
        total = store.status()["rows"]
        step = max(1, total // n)
        raw = pd.read_sql_query(
            f"SELECT postcode, number, letter, addition, street_id, place_id, "
            f"printf('%016d', bag_id) AS bag_id FROM addresses WHERE (number * 7 + postcode) % {step} = 0 "
            f"LIMIT {n}", store.conn)
        reg = store._decode(raw)
    number = reg["number"].astype(str) + reg["letter"].fillna("").str.lower()
    number = number + (" " + reg["addition"]).fillna("")
    street, city, postcode = reg["street"].copy(), reg["city"].copy(), reg["postcode"].copy()
    draw = rng.random(len(reg))
    street[draw < 0.2] = _typo(street[draw < 0.2], rng)
    city[(draw >= 0.2) & (draw < 0.5)] = city[(draw >= 0.2) & (draw < 0.5)].str.upper()
    street[(draw >= 0.5) & (draw < 0.6)] = None
    postcode[(draw >= 0.6) & (draw < 0.61)] = None
    ghost = (draw >= 0.61) & (draw < 0.63)
    number[ghost] = (reg["number"][ghost] + 1).astype(str)
    postcode[(draw >= 0.63) & (draw < 0.8)] = postcode[(draw >= 0.63) & (draw < 0.8)].str[:4] + " " + \
        postcode[(draw >= 0.63) & (draw < 0.8)].str[4:].str.lower()
    return pd.DataFrame({"record_id": np.arange(len(reg)).astype(str), "street": street, "house_number": number,
                         "postcode": postcode, "city": city})


def _own_peak() -> int:
    """Peak resident memory of this process in bytes. ru_maxrss survives fork+exec (it would report the
    parent's peak), so read VmHWM, which starts afresh with the new program."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _complete_child(store_path: str, records_path: str) -> None:
    """Child process: complete the records and print one JSON line with time and peak memory."""
    from cdq.address import AddressStore, complete

    frame = pd.read_parquet(records_path)
    start, cpu = time.perf_counter(), time.process_time()
    with AddressStore.open(store_path) as store:
        out, findings = complete(frame, store)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU time as well: on a shared machine the wall time says more about the neighbours than about cdq
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": _own_peak(), "rows": len(out), "findings": len(findings),
                      "status": out["address_status"].value_counts().to_dict()}))


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=9_800_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--complete-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.complete_child:
        _complete_child(*args.complete_child)
        return
    from cdq.address import load_bag

    work = args.workdir or Path(tempfile.mkdtemp(prefix="cdq_bench_address_"))
    work.mkdir(parents=True, exist_ok=True)
    csv_path, store_path, records_path = work / "bag.csv", work / "bag.sqlite", work / "records.parquet"
    start = time.perf_counter()
    writer = _write_reference(csv_path, args.addresses, args.seed)
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    summary = load_bag(csv_path, fmt="flat", out=store_path)
    load_s = time.perf_counter() - start
    load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    _records(store_path, args.records, args.seed).to_parquet(records_path, index=False)
    child = subprocess.run([sys.executable, __file__, "--complete-child", str(store_path), str(records_path)],
                           capture_output=True, text=True, check=True)
    done = json.loads(child.stdout.strip().splitlines()[-1])
    rows = [
        ("write synthetic CSV", args.addresses, write_s, "-", f"{_mb(csv_path.stat().st_size)} CSV ({writer})"),
        ("load-bag", summary["rows"], load_s, _mb(load_peak), f"store {_mb(summary['size_bytes'])}"),
        ("complete", done["rows"], done["seconds"], _mb(done["peak"]),
         f"{done['findings']:,} findings, {done['cpu']:.1f}s CPU"),
    ]
    print(f"{'phase':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak mem':>12}  note")
    for name, n, seconds, peak, note in rows:
        print(f"{name:<22}{n:>12,}{seconds:>10.1f}{n / seconds:>12,.0f}{peak:>12}  {note}")
    print("status:", ", ".join(f"{k} {v:,}" for k, v in sorted(done["status"].items())))
    print(f"workdir: {work}")


if __name__ == "__main__":
    main()
