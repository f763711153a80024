"""Splitting a full name typed in one field (cdq.normalize.name_parsing)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdq.normalize.name_parsing import split_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J.P. de Vries", {"initials": "J.P.", "infix": "de", "last_name": "Vries"}),
        ("Jan de Vries", {"first_name": "Jan", "infix": "de", "last_name": "Vries"}),
        ("Vries, Jan de", {"first_name": "Jan", "infix": "de", "last_name": "Vries"}),
        ("Berg, van der", {"infix": "van der", "last_name": "Berg"}),
        ("van 't Hof", {"infix": "van 't", "last_name": "Hof"}),
        ("in ’t Veld", {"infix": "in ’t", "last_name": "Veld"}),
        ("ten Brink", {"infix": "ten", "last_name": "Brink"}),
        ("Mohamed El Amrani", {"first_name": "Mohamed", "last_name": "El Amrani"}),
        ("Jansen-de Vries", {"last_name": "Jansen-de Vries"}),
        ("dhr. J. de Vries", {"title": "dhr.", "gender": "M", "initials": "J.", "last_name": "Vries"}),
        ("Mevr. A. Jansen-de Vries", {"gender": "F", "initials": "A.", "last_name": "Jansen-de Vries"}),
        ("Jan Peter van den Heuvel", {"first_name": "Jan Peter", "infix": "van den", "last_name": "Heuvel"}),
    ],
)
def test_split_name(text: str, expected: dict) -> None:
    parts = split_name(text)
    for field, value in expected.items():
        assert getattr(parts, field) == value, field


@given(st.text(max_size=60))
def test_split_name_never_raises(text: str) -> None:
    split_name(text)
