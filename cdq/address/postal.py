"""Postal addresses of their own kind: ``Postbus NNN`` and ``Antwoordnummer NNN`` with a postcode.

They have no register address (PostNL issues their postcodes), so they are checked for form (a number of 1-6
digits, a valid postcode) and plausibility (the postcode's four digits are an area the register knows, and
the typed city is one of that area's places), then given the status ``postbus`` or ``antwoordnummer``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cdq.address.keys import encode_postcodes, per_distinct
from cdq.address.text import city_key, similar_keys

_KIND = re.compile(r"^\s*(postbus|antwoordnummer|p\.?\s*o\.?\s*box|pb\.?)\s*(\d{1,6})?\s*$", re.IGNORECASE)
_WORDS = {"postbus": "postbus", "antwoordnummer": "antwoordnummer", "pb": "postbus", "pb.": "postbus"}
POSTAL_NAMES = {"postbus": "Postbus", "antwoordnummer": "Antwoordnummer"}


def parse_postal(street: object) -> tuple[str, str | None] | None:
    """(kind, box number or None) for a street field that is a Postbus/Antwoordnummer, else None.

    Examples:
        >>> parse_postal("Postbus 123"), parse_postal("P.O. Box"), parse_postal("Kerkstraat")
        (('postbus', '123'), ('postbus', None), None)
    """
    match = _KIND.match(str(street))
    if not match:
        return None
    word = re.sub(r"[\s.]", "", match.group(1).lower())
    return _WORDS.get(word, "postbus"), match.group(2)


def postal_kind(street: pd.Series, number: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(kind or None, box number text or None) per record: "Postbus 123" in the street field, or "Postbus" + 123.

    Examples:
        >>> k, n = postal_kind(pd.Series(["Postbus 123", "Antwoordnummer", "Kerkstraat"]), pd.Series([None, "45", "1"]))
        >>> k.tolist(), n.tolist()
        (['postbus', 'antwoordnummer', None], ['123', '45', None])
    """
    parsed = per_distinct(street, parse_postal)
    kinds = np.array([p[0] if p else None for p in parsed], dtype=object)
    boxes = np.array([p[1] if p else None for p in parsed], dtype=object)
    typed = number.to_numpy(dtype=object)
    boxes = np.where((boxes == None) & (kinds != None), typed, boxes)  # noqa: E711 - elementwise
    return kinds, boxes


def area_places(store: Any, pc4s: set[int]) -> dict[int, list[str]]:
    """PC4 -> the register's place names (and municipalities) under it."""
    out: dict[int, list[str]] = {}
    if store is None:
        return out
    areas = getattr(store, "pc4_places", None)
    if areas is not None:
        return areas(sorted(pc4s))
    table = store.pc4_table() if hasattr(store, "pc4_table") else pd.DataFrame()
    for p, place, muni in zip(table.get("pc4", []), table.get("place", []), table.get("municipality", [])):
        if int(p) in pc4s:
            out.setdefault(int(p), []).extend([place, muni])
    return out


def mark_postal(given: pd.DataFrame, todo: np.ndarray, store: Any, result: Any, findings: Any) -> np.ndarray:
    """Settle every Postbus/Antwoordnummer record; returns the mask of rows settled here."""
    kinds, boxes = postal_kind(given["street"], given["number_text"])
    rows = np.flatnonzero(todo & (kinds != None))  # noqa: E711 - elementwise
    settled = np.zeros(len(given), dtype=bool)
    if len(rows) == 0:
        return settled
    settled[rows] = True
    box_ok = np.array([bool(b) and str(b).strip().isdigit() and len(str(b).strip()) <= 6 for b in boxes[rows]])
    pc_ok = given["pc_ok"].to_numpy(dtype=bool)[rows]
    bad = rows[~(box_ok & pc_ok)]
    result.status[bad] = "invalid"
    findings.add(bad, "address_syntax", "street", given["street"].to_numpy(dtype=object)[bad], "error",
                 "ADDRESS_POSTAL_INVALID", "a Postbus/Antwoordnummer needs a number of 1-6 digits and a valid postcode")
    good = rows[box_ok & pc_ok]
    if len(good) == 0:
        return settled
    pc4 = (encode_postcodes(pd.Series(given["pc"].to_numpy(dtype=object)[good])) // 676).astype(np.int64)
    places = area_places(store, set(pc4.tolist()))
    # with a register (or a PC4 table) loaded, an area it does not know is not a delivery area
    checkable = store is not None and (bool(getattr(store, "has_addresses", False)) or bool(places))
    for row, area in zip(good, pc4):
        kind, city = kinds[row], given["city"].iat[row]
        names = [n for n in places.get(int(area), []) if n]
        result.set("street", np.array([row]), POSTAL_NAMES[kind])
        result.set("house_number", np.array([row]), str(boxes[row]).strip())
        result.set("postcode", np.array([row]), given["pc"].iat[row])
        if checkable and not names:
            result.status[row] = "not_found"
            findings.add(np.array([row]), "postal", "postcode", given["pc"].iat[row], "error", "ADDRESS_NOT_FOUND",
                         "the register knows no addresses in this postcode area")
            continue
        fits = city is None or not names or any(
            city_key(city) == city_key(n) or similar_keys(city_key(city), city_key(n)) for n in names)
        if not fits:
            result.status[row] = "ambiguous"
            findings.add(np.array([row]), "postal", "city", city, "warning", "POSTCODE_CITY_MISMATCH",
                         f"city is not a place of postcode area {area}; kept as typed")
            continue
        result.status[row] = kind
        findings.add(np.array([row]), "postal", "street", None, "info", f"ADDRESS_{kind.upper()}",
                     f"{POSTAL_NAMES[kind]}: a postal address of its own kind (form and postcode area checked)")
    return settled
