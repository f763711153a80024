"""Postcode and house-number keys: canonical forms, validation, and the integer postcode code.

Input postcodes and numbers may not be normalised yet ("1234 ab", "12-2", "12 II"), so address
completion canonicalises them itself. Everything here is vectorised over a Series, or applied once
per distinct value.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdq.address import postcodes
from cdq.address_parts import split_house_number

_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4", "V": "5", "VI": "6", "VII": "7", "VIII": "8", "IX": "9",
          "X": "10"}


def per_distinct(series: pd.Series, func) -> np.ndarray:
    """``func`` applied once per distinct non-missing value (a million rows repeat a few thousand values).

    Examples:
        >>> per_distinct(pd.Series(["a", None, "a"]), str.upper).tolist()
        ['A', None, 'A']
    """
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=True)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [func(u) for u in uniques]
    results[-1] = None
    return results[codes]


def canonical_postcode(series: pd.Series) -> pd.Series:
    """Upper-case, separators removed; ``None`` where empty. Validity is checked by :func:`valid_postcode`.

    The rule is :mod:`cdq.address.postcodes` (shared with normalization).

    Examples:
        >>> canonical_postcode(pd.Series([" 1234 ab", None, "", "1049-ff"])).tolist()
        ['1234AB', None, None, '1049FF']
    """
    return postcodes.squash(series)


def valid_postcode(series: pd.Series) -> pd.Series:
    """True where a canonical postcode is valid (4 digits, not starting with 0, 2 letters, not SA/SD/SS).

    Examples:
        >>> valid_postcode(pd.Series(["1234AB", "0123AB", "1234SS", None, "1234ABC"])).tolist()
        [True, False, False, False, False]
    """
    return postcodes.is_valid(series)


def encode_postcodes(series: pd.Series) -> np.ndarray:
    """Canonical postcodes as one int each: ``digits * 676 + letter1 * 26 + letter2`` (-1 if malformed).

    Six characters fit in an int of at most 6.8 million, which SQLite stores in 3 or 4 bytes.

    Examples:
        >>> encode_postcodes(pd.Series(["1234AB", "bad"])).tolist()
        [834185, -1]
    """
    values = series.fillna("").astype(str).to_numpy()
    raw = np.char.encode(values.astype("U6"), "ascii", "replace").astype("S6")
    b = raw.view(np.uint8).reshape(-1, 6).astype(np.int64)
    digits = b[:, :4] - 48
    letters = b[:, 4:] - 65
    ok = (np.char.str_len(values.astype("U7")) == 6) & (digits >= 0).all(1) & (digits <= 9).all(1) & (digits[:, 0] > 0)
    ok &= (letters >= 0).all(1) & (letters <= 25).all(1)
    code = (digits @ np.array([1000, 100, 10, 1])) * 676 + letters[:, 0] * 26 + letters[:, 1]
    return np.where(ok, code, -1)


def decode_postcodes(codes: np.ndarray | pd.Series) -> pd.Series:
    """Inverse of :func:`encode_postcodes`.

    Examples:
        >>> decode_postcodes(np.array([834185])).tolist()
        ['1234AB']
    """
    codes = np.asarray(codes, dtype=np.int64)
    digits = (codes // 676).astype(str)
    rest = codes % 676
    first = np.char.add(digits, (rest // 26 + 65).astype(np.uint8).view("S1").astype(str))
    return pd.Series(np.char.add(first, (rest % 26 + 65).astype(np.uint8).view("S1").astype(str)))


def suffix_key(letter: str | None, addition: str | None) -> str:
    """One comparable key for letter + addition: "12B", "12-b", "12 II" and "12-2" meet here.

    Roman numerals become digits (a floor: "12 II" is "12-2"), separators and case are ignored.

    Examples:
        >>> suffix_key("B", None), suffix_key(None, "b"), suffix_key(None, "II"), suffix_key(None, "2")
        ('B', 'B', '2', '2')
        >>> suffix_key("A", "3 hoog")
        'A3HOOG'
    """
    addition = re.sub(r"[^0-9A-Z]", "", (addition or "").upper())
    addition = _ROMAN.get(addition, addition)
    return re.sub(r"[^0-9A-Z]", "", (letter or "").upper()) + addition


def split_numbers(number: pd.Series, letter: pd.Series, addition: pd.Series) -> pd.DataFrame:
    """Split combined house numbers ("12-2", "12B") where letter and addition are not given separately.

    Returns columns ``number`` (Int64, <NA> where not a 1-5 digit number), ``letter``, ``addition``
    (upper-cased text or ``None``). Each distinct input value is split once.

    Examples:
        >>> split_numbers(pd.Series(["12-2", "7", "x"]), pd.Series([None, "a", None]),
        ...               pd.Series([None, None, None])).values.tolist()
        [[12, None, '2'], [7, 'A', None], [<NA>, None, None]]
    """
    parts = per_distinct(number, lambda v: split_house_number(str(v).strip()))
    split_number = np.array([int(p.number) if p is not None and p.number else -1 for p in parts], dtype=np.int64)
    out = pd.DataFrame(index=number.index)
    out["number"] = pd.array(np.where((split_number > 0) & (split_number <= 99999), split_number, -1),
                             dtype="Int64")
    out.loc[out["number"] < 0, "number"] = pd.NA
    given_letter, given_addition = _upper_or_none(letter), _upper_or_none(addition)
    out["letter"] = np.where(given_letter != None, given_letter,  # noqa: E711 - elementwise
                             np.array([p.letter if p is not None else None for p in parts], dtype=object))
    out["addition"] = np.where(given_addition != None, given_addition,  # noqa: E711
                               np.array([p.addition if p is not None else None for p in parts], dtype=object))
    return out


def _upper_or_none(series: pd.Series) -> np.ndarray:
    return per_distinct(series, lambda v: str(v).strip().upper() or None)


_RANGE = re.compile(r"^\s*(\d{1,5})\s*(?:-|/|\+|&|t\s*/\s*m|t\.?\s*m\.?|tot\s+en\s+met|en)\s*(\d{1,5})\s*$", re.IGNORECASE)


def _range(text: object) -> str | None:
    match = _RANGE.match(str(text))
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return f"{low}-{high}" if high > low else None


def number_ranges(number: pd.Series) -> np.ndarray:
    """``"low-high"`` where a typed house number is a range ("150-152", "112 t/m 113"), else ``None``.

    "12-2" and "12/3" are a number with an addition (the second part is not higher), never a range.

    Examples:
        >>> number_ranges(pd.Series(["150-152", "112 t/m 113", "12-2", "7", None, "4 en 6"])).tolist()
        ['150-152', '112-113', None, None, None, '4-6']
    """
    return per_distinct(number, _range)
