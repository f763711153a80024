"""Placeholder values that stand for "no value" ("onbekend", "REMOVED", "n.v.t.", "-", "xxx", "0000"), from
``reference_data/placeholders.yaml``: record linkage treats them as missing, so two records that both say
"onbekend" do not agree on anything.

:func:`placeholder_mask` tests a file's distinct values at once (in Arrow), :func:`is_placeholder` one value.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdq.linkage.text import ascii_lower
from cdq.resources import reference_yaml

#: Characters a placeholder comparison ignores ("n.v.t." = "nvt", "N/A" = "na", "- -" = "").
_PUNCTUATION = str.maketrans("", "", " \t.,;:-_/\\'`\"()[]{}?!*#+=<>|~^&%$")


def _squash(value: str) -> str:
    return value.strip().lower().translate(_PUNCTUATION)


def _placeholder(value: object, listed: frozenset[str], email: bool) -> bool:
    if not isinstance(value, str):
        return False
    squashed = _squash(value)
    if not squashed:
        return bool(value.strip())  # only punctuation: "-", "?", "..."
    if squashed in listed:
        return True
    if len(set(squashed)) == 1 and len(squashed) >= (4 if squashed.isdigit() else 2) and squashed.isalnum():
        return True  # "xx", "aaa", "0000", "9999999999" (not house number 11)
    return email and "@" in squashed and _squash(value.split("@", 1)[0]) in listed


def placeholder_mask(values: pd.Series, column: str = "") -> np.ndarray:
    """:func:`is_placeholder` for a Series of values at once (run on a file's distinct values), vectorised in
    Arrow: at 100k records the columns hold ~300k distinct values, and a Python call per value was a third of
    the preparation's time."""
    anything, per_column = _placeholders()
    listed = anything | per_column.get(column, frozenset())
    raw = values.to_numpy(dtype=object)
    try:
        text = pa.array(raw, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text (numbers in an object column): one by one
        return np.fromiter((_placeholder(v, listed, column == "email") for v in raw), dtype=bool, count=len(raw))
    hit = _placeholder_text(text, pa.array(sorted(listed), type=pa.string()), column == "email")
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def _squash_arrow(text: pa.Array) -> pa.Array:
    """:func:`_squash` in Arrow: trimmed, lower-cased, without the characters a placeholder ignores."""
    return pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(text)), pattern=_PUNCTUATION_RE,
                                      replacement="")


def _placeholder_text(text: pa.Array, listed: pa.Array, email: bool) -> pa.Array:
    """:func:`_placeholder` over an Arrow string array (null stays null)."""
    squashed = _squash_arrow(text)
    length = pc.utf8_length(squashed)
    only_punctuation = pc.and_(pc.equal(length, 0), pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0))
    repeated = pc.and_(pc.equal(pc.binary_repeat(pc.utf8_slice_codeunits(squashed, 0, 1), length), squashed),
                       pc.utf8_is_alnum(squashed))
    long_enough = pc.greater_equal(length, pc.if_else(pc.utf8_is_digit(squashed), 4, 2))
    hit = pc.or_(pc.or_(only_punctuation, pc.is_in(squashed, value_set=listed)), pc.and_(repeated, long_enough))
    if email:
        local = _squash_arrow(pc.list_element(pc.split_pattern(text, "@", max_splits=1), 0))
        at = pc.match_substring(squashed, "@")
        hit = pc.or_(hit, pc.and_(at, pc.is_in(local, value_set=listed)))
    return hit


#: :data:`_PUNCTUATION` as a regular expression (Arrow's vectorised form).
_PUNCTUATION_RE = "[" + re.escape(" \t.,;:-_/\\'`\"()[]{}?!*#+=<>|~^&%$") + "]"


@lru_cache(maxsize=1)
def _placeholders() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    data = reference_yaml("reference_data", "placeholders.yaml")
    def spellings(values: list) -> frozenset[str]:  # as typed and without accents ("privé", "prive")
        return frozenset(x for v in values for x in (_squash(str(v)), _squash(ascii_lower(str(v)) or "")))

    return (spellings(data.get("any", [])),
            {c: spellings(values) for c, values in (data.get("columns") or {}).items()})


def is_placeholder(value: object, column: str = "") -> bool:
    """True for a value that stands for "no value" (``reference_data/placeholders.yaml``).

    Examples:
        >>> [is_placeholder(v) for v in ["REMOVED", "n.v.t.", "-", "Onbekend", "xxx", "0000", "Jansen", "12"]]
        [True, True, True, True, True, True, False, False]
        >>> is_placeholder("geen@geen.nl", "email"), is_placeholder("01-01-1900", "birth_date")
        (True, True)
        >>> is_placeholder("11", "house_number"), is_placeholder("Na", "first_name")
        (False, True)
    """
    if value is None or (isinstance(value, float) and value != value):
        return False
    # a listed value; only punctuation ("-", "?"); one letter repeated ("xx") or one digit 4+ times ("0000",
    # not house number 11); for e-mail a listed local part ("geen@geen.nl")
    return bool(placeholder_mask(pd.Series([value], dtype="object"), column)[0])


@lru_cache(maxsize=64)
def _listed(column: str) -> frozenset[str]:
    anything, per_column = _placeholders()
    return anything | per_column.get(column, frozenset())
