"""Benchmark the quality gates (GE import, validation + Data Docs) and the run report on N records.

Run: .venv/bin/python benchmarks/bench_gates.py [N ...]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    k = np.arange(n)
    letters = np.array(list("ABCDEFGHJKLMNPRTUVWXYZ"))
    postcode = [f"{a} {b}{c}" for a, b, c in zip(rng.integers(1000, 9999, n), letters[rng.integers(0, 22, n)],
                                                   letters[rng.integers(0, 22, n)])]
    return pd.DataFrame({
        "record_id": [f"r{i}" for i in k], "source": np.array(["erp", "xls", "outlook"])[k % 3],
        "last_name": [f"Naam{i % 997}" for i in k], "postcode": postcode,
        "city": np.array(["Utrecht", "Delft", "Zwolle"])[k % 3], "email": [f"k{i}@voorbeeld.nl" for i in k],
        "phone": [f"+3130{i:07d}" for i in k], "mobile": [f"+316{i:08d}" for i in k],
        "address_status": np.array(["verified", "completed", "not_found"])[k % 3],
        "name_plausibility": rng.random(n),
    })


def main(sizes: list[int]) -> None:
    from cdq.gates import accounting, run_gates
    from cdq.reporting import write_run_report

    print(f"{'rows':>9} {'gx import s':>11} {'validate+docs s':>15} {'report s':>9} {'rows/s':>10} {'peak MB':>8}")
    for n in sizes:
        staging = frame(n)
        golden = staging.drop(columns="record_id").assign(golden_id=[f"G{i + 1:07d}" for i in range(n)])
        with tempfile.TemporaryDirectory() as tmp:
            result = run_gates(staging, golden, accounting(n, n, 0), docs_dir=Path(tmp) / "docs")
            started = time.perf_counter()
            write_run_report(Path(tmp) / "report.html", staging=staging, checked=staging, golden=golden,
                             gates=result)
            report = time.perf_counter() - started
        assert result.passed, result.summary()
        t = result.timings
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{n:>9,} {t['gx_import']:>11.2f} {t['validate']:>15.2f} {report:>9.2f} "
              f"{n / t['validate']:>10,.0f} {peak:>8.0f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
