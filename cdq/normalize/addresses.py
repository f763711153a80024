"""Postcodes and house numbers: canonical ``1234 AB`` and BAG parts (number, letter, addition).

Postcodes are normalized with vectorised string operations (there are ~460k distinct Dutch postcodes, too
many to parse one by one); house numbers have few distinct spellings and are parsed once per spelling.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cdq.address import postcodes
from cdq.address_parts import split_house_number, split_street
from cdq.normalize._distinct import arrow_text, map_distinct
from cdq.normalize._report import Collector

#: Country values that mean the Netherlands (compared lower-cased); an empty country counts as NL too.
NL_COUNTRIES = {"nl", "nld", "nederland", "netherlands", "the netherlands", "holland", "nl-nl", "528"}
_ADDITION = re.compile(r"^[0-9A-Z]{1,4}$")


def canonical_postcode(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return ``(canonical, valid)``: "1234ab", "1234-AB", " 1234 ab" → "1234 AB"; invalid ones unchanged.

    One rule for all of cdq: :func:`cdq.address.postcodes.canonical` (``reference_data/postcodes.yaml``).

    Examples:
        >>> pc, ok = canonical_postcode(pd.Series(["1234ab", "1234-AB", "0123 AB", "1234 SS", None]))
        >>> pc.tolist(), ok.tolist()
        (['1234 AB', '1234 AB', '0123 AB', '1234 SS', None], [True, True, False, False, False])
    """
    return postcodes.canonical(values)


def is_dutch(country: pd.Series) -> pd.Series:
    """True where the country is empty or means the Netherlands."""
    lowered = arrow_text(country).str.strip().str.lower()
    return (lowered.isna() | lowered.isin(NL_COUNTRIES)).fillna(True).astype(bool)


def normalize_postcodes(frame: pd.DataFrame, report: Collector) -> None:
    """Canonical postcodes in place, ``postcode_pc4``, and POSTCODE_INVALID for Dutch addresses."""
    before = frame["postcode"]
    canonical, valid = canonical_postcode(before)
    dutch = is_dutch(frame["country"]).to_numpy()
    present = before.notna().to_numpy()
    changed = present & valid.to_numpy() & (canonical.to_numpy() != before.to_numpy())
    frame["postcode"] = np.where(dutch & valid.to_numpy(), canonical.to_numpy(), before.to_numpy())
    frame["postcode_pc4"] = np.where(
        dutch & valid.to_numpy(),
        arrow_text(canonical).str.slice(0, 4).astype(object).to_numpy(dtype=object),
        None,
    )
    report.add(changed & dutch, "postcode", "POSTCODE_REFORMATTED", "info", before.to_numpy(dtype=object))
    report.add(
        present & dutch & ~valid.to_numpy(),
        "postcode",
        "POSTCODE_INVALID",
        "error",
        before.to_numpy(dtype=object),
    )


def _house_parts(number: str | None, letter: str | None, addition: str | None) -> tuple:
    """(number, letter, addition, split?, valid?) for one combination of the three house number fields."""
    if number is None:
        return None, letter, addition, False, letter is None and addition is None
    parts = split_house_number(number)
    split = parts.letter is not None or parts.addition is not None or str(number).strip() != parts.number
    letter = (letter or "").strip().upper().lstrip("-") or parts.letter
    addition = re.sub(r"[^0-9A-Za-z]+", "", addition or "").upper() or parts.addition
    if letter is None and addition and len(addition) == 1 and addition.isalpha():
        # Back-office exports put the BAG house letter in the one "toevoeging" column.
        letter, addition, split = addition, None, True
    valid = (
        parts.number is not None
        and (letter is None or bool(re.fullmatch(r"[A-Z]", letter)))
        and (addition is None or bool(_ADDITION.match(addition)))
    )
    return parts.number or number, letter, addition, split, valid


def normalize_house_numbers(frame: pd.DataFrame, report: Collector) -> None:
    """Split street+number in one field, then house number text into number, letter and addition."""
    _split_street_numbers(frame, report)
    columns = ["house_number", "house_letter", "house_number_addition"]
    before = frame["house_number"].to_numpy(dtype=object)
    parts = map_distinct(frame, columns, _house_parts, ["n", "l", "a", "split", "valid"])
    present = frame[columns].notna().any(axis=1).to_numpy()
    for column, key in zip(columns, ["n", "l", "a"], strict=True):
        frame[column] = parts[key].to_numpy()
    report.add(parts["split"].to_numpy(dtype=bool), "house_number", "HOUSE_NUMBER_SPLIT", "info", before)
    report.add(
        present & ~parts["valid"].to_numpy(dtype=bool),
        "house_number",
        "HOUSE_NUMBER_INVALID",
        "error",
        before,
    )


def _split_street_numbers(frame: pd.DataFrame, report: Collector) -> None:
    """A street field ending in a number while the number column is empty ("Kerkstraat 12a")."""
    street = frame["street"]
    mask = frame["house_number"].isna().to_numpy(dtype=bool)
    # only the rows without a number are searched for a digit, in Arrow's kernels
    mask[mask] = arrow_text(street[mask]).str.contains(r"\d", regex=True).fillna(False).to_numpy(dtype=bool)
    if not mask.any():
        return
    sub = frame.loc[mask, ["street"]]
    split = map_distinct(sub, ["street"], lambda s: _street_tuple(split_street(s)), ["s", "n", "l", "a"])
    found = split["n"].notna().to_numpy()
    rows = np.flatnonzero(mask)[found]
    before = street.to_numpy(dtype=object).copy()
    for column, key in (
        ("street", "s"),
        ("house_number", "n"),
        ("house_letter", "l"),
        ("house_number_addition", "a"),
    ):
        values = frame[column].to_numpy(dtype=object).copy()
        new = split[key].to_numpy(dtype=object)[found]
        if column in ("street", "house_number"):
            values[rows] = new
        else:
            values[rows] = np.where(pd.isna(values[rows]), new, values[rows])
        frame[column] = values
    flagged = np.zeros(len(frame), bool)
    flagged[rows] = True
    report.add(flagged, "street", "STREET_NUMBER_SPLIT", "info", before)


def _street_tuple(address) -> tuple:
    hn = address.house_number
    return address.street, hn.number, hn.letter, hn.addition
