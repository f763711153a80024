"""Benchmark: annual printouts for 4,000 synthetic customers over 40 advisers (PDF + return form each).

Run: ``.venv/bin/python benchmarks/bench_printouts.py [--records 4000] [--advisers 40]``. Prints a table
(rows, advisers, pages, seconds, rows/s, peak RSS) for the preparation (normalize + name checks) and the
writing of the PDFs and forms, and checks through pdftotext (when installed) that every record is on
exactly one printout.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def synthetic(records: int, advisers: int) -> pd.DataFrame:
    """``cdq synth`` customers, spread round-robin-at-random over ``advisers`` made-up adviser names."""
    from cdq.synthetic import generate_records

    frame = generate_records(records, seed=7)
    frame = frame.drop(columns=[c for c in frame.columns if c == "entity_id"])
    names = [f"{chr(65 + i % 26)}. Adviseur{i:02d}" for i in range(advisers)]
    frame["adviser"] = [names[i % advisers] for i in pd.Series(range(len(frame))).sample(frac=1, random_state=1)]
    frame.loc[frame.index % 97 == 0, "adviser"] = None  # some customers have no adviser
    return frame


def check_coverage(out: Path, keys: set[str]) -> str:
    if shutil.which("pdftotext") is None:
        return "skipped (no pdftotext)"
    seen: list[str] = []
    for pdf in out.glob("*.pdf"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        seen += re.findall(r"Sleutel: (\S+)", text)
    ok = len(seen) == len(set(seen)) and set(seen) == keys
    return "every record exactly once" if ok else f"MISMATCH ({len(seen)} keys seen, {len(set(seen))} distinct)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--advisers", type=int, default=40)
    args = parser.parse_args(argv)
    from cdq.printouts import make_printouts
    from cdq.printouts.records import prepare

    frame = synthetic(args.records, args.advisers)
    frame["row_key"] = frame["record_id"].astype(str)
    frame["adviser_label"] = frame["adviser"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        prepared = prepare(frame)
        prep = time.perf_counter() - start
        start = time.perf_counter()
        pdfs = make_printouts(prepared, "adviser_label", tmp, prepared=True)
        write = time.perf_counter() - start
        summary = pd.read_csv(Path(tmp) / "overzicht.csv")
        coverage = check_coverage(Path(tmp), set(frame["row_key"]))
        pages = int(summary["pages"].sum())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for step, seconds in (("prepare (normalize + names)", prep), ("PDFs + forms", write),
                          ("total", prep + write)):
        rows.append({"step": step, "rows": len(frame), "advisers": len(pdfs), "pages": pages,
                     "seconds": round(seconds, 2), "rows/s": round(len(frame) / seconds), "peak MB": round(peak)})
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"coverage check: {coverage}")
    return 0 if prep + write < 60 and "MISMATCH" not in coverage else 1


if __name__ == "__main__":
    sys.exit(main())
