"""Structural splits of combined address fields (street lines, house numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdq.address_parts import LONGEST_STREET_LINE, split_address_line, split_house_number, split_street


@pytest.mark.parametrize(
    ("text", "number", "letter", "addition"),
    [
        ("12", "12", None, None), ("12-A", "12", "A", None), ("12a", "12", "A", None),
        ("12 A", "12", "A", None), ("12-2", "12", None, "2"), ("12 hs", "12", None, "HS"),
        ("12 bis", "12", None, "BIS"), ("12 III", "12", None, "III"), ("12/14", "12", None, "14"),
        ("012", "12", None, None), ("12B-3", "12", "B", "3"), ("abc", None, None, None),
    ],
)
def test_split_house_number(text, number, letter, addition) -> None:
    parts = split_house_number(text)
    assert (parts.number, parts.letter, parts.addition) == (number, letter, addition)


@pytest.mark.parametrize(
    ("text", "street", "number"),
    [
        ("Kerkstraat 12-A", "Kerkstraat", "12"), ("2e Jan Steenstraat 5 hs", "2e Jan Steenstraat", "5"),
        ("Plein 1940-1945 3", "Plein 1940-1945", "3"), ("Kerkstraat", "Kerkstraat", None),
        ("Burg. de Withstraat, 7", "Burg. de Withstraat", "7"),
    ],
)
def test_split_street(text, street, number) -> None:
    parts = split_street(text)
    assert (parts.street, parts.house_number.number) == (street, number)


def test_split_address_line() -> None:
    line = split_address_line("Kerkstraat 12-A, 1234 ab Amsterdam")
    assert (line.street.street, line.street.house_number.letter, line.postcode, line.city) == (
        "Kerkstraat", "A", "1234AB", "Amsterdam",
    )


@given(st.text(max_size=60))
def test_splitters_never_raise(text: str) -> None:
    split_street(text)
    split_house_number(text)
    split_address_line(text)



@pytest.mark.parametrize("text", ["Kerkstraat " * 2900, "a 1 " * 8000 + "!", "Straat 1" + "abcdefgh-" * 3500 + "!",
                                  "Kerkstraat " * 90, "a 1 " * 240 + "!"])
def test_long_street_cells_are_split_at_once_not_after_minutes(text):
    """A pasted text in a street cell (up to the 32,000 characters hygiene allows) took minutes to split.

    In a child process with a time-out: a backtracking regex holds the GIL, so no thread could stop it."""
    import json
    import subprocess
    import sys

    code = ("import json, sys; from cdq.address_parts import split_street; a = split_street(sys.stdin.read()); "
            "print(json.dumps([a.street, a.house_number.number]))")
    done = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == [" ".join(text.split()), None]

def test_an_ordinary_street_line_within_the_limit_still_splits():
    line = "Kerkstraat " * 80 + "12-A"
    assert len(line) < LONGEST_STREET_LINE
    got = split_street(line)
    assert (got.street, got.house_number.number, got.house_number.letter) == (line[:-5], "12", "A")
