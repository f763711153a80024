"""Benchmark the synthetic generator (10k, 100k, 1M records) and the synthetic national BAG writer.

Run: ``.venv/bin/python benchmarks/bench_synthetic.py [--bag-rows N]`` (default 9,800,000; 0 skips it).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from cdq.synthetic import generate_records
from cdq.synthetic.reference import write_synthetic_bag


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bag-rows", type=int, default=9_800_000)
    args = parser.parse_args()
    out = sys.stdout
    out.write(f"{'task':<28}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'peak MB':>10}\n")
    for n in (10_000, 100_000, 1_000_000):
        start = time.perf_counter()
        frame = generate_records(n, seed=42)
        took = time.perf_counter() - start
        out.write(f"{'generate_records':<28}{len(frame):>12,}{took:>10.1f}{len(frame) / took:>12,.0f}{_peak_mb():>10,.0f}\n")
    if args.bag_rows:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            rows = write_synthetic_bag(Path(tmp) / "bag.csv", n_addresses=args.bag_rows)
            took = time.perf_counter() - start
            size = (Path(tmp) / "bag.csv").stat().st_size / 1e6
            out.write(f"{'write_synthetic_bag':<28}{rows:>12,}{took:>10.1f}{rows / took:>12,.0f}{_peak_mb():>10,.0f}"
                      f"  ({size:,.0f} MB)\n")


if __name__ == "__main__":
    main()
