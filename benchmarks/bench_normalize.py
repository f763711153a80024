# ruff: noqa: T201 - a benchmark prints its table
"""Benchmark: normalize a generated 1,000,000-row messy Dutch staging frame.

Run: ``.venv/bin/python benchmarks/bench_normalize.py [ROWS]``. Prints rows, seconds, rows/s and peak memory
(resident set size of the process, via ``resource.getrusage``), and the time per field family.
"""

from __future__ import annotations

import logging
import re
import resource
import sys
import time

import numpy as np
import pandas as pd

from cdq.columns import CANONICAL
from cdq.normalize import normalize

FIRST = np.array(
    [
        "Jan",
        "Piet",
        "Kees",
        "Anna",
        "Maria",
        "Sanne",
        "Willem",
        "Johanna",
        "Pieter",
        "Eva",
        "Daan",
        "Lotte",
        "Hendrik",
        "Fatima",
        "Mohamed",
        "Sophie",
        "Thomas",
        "Emma",
        "Bram",
        "Ilse",
        "J.P.",
        "A",
    ],
    dtype=object,
)
CORES = np.array(
    [
        "Vries",
        "Berg",
        "Jong",
        "Bakker",
        "Hof",
        "Veld",
        "Brink",
        "Dijk",
        "Meer",
        "Wal",
        "Heuvel",
        "Broek",
        "Bosch",
        "Leeuw",
        "Graaf",
        "Ven",
        "Laan",
        "Boer",
        "Haan",
        "Beek",
        "Jansen",
        "Visser",
        "Smit",
        "Meijer",
        "Mulder",
        "El Amrani",
        "Yilmaz",
        "Kok",
        "Willems",
        "Koster",
    ],
    dtype=object,
)
INFIX = np.array(
    ["", "", "", "de", "van", "van der", "van den", "ten", "van 't", "in 't", "d'"], dtype=object
)
STREETS = np.array(
    ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Hoofdstraat", "Julianalaan"], dtype=object
)
HOUSE_SUFFIX = np.array(["", "", "", "a", "-A", " hs", "-2", " bis", " III", "B-3"], dtype=object)
LETTERS = np.array(list("ABCEFGHJKLMNPRTVWXZ"), dtype=object)


def _digits(rng: np.random.Generator, n: int, width: int, low: int = 0) -> np.ndarray:
    return np.char.zfill(rng.integers(low, 10**width, n).astype(str), width).astype(object)


def generate(n: int, seed: int = 1) -> pd.DataFrame:
    """A staging frame of ``n`` rows with names, addresses, phones, e-mails and dates typed many ways."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({c: np.full(n, None, dtype=object) for c in CANONICAL})
    frame["record_id"] = np.char.add("bench#", np.arange(n).astype(str)).astype(object)
    infix, core = rng.choice(INFIX, n), rng.choice(CORES, n)
    sep = np.where(np.char.endswith(infix.astype(str), "'") | (infix == ""), "", " ").astype(object)
    style = rng.integers(0, 4, n)
    leading = infix + sep + core
    frame["last_name"] = np.select(
        [style == 0, style == 1, style == 2],
        [leading, core + " " + infix, np.char.upper(leading.astype(str)).astype(object)],
        core,
    )
    frame["infix"] = np.where(style == 3, infix, None)
    first = rng.choice(FIRST, n)
    frame["first_name"] = np.where(np.char.endswith(first.astype(str), ".") | (first == "A"), None, first)
    frame["initials"] = np.where(pd.isna(frame["first_name"]), first, None)
    frame["street"] = rng.choice(STREETS, n)
    frame["house_number"] = rng.integers(1, 400, n).astype(str).astype(object) + rng.choice(HOUSE_SUFFIX, n)
    pc = (
        _digits(rng, n, 4, 1000)
        + rng.choice(np.array(["", " ", "-"], dtype=object), n)
        + rng.choice(LETTERS, n)
        + rng.choice(LETTERS, n)
    )
    frame["postcode"] = np.where(rng.random(n) < 0.3, np.char.lower(pc.astype(str)).astype(object), pc)
    mobile = (
        rng.choice(np.array(["06-", "+31 6 ", "0031 6", "+31 (0)6 "], dtype=object), n)
        + rng.integers(1, 6, n).astype(str).astype(object)
        + _digits(rng, n, 7)
    )
    fixed = (
        rng.choice(np.array(["020-", "010 ", "+31 30 ", "0591 ", "(070) "], dtype=object), n)
        + rng.integers(2, 10, n).astype(str).astype(object)
        + _digits(rng, n, 6)
    )
    # 4-digit area codes leave 6 subscriber digits, not 7.
    fixed = np.where(
        np.char.startswith(fixed.astype(str), "0591"), np.array([f[:-1] for f in fixed], dtype=object), fixed
    )
    frame["phone"] = np.where(rng.random(n) < 0.5, mobile, fixed)
    frame["phone"] = np.where(rng.random(n) < 0.03, "12345", frame["phone"])
    domain = rng.choice(
        np.array(["gmail.com", "ZIGGO.NL", "kpnmail.nl", "hotmial.com", "bakker.nl"], dtype=object), n
    )
    frame["email"] = (
        np.char.lower(first.astype(str)).astype(object)
        + "."
        + np.arange(n).astype(str).astype(object)
        + "@"
        + domain
    )
    frame["birth_date"] = (
        rng.integers(1, 29, n).astype(str).astype(object)
        + "-"
        + rng.integers(1, 13, n).astype(str).astype(object)
        + "-"
        + rng.integers(1930, 2006, n).astype(str).astype(object)
    )
    frame["issues"] = ""
    return frame


class _Timings(logging.Handler):
    """Collects the per-family 'normalize <family>: N rows in X.Xs' log lines."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[tuple[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = re.match(r"normalize (\w+): \d+ rows in ([\d.]+)s", record.getMessage())
        if match:
            self.lines.append((match.group(1), float(match.group(2))))


def main(rows: int = 1_000_000) -> None:
    start = time.perf_counter()
    frame = generate(rows)
    generated = time.perf_counter() - start
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings = _Timings()
    logger = logging.getLogger("cdq.normalize")
    logger.setLevel(logging.INFO)
    logger.addHandler(timings)
    start = time.perf_counter()
    out, findings = normalize(frame)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{'rows':>10} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9} {'findings':>9}  "
        f"(generate {generated:.1f}s, "
        f"peak before normalize {rss_before:.0f} MiB)"
    )
    print(f"{rows:>10} {seconds:>8.1f} {rows / seconds:>9.0f} {peak:>9.0f} {len(findings):>9}")
    for family, took in timings.lines:
        print(f"  {family:14s} {took:6.1f}s")
    print(
        f"rows with issues: {(out['issues'] != '').mean():.1%}; "
        f"postcodes canonical: {out['postcode'].str.fullmatch(r'[1-9][0-9]{3} [A-Z]{2}').mean():.1%}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
