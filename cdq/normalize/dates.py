"""Dates in Dutch spellings → ISO ``yyyy-mm-dd``; impossible dates flagged, day/month ambiguity recorded.

Birth dates repeat (a million customers share ~40k birth dates), so each distinct spelling is parsed once.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from cdq.normalize._distinct import map_distinct
from cdq.normalize._report import Collector

MONTHS = {
    "januari": 1,
    "jan": 1,
    "january": 1,
    "februari": 2,
    "feb": 2,
    "february": 2,
    "maart": 3,
    "mrt": 3,
    "mar": 3,
    "march": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "jun": 6,
    "june": 6,
    "juli": 7,
    "jul": 7,
    "july": 7,
    "augustus": 8,
    "aug": 8,
    "august": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "oct": 10,
    "october": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})([-/.\s])(\d{1,2})\2(\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")

_WORDS = re.compile(r"^(\d{1,2})\s*(?:e\s+)?([a-z]+)\.?\s*,?\s*(\d{2}|\d{4})$")


def _year(text: str, today: dt.date) -> int:
    """Four-digit year; a two-digit year is the most recent past one ("61" → 1961, "05" → 2005)."""
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= today.year % 100 else 1900
    return year


def _compact(text: str) -> tuple[str | None, str | None]:
    """ "19610303" (yyyymmdd) or "03031961" (ddmmyyyy), whichever is a real date (yyyymmdd first)."""
    for y, mo, d in ((text[:4], text[4:6], text[6:]), (text[4:], text[2:4], text[:2])):
        try:
            return dt.date(int(y), int(mo), int(d)).isoformat(), None
        except ValueError:
            continue
    return None, "invalid"


def parse_date(text: str | None, today: dt.date | None = None) -> tuple[str | None, str | None]:
    """``(iso, note)`` for one date; note is None, ``"ambiguous"``, ``"month-day"`` or ``"invalid"``.

    Examples:
        >>> parse_date("03-03-1961"), parse_date("3 maart 1961"), parse_date("1961-03-03")
        (('1961-03-03', None), ('1961-03-03', None), ('1961-03-03', None))
        >>> parse_date("4/5/61"), parse_date("31-02-1961"), parse_date("12/31/1961")
        (('1961-05-04', 'ambiguous'), (None, 'invalid'), ('1961-12-31', 'month-day'))
    """
    if text is None or not str(text).strip():
        return None, None
    today = today or dt.date.today()
    text = " ".join(str(text).strip().lower().split())
    note = None
    if m := _ISO.match(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _DMY.match(text):
        d, mo, y = int(m.group(1)), int(m.group(3)), _year(m.group(4), today)
        if mo > 12 >= d:
            d, mo, note = mo, d, "month-day"
        elif m.group(2) == "/" and d <= 12 and mo <= 12 and d != mo:
            note = "ambiguous"
    elif re.fullmatch(r"\d{8}", text):
        return _compact(text)
    elif (m := _WORDS.match(text)) and m.group(2) in MONTHS:
        d, mo, y = int(m.group(1)), MONTHS[m.group(2)], _year(m.group(3), today)
    else:
        return None, "invalid"
    try:
        return dt.date(y, mo, d).isoformat(), note
    except ValueError:
        return None, "invalid"


def normalize_birth_dates(frame: pd.DataFrame, report: Collector, today: dt.date | None = None) -> None:
    """ISO ``birth_date`` in place; flag invalid, ambiguous and implausible (future, > 120 years) dates."""
    today = today or dt.date.today()
    before = frame["birth_date"].to_numpy(dtype=object)
    parsed = map_distinct(frame, ["birth_date"], lambda v: parse_date(v, today), ["iso", "note"])
    iso, note = parsed["iso"].to_numpy(dtype=object), parsed["note"].to_numpy(dtype=object)
    ok = pd.notna(iso)
    frame["birth_date"] = np.where(ok, iso, before)
    report.add(ok & (iso != before), "birth_date", "DATE_REFORMATTED", "info", before)
    report.add(note == "invalid", "birth_date", "DATE_INVALID", "error", before)
    report.add(
        (note == "ambiguous") | (note == "month-day"),
        "birth_date",
        "DATE_AMBIGUOUS",
        "warning",
        before,
        np.where(note == "month-day", "read as month-day", "read as day-month"),
    )
    earliest = dt.date(today.year - 120, today.month, min(today.day, 28)).isoformat()
    iso_text = np.where(ok, iso, "")
    report.add(
        ok & ((iso_text > today.isoformat()) | (iso_text < earliest)),
        "birth_date",
        "DATE_IMPLAUSIBLE",
        "warning",
        before,
    )
