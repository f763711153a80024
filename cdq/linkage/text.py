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
    text = str(value)
    if not text.isascii():  # NFKD of ASCII text is itself: most values skip the Unicode work
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.lower().split()) or None


def letters(value: str | None) -> str | None:
    """Only letters and single spaces (hyphens become spaces).

    Examples:
        >>> letters("jansen-de vries")
        'jansen de vries'
    """
    if not value:
        return None
    return " ".join(_NON_LETTER.sub(" ", value.replace("'", "")).split()) or None
