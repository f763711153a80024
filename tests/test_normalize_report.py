"""The issues column and the letter lines are built once per distinct pattern; they must equal the per-row rule."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.normalize._report import COSMETIC, Collector, _append_codes
from cdq.reasons import REASONS


def _per_row(existing: list[str], parts: list[tuple[np.ndarray, str]]) -> list[str]:
    """The plain rule: existing codes first, then each non-cosmetic code in first-recorded order, never twice."""
    out = []
    order = list(dict.fromkeys(code for _, code in parts if code not in COSMETIC))
    for i, had in enumerate(existing):
        codes = [c for c in had.split(";") if c]
        for code in order:
            if any(rows[i] for rows, c in parts if c == code) and code not in codes:
                codes.append(code)
        out.append(";".join(codes))
    return out


def test_issues_equal_the_per_row_rule_on_random_flags():
    rng = np.random.default_rng(7)
    n = 500
    codes = list(REASONS)
    parts = [(rng.random(n) < 0.05, codes[rng.integers(len(codes))]) for _ in range(40)]  # codes repeat
    existing = ["" if rng.random() < 0.7 else ";".join(rng.choice(codes, 2, replace=False)) for _ in range(n)]
    report = Collector(pd.DataFrame({"record_id": [str(i) for i in range(n)]}))
    for mask, code in parts:
        report.add(mask, "x", code, "info")
    got = report.issues(pd.Series(existing, dtype=object)).tolist()
    assert got == _per_row(existing, parts)
    assert any(";" in g for g in got) and "" in got  # the random flags cover joined, single and empty rows


def test_more_than_64_codes_keep_their_order():
    codes = [f"C{i:03d}" for i in range(150)]
    masks = [np.array([i % 2 == 0, True, False]) for i in range(150)]
    out = _append_codes(np.full(3, "", dtype=object), codes, masks)
    assert out[0] == ";".join(codes[0::2])
    assert out[1] == ";".join(codes)
    assert out[2] == ""


def test_letter_lines_memo_gives_each_row_its_own_lines(monkeypatch):
    """Repeated and distinct name parts, with the memo cleared every two entries: every row as letter_lines says."""
    from cdq.normalize import name_lines

    monkeypatch.setattr(name_lines, "_MEMO_ROWS", 2)
    rows = [
        ("M", None, "J.", None, "de", "Vries", None, None, "own"),
        ("F", "drs.", "A.", None, None, "Jansen", "van", "Dijk", "partner-own"),
        ("M", None, "J.", None, "de", "Vries", None, None, "own"),
        (None, None, None, "Sam", None, "Bakker", None, None, "own"),
        ("F", "drs.", "A.", None, None, "Jansen", "van", "Dijk", "partner-own"),
    ]
    keys = ["gender", "title", "initials", "first_name", "infix", "last_name", "partner_infix",
            "partner_last_name", "name_use"]
    parts = {k: np.array([r[i] for r in rows], dtype=object) for i, k in enumerate(keys)}
    parts["suffix"] = np.full(len(rows), None, dtype=object)
    is_org, company = np.zeros(len(rows), bool), np.full(len(rows), None, dtype=object)
    salutation, envelope = name_lines.salutation_and_envelope(parts, is_org, company)
    for i, row in enumerate(rows):
        assert (salutation[i], envelope[i]) == name_lines.letter_lines(*row, None, False, None)
    assert salutation[0] == "Geachte heer De Vries" and salutation[0] == salutation[2]
