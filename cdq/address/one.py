"""One address without frames: ``complete_one(record, store)`` for a form or the service.

:func:`cdq.address.complete` is built for files (a million rows through vectorised joins); on one row its
pandas overhead is most of a request. Here the same decision is taken for one record with scalar code:
one indexed query for the register addresses at (postcode, number), the same rules
(:mod:`cdq.address.resolve`'s keys, :mod:`cdq.address.text`'s comparison, :mod:`cdq.address.postal`'s
forms) and the same findings, in the same order. ``tests/test_address_one.py`` checks it against
:func:`~cdq.address.complete` on a sample of addresses of every kind (verified, completed, corrected,
ambiguous, not_found, addition_not_found, withdrawn, range, postbus, invalid).

Records the form path never sends go through :func:`~cdq.address.complete` itself, unchanged: a Belgian
address (BeST-Address search by street), one without a postcode (postcode search by street and city), a
store without street-level addresses, and a store that is not a local SQLite reference (the PDOK provider).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cdq.address import belgium, postal, postcodes
from cdq.address.complete import ADDRESS_COLUMNS, NEW_COLUMNS, NUMBER_ONLY, ORIG_PREFIX, STAGE, SURE_KINDS
from cdq.address.keys import number_range, suffix_key
from cdq.address.resolve import exact_key, notation_key
from cdq.address.store import CONFLICT, UNUSABLE
from cdq.address.text import city_key, compare, similar_keys, street_key
from cdq.address_parts import split_house_number

__all__ = ["complete_one", "encode_postcode", "register_rows", "resolve_one", "squash_postcode"]

_ROWS = ("SELECT a.letter, a.addition, s.name, p.city, p.municipality, p.province, IFNULL(a.bag_id, -1), a.flags, "
         "st.name FROM addresses a JOIN streets s ON s.id = a.street_id JOIN places p ON p.id = a.place_id "
         "LEFT JOIN statuses st ON st.id = a.status_id WHERE a.postcode = ? AND a.number = ? "
         "ORDER BY a.letter, a.addition")
_DISPLAY = re.compile(r"^([1-9]\d{3})\s?([A-Z]{2})$")
_OUTCOMES = {"standardised": ("STANDARDISED", "info"), "corrected": ("CORRECTED", "warning"),
             "completed": ("COMPLETED", "info")}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _text(value: object) -> str | None:
    """Stripped text, ``None`` where empty (as ``complete``'s ``_text``)."""
    return None if _missing(value) else (str(value).strip() or None)


def _upper(value: object) -> str | None:
    return None if _missing(value) else (str(value).strip().upper() or None)


def squash_postcode(value: object) -> str | None:
    """:func:`cdq.address.postcodes.squash` for one value."""
    if _missing(value):
        return None
    return re.sub(postcodes.rules().separators, "", str(value).upper()) or None


def _valid(pc: str | None) -> bool:
    rules = postcodes.rules()
    return pc is not None and re.match(rules.pattern, pc) is not None and pc[4:] not in rules.forbidden_letters


def encode_postcode(pc: str | None) -> int:
    """:func:`cdq.address.keys.encode_postcodes` for one canonical postcode (-1 if malformed)."""
    if pc is None or len(pc) != 6 or not pc.isascii():
        return -1
    digits, letters = pc[:4], pc[4:]
    if not digits.isdigit() or digits[0] == "0" or not ("A" <= letters[0] <= "Z" and "A" <= letters[1] <= "Z"):
        return -1
    return int(digits) * 676 + (ord(letters[0]) - 65) * 26 + (ord(letters[1]) - 65)


def register_rows(store: Any, pc_code: int, number: int) -> list[dict[str, Any]]:
    """Every register address at (encoded postcode, number), usable or not, in the register's key order."""
    out = []
    for letter, addition, street, city, muni, province, bag, flags, status in store.conn.execute(
            _ROWS, (pc_code, number)):
        out.append({"letter": letter or None, "addition": addition or None, "street": street, "city": city,
                    "municipality": muni, "province": province, "number": number,
                    "bag_id": str(bag).zfill(16) if bag >= 0 else None, "usable": not flags & UNUSABLE,
                    "conflict": bool(flags & CONFLICT), "register_status": status})
    return out


class _One:
    """The typed address in canonical pieces, the new values and the findings of one record."""

    def __init__(self, record: dict[str, Any], record_id: object):
        self.record, self.record_id = record, record_id
        street, number = _text(record.get("street")), _text(record.get("house_number"))
        if number is None and street is not None and re.fullmatch(NUMBER_ONLY, street):
            number, street = street, None  # "36A" in the address field is a number, not a street
        parts = split_house_number(number) if number is not None else None
        value = int(parts.number) if parts is not None and parts.number else -1
        self.number = value if 0 < value <= 99999 else None
        letter, addition = _upper(record.get("house_letter")), _upper(record.get("house_number_addition"))
        self.letter = letter if letter is not None else (parts.letter if parts is not None else None)
        self.addition = addition if addition is not None else (parts.addition if parts is not None else None)
        self.pc = squash_postcode(record.get("postcode"))
        self.pc_ok = _valid(self.pc)
        self.number_text, self.street, self.city = number, street, _text(record.get("city"))
        self.range = number_range(number) if number is not None else None
        self.status: str | None = None
        self.values: dict[str, Any] = {c: None for c in ADDRESS_COLUMNS + NEW_COLUMNS[:3]}
        self.set_mask: set[str] = set()
        self.findings: list[dict[str, Any]] = []

    def set(self, column: str, value: Any) -> None:
        self.values[column] = value
        if column in ADDRESS_COLUMNS:
            self.set_mask.add(column)

    def add(self, rule: str, column: str, value: Any, severity: str, reason: str, detail: Any) -> None:
        self.findings.append({"stage": STAGE, "rule": rule, "column": column, "record_id": self.record_id,
                              "value": value, "severity": severity, "reason_code": reason, "detail": detail})

    def row(self) -> dict[str, Any]:
        """The output row as ``complete``'s ``_Result.apply`` writes it."""
        out = dict(self.record)
        for column in ADDRESS_COLUMNS:
            before = self.record.get(column)
            after = self.values[column] if column in self.set_mask else before
            if column == "postcode":
                after = _display(after)
            if column in self.set_mask and _comparable(before) != _comparable(after):
                out[ORIG_PREFIX + column] = before
            out[column] = after
        for column in NEW_COLUMNS[:3]:
            out[column] = self.values[column]
        out["address_status"] = self.status
        return out


def _display(value: object) -> object:
    if isinstance(value, str):
        return _DISPLAY.sub(r"\1 \2", value)
    return None if _missing(value) else np.nan  # the frame's .str.replace gives NaN for a non-text value


def _comparable(value: object) -> str:
    return "" if _missing(value) else str(value)


def _batch_only(one: _One, record: dict[str, Any], store: Any) -> bool:
    """True for the records this module leaves to :func:`cdq.address.complete` (see module doc)."""
    if store is None or getattr(store, "conn", None) is None or not getattr(store, "has_addresses", False):
        return True
    country = _text(record.get("country"))
    if country is not None:
        lowered = country.lower()
        if lowered in belgium.BE_COUNTRIES:
            return True
    elif one.pc is not None and re.fullmatch(r"\d{4}", one.pc) and belgium.has_belgium(store):
        if store.conn.execute("SELECT 1 FROM be_addresses WHERE postcode = ? LIMIT 1", (int(one.pc),)).fetchone():
            return True
    if one.street is not None and postal.parse_postal(one.street):
        return False  # a Postbus is settled before the postcode search
    searchable = one.pc is None and one.number is not None and one.street is not None and one.city is not None
    return searchable


def complete_one(record: dict[str, Any], store: Any, record_id: object = 0) -> tuple[dict[str, Any], list[dict]]:
    """Complete and verify one address: ``(row, findings)`` exactly as :func:`cdq.address.complete` gives
    them for a one-row frame (the row as a dict with ``orig:<column>`` where a value changed; findings as
    dicts with the columns of :data:`cdq.columns.FINDINGS`).

    Examples:
        >>> from cdq.address import load_demo_reference
        >>> import tempfile, os
        >>> s = load_demo_reference(os.path.join(tempfile.mkdtemp(), "demo.sqlite"))
        >>> row, findings = complete_one({"postcode": "2132 aa", "house_number": "0"}, s)
        >>> row["address_status"], [f["reason_code"] for f in findings]
        ('invalid', ['ADDRESS_INVALID_HOUSE_NUMBER'])
    """
    one = _One(record, record_id)
    if _batch_only(one, record, store):
        return _through_batch(record, store, record_id)
    if _postal(one, store):
        return one.row(), one.findings
    if _invalid(one):
        return one.row(), one.findings
    _verify(one, store)
    return one.row(), one.findings


def _through_batch(record: dict[str, Any], store: Any, record_id: object) -> tuple[dict[str, Any], list[dict]]:
    from cdq.address.complete import complete

    done, findings = complete(pd.DataFrame([{**record, "record_id": record_id}]), store)
    row = done.iloc[0].to_dict()
    if "record_id" not in record:
        row.pop("record_id", None)
    return row, findings.to_dict("records")


def _postal(one: _One, store: Any) -> bool:
    """A Postbus/Antwoordnummer (:func:`cdq.address.postal.mark_postal` for one record); True if it was one."""
    parsed = postal.parse_postal(one.street) if one.street is not None else None
    if not parsed:
        return False
    kind, box = parsed[0], parsed[1] if parsed[1] is not None else one.number_text
    if not (bool(box) and str(box).strip().isdigit() and len(str(box).strip()) <= 6 and one.pc_ok):
        one.status = "invalid"
        one.add("address_syntax", "street", one.street, "error", "ADDRESS_POSTAL_INVALID",
                "a Postbus/Antwoordnummer needs a number of 1-6 digits and a valid postcode")
        return True
    area = encode_postcode(one.pc) // 676
    places = postal.area_places(store, {area})
    checkable = bool(getattr(store, "has_addresses", False)) or bool(places)
    names = [n for n in places.get(area, []) if n]
    one.set("street", postal.POSTAL_NAMES[kind])
    one.set("house_number", str(box).strip())
    one.set("postcode", one.pc)
    if checkable and not names:
        one.status = "not_found"
        one.add("postal", "postcode", one.pc, "error", "ADDRESS_NOT_FOUND",
                "the register knows no addresses in this postcode area")
        return True
    city = one.city
    fits = city is None or not names or any(
        city_key(city) == city_key(n) or similar_keys(city_key(city), city_key(n)) for n in names)
    if not fits:
        one.status = "ambiguous"
        one.add("postal", "city", city, "warning", "POSTCODE_CITY_MISMATCH",
                f"city is not a place of postcode area {area}; kept as typed")
        return True
    one.status = kind
    one.add("postal", "street", None, "info", f"ADDRESS_{kind.upper()}",
            f"{postal.POSTAL_NAMES[kind]}: a postal address of its own kind (form and postcode area checked)")
    return True


def _invalid(one: _One) -> bool:
    """``complete``'s ``_mark_invalid`` for one (non-postal) record; True if it is invalid."""
    has_pc, has_number = one.pc is not None, one.number is not None
    bad_pc = has_pc and not one.pc_ok
    bad_number = one.number_text is not None and not has_number
    rule = "address_syntax"
    if bad_pc:
        one.add(rule, "postcode", one.pc, "error", "ADDRESS_INVALID_POSTCODE",
                "postcode is not 4 digits + 2 letters (not SA/SD/SS)")
    if bad_number:
        one.add(rule, "house_number", one.number_text, "error", "ADDRESS_INVALID_HOUSE_NUMBER",
                "house number is not 1-5 digits")
    incomplete = not bad_pc and not bad_number and not (has_pc and has_number)  # searchable ones went to batch
    if incomplete:
        one.add(rule, "postcode", None, "warning", "ADDRESS_INCOMPLETE",
                "needs postcode + house number, or street + house number + city")
    if bad_pc or bad_number or incomplete:
        one.status = "invalid"
        return True
    return False


def resolve_one(letter: str | None, addition: str | None, rows: list[dict[str, Any]]) -> tuple[int, str, int]:
    """:func:`cdq.address.resolve.resolve` for one record: ``(row index or -1, kind, variants)``."""
    if not rows:
        return -1, "not_found", 0
    exact = exact_key(letter, addition)
    for i, r in enumerate(rows):
        if exact_key(r["letter"] or "", r["addition"] or "") == exact:
            return i, "exact", len(rows)
    skeys = [suffix_key(r["letter"] or "", r["addition"] or "") for r in rows]
    own = suffix_key(letter or "", addition or "")
    for kind, key in (("suffix", own), ("notation", notation_key(letter or "", addition or ""))):
        hits = [i for i, k in enumerate(skeys) if k == key] if key or kind == "suffix" else []
        if len(hits) == 1:
            return hits[0], kind, len(rows)
    n = len(rows)
    kind = "addition_not_found" if own != "" else "single" if n == 1 else "ambiguous"
    shared = len({r["street"] for r in rows}) == 1 and len({r["city"] for r in rows}) == 1
    return (0 if kind == "single" or shared else -1), kind, n


def _outcome(typed: str | None, register: str, key: Any, also: str | None = None) -> str:
    if typed is None:
        return "completed"
    return "verified" if typed == register else compare(typed, register, key=key, also=also)


def _verify(one: _One, store: Any) -> None:
    """``complete``'s ``_verify`` for one record with a valid postcode and number."""
    code = encode_postcode(one.pc)
    rows = register_rows(store, code, int(one.number))  # type: ignore[arg-type]
    usable = [r for r in rows if r["usable"]]
    withdrawn = [r for r in rows if not r["usable"]]
    cidx, kind, variants = resolve_one(one.letter, one.addition, usable)
    if kind == "not_found":
        one.status = "not_found"
        known = store.conn.execute("SELECT 1 FROM addresses WHERE postcode = ? LIMIT 1", (code,)).fetchone()
        if known:
            one.add("bag_lookup", "house_number", None, "error", "ADDRESS_NOT_FOUND",
                    "this house number does not exist under this postcode in the register")
        else:
            one.add("bag_lookup", "postcode", None, "error", "ADDRESS_NOT_FOUND",
                    "this postcode has no addresses in the register")
    _apply(one, kind, usable[cidx] if cidx >= 0 else None, variants)
    if withdrawn and kind in ("not_found", "addition_not_found"):
        at, again, _ = resolve_one(one.letter, one.addition, withdrawn)
        if again in SURE_KINDS:
            one.status = "withdrawn"
            one.values["house_number"] = one.values["bag_address_id"] = None
            one.add("bag_lookup", "house_number", None, "warning", "ADDRESS_WITHDRAWN",
                    f"the register lists this address as withdrawn ({withdrawn[at]['register_status']})")
    if one.range is not None and kind != "exact" and one.status in (
            "verified", "completed", "corrected", "ambiguous", "not_found", "addition_not_found"):
        one.status = "range"
        for column in ("house_number", "house_letter", "house_number_addition", "bag_address_id"):
            one.set_mask.discard(column)
            one.values[column] = None
        one.add("address_syntax", "house_number", one.number_text, "warning", "ADDRESS_NUMBER_RANGE",
                f"a range of house numbers ({one.range}) is several addresses, not one")


def _apply(one: _One, kind: str, reg: dict[str, Any] | None, variants: int) -> None:
    """``complete``'s ``_apply_matches`` for one record."""
    if reg is None:
        if kind == "ambiguous":
            one.status = "ambiguous"
            one.add("bag_lookup", "house_number_addition", None, "warning", "ADDRESS_AMBIGUOUS",
                    "several register addresses with different streets under this number")
        elif kind == "addition_not_found":
            one.status = "addition_not_found"
            one.add("bag_lookup", "house_number_addition", None, "warning", "ADDRESS_ADDITION_NOT_FOUND",
                    "the register does not hold this letter/addition at this number")
        return
    street = _outcome(one.street, reg["street"], street_key)
    city = _outcome(one.city, reg["city"], city_key, reg["municipality"])
    mismatch = "mismatch" in (street, city)
    sure = not mismatch and kind in SURE_KINDS and not reg["conflict"]
    for column, outcome, typed in (("street", street, one.street), ("city", city, one.city)):
        if outcome not in ("mismatch", "verified"):
            one.set(column, reg[column])
        _outcome_finding(one, column, outcome, typed, reg[column])
    one.set("municipality", reg["municipality"])
    one.set("province", reg["province"])
    if sure:
        one.set("postcode", _decode(encode_postcode(one.pc)))
        one.set("house_number", str(reg["number"]))
        one.set("house_letter", reg["letter"])
        one.set("house_number_addition", reg["addition"])
        one.set("bag_address_id", reg["bag_id"])
    _addition_finding(one, kind, reg, variants)
    corrected = "corrected" in (street, city) or kind in ("suffix", "notation")
    completed = "completed" in (street, city) or kind == "single"
    status = "corrected" if corrected else "completed" if completed else "verified"
    status = "addition_not_found" if kind == "addition_not_found" else status
    one.status = "ambiguous" if mismatch or kind == "ambiguous" or reg["conflict"] else status
    if reg["conflict"]:
        one.add("bag_lookup", "house_number", None, "warning", "ADDRESS_REGISTER_DUPLICATE",
                "the register lists this address twice with different streets, places or ids")


def _decode(code: int) -> str:
    digits, rest = code // 676, code % 676
    return f"{digits}{chr(rest // 26 + 65)}{chr(rest % 26 + 65)}"


def _outcome_finding(one: _One, column: str, outcome: str, typed: str | None, register: str) -> None:
    if outcome in _OUTCOMES:
        suffix, severity = _OUTCOMES[outcome]
        one.add("bag_lookup", column, typed, severity, f"ADDRESS_{column.upper()}_{suffix}", f"register: {register}")
    elif outcome == "mismatch":
        reason = "ADDRESS_STREET_MISMATCH" if column == "street" else "POSTCODE_CITY_MISMATCH"
        one.add("bag_lookup", column, typed, "warning", reason, f"register has {register} here; kept as typed")


def _addition_finding(one: _One, kind: str, reg: dict[str, Any], variants: int) -> None:
    label = f"{reg['number']}{reg['letter'] or ''}" + (f"-{reg['addition']}" if reg["addition"] is not None else "")
    rule, column = "bag_lookup", "house_number_addition"
    if kind in ("suffix", "notation"):
        one.add(rule, column, None, "info", "ADDRESS_ADDITION_CORRECTED", "register: " + label)
    elif kind == "single":
        one.add(rule, column, None, "info", "ADDRESS_ADDITION_COMPLETED", "register: " + label)
    elif kind == "addition_not_found":
        one.add(rule, column, None, "warning", "ADDRESS_ADDITION_NOT_FOUND",
                "the register does not hold this letter/addition at this number")
    elif kind == "ambiguous":
        one.add(rule, column, None, "warning", "ADDRESS_AMBIGUOUS",
                f"{variants} register addresses under this number; give the letter or addition")
