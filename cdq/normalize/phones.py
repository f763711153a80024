"""Phone numbers: E.164 with the Netherlands as default region, mobile vs fixed line, undialable flagged.

Parsing with ``phonenumbers`` costs ~35 µs a number, too slow for a million distinct numbers. Dutch
numbers with a 9-digit national number (the vast majority) are therefore canonicalised with vectorised
string operations, and their validity and type are asked of ``phonenumbers`` once per 4-digit national
prefix: the Dutch numbering plan decides both on the leading digits. Everything else (foreign numbers,
extensions, odd lengths) is parsed by ``phonenumbers`` once per distinct value.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
from phonenumbers import PhoneNumberType

from cdq.normalize._distinct import arrow_text, map_distinct
from cdq.normalize._report import Collector

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.PAGER}


def parse_phone(text: str | None, region: str = "NL") -> tuple[str | None, str | None]:
    """``(e164, kind)`` for one number, kind ``mobile``/``fixed``/``other``; ``(None, None)`` if not dialable.

    Examples:
        >>> parse_phone("06-12345678")
        ('+31612345678', 'mobile')
        >>> parse_phone("+31 (0)20 123 4567")
        ('+31201234567', 'fixed')
        >>> parse_phone("12345")
        (None, None)
    """
    if text is None or not str(text).strip():
        return None, None
    cleaned = str(text).replace("(0)", "")
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None, None
    if not phonenumbers.is_valid_number(number):
        return None, None
    kind = phonenumbers.number_type(number)
    label = (
        "mobile"
        if kind in MOBILE_TYPES
        else "fixed"
        if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.VOIP, PhoneNumberType.FIXED_LINE_OR_MOBILE)
        else "other"
    )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), label


@lru_cache(maxsize=None)
def _dutch_prefix(prefix: str, length: int) -> str | None:
    """Kind of a Dutch national number by its first 4 digits and length (None if invalid)."""
    return parse_phone("+31" + prefix + "2" * (length - len(prefix)))[1]


def _international_digits(values: pd.Series) -> pd.Series:
    """Digits with the country code ("31612345678"), or <NA> where the fast path does not apply."""
    text = arrow_text(values).str.replace("(0)", "", regex=False)
    plus = text.str.strip().str.startswith("+")
    digits = text.str.replace(r"[\s\-./()]", "", regex=True).str.lstrip("+")
    only_digits = digits.str.fullmatch(r"\d{9,14}").fillna(False)
    out = pd.Series(pd.NA, index=values.index, dtype="string[pyarrow]")
    national = ~plus & digits.str.match(r"0[1-9]").fillna(False)
    out = out.mask(only_digits & plus, digits)
    out = out.mask(only_digits & ~plus & digits.str.startswith("00").fillna(False), digits.str[2:])
    out = out.mask(only_digits & national, "31" + digits.str[1:])
    # Excel drops the leading zero: "612345678" is 06-12345678.
    out = out.mask(only_digits & ~plus & digits.str.fullmatch(r"[1-9]\d{8}").fillna(False), "31" + digits)
    return out


def canonical_phones(values: pd.Series, region: str = "NL") -> pd.DataFrame:
    """Columns ``e164`` and ``kind`` (mobile/fixed/other, None where not dialable) for a phone column."""
    intl = _international_digits(values)
    fast = intl.str.fullmatch(r"31[1-9]\d{8}").fillna(False).to_numpy(dtype=bool)
    e164 = np.full(len(values), None, dtype=object)
    kind = np.full(len(values), None, dtype=object)
    if fast.any():
        nsn = intl[fast].str[2:]
        prefixes = nsn.str[:4].to_numpy(dtype=object)
        kinds = (
            np.array([_dutch_prefix(p, 9) for p in prefixes], dtype=object)
            if len(prefixes) < 50
            else pd.Series(prefixes)
            .map({p: _dutch_prefix(p, 9) for p in set(prefixes)})
            .to_numpy(dtype=object)
        )
        kind[fast] = kinds
        e164[fast] = np.where(pd.isna(kinds), None, ("+" + intl[fast]).to_numpy(dtype=object))
    slow = ~fast & values.notna().to_numpy()
    if slow.any():
        parsed = map_distinct(values[slow].to_frame("v"), ["v"], lambda v: parse_phone(v, region), ["e", "k"])
        e164[slow] = parsed["e"].to_numpy()
        kind[slow] = parsed["k"].to_numpy()
    return pd.DataFrame({"e164": e164, "kind": kind}, index=values.index)


def normalize_phones(frame: pd.DataFrame, report: Collector, region: str = "NL") -> None:
    """E.164 in ``phone``/``mobile``; a mobile typed as phone (or the reverse) moves if the other is free."""
    before = {c: frame[c].to_numpy(dtype=object) for c in ("phone", "mobile")}
    parsed = {c: canonical_phones(frame[c], region) for c in ("phone", "mobile")}
    values = {}
    for column in ("phone", "mobile"):
        e164 = parsed[column]["e164"].to_numpy(dtype=object)
        present = pd.notna(before[column])
        ok = pd.notna(e164)
        values[column] = np.where(ok, e164, before[column])
        report.add(
            present & ok & (e164 != before[column]), column, "PHONE_REFORMATTED", "info", before[column]
        )
        report.add(present & ~ok, column, "PHONE_NOT_DIALABLE", "error", before[column])
    phone_kind = parsed["phone"]["kind"].to_numpy(dtype=object)
    mobile_kind = parsed["mobile"]["kind"].to_numpy(dtype=object)
    to_mobile = (phone_kind == "mobile") & (pd.isna(values["mobile"]) | (mobile_kind == "fixed"))
    to_phone = (mobile_kind == "fixed") & (pd.isna(values["phone"]) | (phone_kind == "mobile"))
    new_phone = np.where(to_phone, values["mobile"], np.where(to_mobile, None, values["phone"]))
    new_mobile = np.where(to_mobile, values["phone"], np.where(to_phone, None, values["mobile"]))
    frame["phone"], frame["mobile"] = new_phone, new_mobile
    report.add(to_mobile, "phone", "PHONE_MOVED_TO_MOBILE", "info", before["phone"])
    report.add(to_phone, "mobile", "PHONE_MOVED_TO_PHONE", "info", before["mobile"])
