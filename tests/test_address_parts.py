"""Structural splits of combined address fields (street lines, house numbers)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdq.address_parts import split_address_line, split_house_number, split_street


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
