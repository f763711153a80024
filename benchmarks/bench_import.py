"""Benchmark: ``cdq.staging.import_inputs`` on a 100,000-row CSV and XLSX (written to a temp dir).

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows N]``. Prints format, rows, seconds, rows/s and
the peak resident memory of a fresh child process per format (so one run does not inflate the next).
"""
# ruff: noqa: T201 - a benchmark script prints its table

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = [
    "Klantnummer",
    "Voorletters",
    "Tussenvoegsel",
    "Achternaam",
    "Straat",
    "Huisnummer",
    "Toevoeging",
    "Postcode",
    "Woonplaats",
    "Telefoon",
    "E-mail",
    "Geboortedatum",
]


def _rows(n: int, seed: int = 1):
    rnd = random.Random(seed)
    last = ["Jansen", "de Vries", "Bakker", "Müller", "Hoëkstra", "Visser", "Smit", "Meijer"]
    for i in range(1, n + 1):
        yield [
            f"{i:06d}",
            rnd.choice(["J.", "A.B.", "P."]),
            rnd.choice(["", "van", "de", "van der"]),
            rnd.choice(last),
            rnd.choice(["Kerkstraat", "Dorpsstraat", "Brüggestraat"]),
            str(rnd.randint(1, 300)),
            rnd.choice(["", "A", "bis"]),
            f"{rnd.randint(1000, 9999)} AB",
            rnd.choice(["Utrecht", "Zwolle", "Ede"]),
            f"06{rnd.randint(10000000, 99999999)}",
            f"klant{i}@example.nl",
            f"{rnd.randint(1, 28):02d}-{rnd.randint(1, 12):02d}-{rnd.randint(1930, 2005)}",
        ]


def write_csv(path: Path, n: int) -> Path:
    with path.open("w", encoding="cp1252", newline="") as f:
        f.write(";".join(HEADER) + "\r\n")
        for row in _rows(n):
            f.write(";".join(row) + "\r\n")
    return path


def write_xlsx(path: Path, n: int) -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Klanten")
    ws.append(HEADER)
    for row in _rows(n):
        row[9] = int(row[9])  # phones typed as numbers, as Excel users do
        ws.append(row)
    wb.save(path)
    return path


def measure(path: str) -> None:
    """Child process: import one file and print 'rows seconds peak_mb'."""
    from cdq.staging import import_inputs

    start = time.perf_counter()
    result = import_inputs([path])
    seconds = time.perf_counter() - start
    assert result.rows_in == len(result.staging) + len(result.quarantine)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(result.staging)} {seconds:.3f} {peak_mb:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = [
            ("csv", write_csv(Path(tmp) / "klanten.csv", args.rows)),
            ("xlsx", write_xlsx(Path(tmp) / "klanten.xlsx", args.rows)),
        ]
        print(f"{'format':<8}{'rows':>10}{'seconds':>10}{'rows/s':>10}{'peak MB':>10}{'file MB':>10}")
        for name, path in files:
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)], check=True, capture_output=True, text=True
            ).stdout.split()
            rows, seconds, peak = int(out[0]), float(out[1]), out[2]
            size = path.stat().st_size / 2**20
            print(f"{name:<8}{rows:>10}{seconds:>10.2f}{rows / seconds:>10.0f}{peak:>10}{size:>10.1f}")


if __name__ == "__main__":
    main()
