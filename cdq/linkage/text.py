"""Text helpers shared by the linkage's preparation and its name tables: lower-case ASCII, letters only."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_NON_LETTER = re.compile(r"[^a-z ]+")


def ascii_lower(value: object) -> str | None:
    """Lower-case, accents removed, whitespace collapsed; empty becomes None.

    Examples:
        >>> ascii_lower("  Zoë  Müller ")
        'zoe muller'
        >>> ascii_lower("") is None
        True
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().lower()
    return " ".join(text.split()) or None


def letters(value: str | None) -> str | None:
    """Only letters and single spaces (hyphens become spaces).

    Examples:
        >>> letters("jansen-de vries")
        'jansen de vries'
    """
    if not value:
        return None
    return " ".join(_NON_LETTER.sub(" ", value.replace("'", "")).split()) or None
