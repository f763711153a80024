"""Per-value derivations of record linkage's prepared columns: names, dates, phone numbers, addresses, ids.

Each function takes ONE raw value (lower-casing, accents and punctuation are handled here) and gives the
comparison-ready value or None; :mod:`cdq.linkage.prepare` runs them once per distinct value of a column, and
:func:`cdq.linkage.prepare.prepare_one` on one record's values.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from cdq.linkage.name_variants import given_names
from cdq.linkage.text import ascii_lower, letters
from cdq.resources import resource

_PHONETIC_RULES = [
    ("sch", "s"), ("ij", "y"), ("ei", "y"), ("ey", "y"), ("ie", "i"), ("ch", "g"), ("ph", "f"), ("th", "t"),
    ("ck", "k"), ("qu", "kw"), ("ae", "a"), ("uy", "ui"), ("au", "ou"), ("dt", "t"), ("c", "k"),
    ("z", "s"), ("x", "ks"), ("v", "f"), ("w", "f"), ("h", ""),
]


def dutch_phonetic(value: str | None) -> str | None:
    """A Dutch sound key: ij/y/ei, g/ch, dt/d/t at the end, c/k, ph/f, s/z, v/f, double letters.

    Examples:
        >>> dutch_phonetic("wijnaendts") == dutch_phonetic("weinaents")
        True
        >>> dutch_phonetic("schilder") == dutch_phonetic("schilders")
        False
        >>> dutch_phonetic("klaassen") == dutch_phonetic("claasen")
        True
    """
    text = (value or "").replace(" ", "")
    if not text:
        return None
    for old, new in _PHONETIC_RULES:
        text = text.replace(old, new)
    if text.endswith("d"):
        text = text[:-1] + "t"
    if not text:
        return None
    out = [text[0]]
    for ch in text[1:]:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def prefixes() -> tuple[str, ...]:
    """Dutch surname prefixes (longest first), from ``reference_data/name_prefixes.txt``."""
    lines = resource("reference_data", "name_prefixes.txt").read_text(encoding="utf-8").splitlines()
    found = {letters(ascii_lower(line)) for line in lines if line.strip() and not line.startswith("#")}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def surname_core(value: str | None) -> str | None:
    """Surname without infix words, parts of a double name space-separated.

    Examples:
        >>> surname_core("van der Berg")
        'berg'
        >>> surname_core("Jansen-de Vries")
        'jansen vries'
        >>> surname_core("De Jong")
        'jong'
    """
    text = letters(ascii_lower(value))
    if not text:
        return None
    return " ".join(_prefix_pattern().sub(" ", f" {text} ").split()) or text


@lru_cache(maxsize=1)
def _prefix_pattern() -> re.Pattern:
    """Any prefix as whole words, longest first ("van der" before "van"): one pass instead of one per prefix."""
    return re.compile(r"(?<= )(?:" + "|".join(re.escape(p) for p in prefixes()) + r")(?= )")


def first_name(value: str | None) -> str | None:
    """First given name, titles and ordinals dropped; a value of initials only ("J.P.") gives None.

    Examples:
        >>> first_name("Sir Thomas"), first_name("J.P."), first_name("Dhr."), first_name("Zoë Anne")
        ('thomas', None, None, 'zoe')
    """
    text = given_names(ascii_lower(value))
    if not text:
        return None
    first = text.split()[0]
    return first if len(first) > 1 else None


def middle_names(value: str | None) -> str | None:
    """The given names after the first ("Jan Peter Karel" -> "peter karel"); initials among them are dropped.

    Examples:
        >>> middle_names("Jan Peter"), middle_names("Anna M. Sophia"), middle_names("Jan"), middle_names("J.P.")
        ('peter', 'sophia', None, None)
    """
    text = given_names(ascii_lower(value))
    if not text:
        return None
    words = text.split()
    if len(words[0]) < 2:
        return None
    rest = [w for w in words[1:] if len(w) > 1]
    return " ".join(rest) or None


def initials_of(first: str | None, initials: str | None) -> str | None:
    """Initial letters, from the initials field or else the given names.

    Examples:
        >>> initials_of(None, "J.P.")
        'jp'
        >>> initials_of("jan peter", None)
        'jp'
    """
    text = letters(ascii_lower(initials))
    if text:
        compact = text.replace(" ", "")
        if len(compact) <= 4 or " " not in text:
            return compact if len(compact) <= 4 else compact[0]
        return "".join(w[0] for w in text.split())
    text = given_names(ascii_lower(first))
    return "".join(w[0] for w in text.split()) if text else None


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/. ]?(\d{1,2})[-/. ]?(\d{1,2})"), (0, 1, 2)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})"), (2, 1, 0)),
    (re.compile(r"^(\d{2})(\d{2})(\d{4})$"), (2, 1, 0)),
]


#: A year or a year and month only ("1956", "1956-04", "04/1956"): never a full date.
_YEAR_MONTH = re.compile(r"^(?:\d{4}(?:[-/. ]\d{1,2})?|\d{1,2}[-/. ]\d{4})$")


def birth_date(value: object) -> str | None:
    """Parse a birth date to ``YYYY-MM-DD`` (day-first for Dutch ``dd-mm-yyyy``); keeps odd days/months.

    Examples:
        >>> birth_date("19560409"), birth_date("9-4-1956"), birth_date("1956-04-09 00:00:00")
        ('1956-04-09', '1956-04-09', '1956-04-09')
        >>> birth_date("n/a") is None
        True
    """
    text = ascii_lower(value)
    if not text or _YEAR_MONTH.match(text):
        return None
    for pattern, (y, m, d) in _DATE_PATTERNS:
        found = pattern.match(text)
        if found:
            parts = found.groups()
            if int(parts[d]) == 0:
                return None  # "00-04-1956", "00-00-1956": only partly known (partial_birth_date); a zero
                # month with a day ("1992-00-08") is a typo of a full date, kept as one
            return f"{int(parts[y]):04d}-{int(parts[m]):02d}-{int(parts[d]):02d}"
    return None


_PARTIAL_PATTERNS = [
    (re.compile(r"^(\d{4})[-/. ](\d{1,2})$"), (0, 1)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{4})$"), (1, 0)),
    (re.compile(r"^(\d{4})$"), (0, None)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$"), (2, 1)),  # 00-04-1956: day unknown
    (re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})"), (0, 1)),
]


def partial_birth_date(value: object) -> str | None:
    """A birth date known only to the year or month: ``YYYY`` or ``YYYY-MM`` (None for a full or no date).

    Sources often hold only a year ("1956"), a month ("04-1956", "1956/4") or zeros for the unknown parts
    ("00-00-1956", "1956-04-00"): compared at the precision they have (see ``compare_birth_date``).

    Examples:
        >>> partial_birth_date("1956"), partial_birth_date("04-1956"), partial_birth_date("00-00-1956")
        ('1956', '1956-04', '1956')
        >>> partial_birth_date("1956-04-00"), partial_birth_date("1956-04-09"), partial_birth_date("12")
        ('1956-04', None, None)
        >>> partial_birth_date("1992-00-08") is None  # a mistyped month, not an unknown one
        True
    """
    text = ascii_lower(value)
    if not text or birth_date(value) is not None:
        return None
    text = text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} ", text) else text
    for pattern, (y, m) in _PARTIAL_PATTERNS:
        found = pattern.match(text)
        if found:
            parts = found.groups()
            year = int(parts[y])
            if not 1800 <= year <= 2100:
                return None
            month = int(parts[m]) if m is not None else 0
            return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else f"{year:04d}"
    return None


def phone_key(value: object) -> str | None:
    """Last 9 digits of a phone number (drops +31/0031/0 prefixes); fewer than 6 digits gives None.

    Examples:
        >>> phone_key("+31 6 1234 5678") == phone_key("06-12345678")
        True
    """
    digits = re.sub(r"\D", "", str(value)) if value is not None and not pd.isna(value) else ""
    return digits[-9:] if len(digits) >= 6 else None


#: A number's digits in sorted order only block from this many digits on (fewer meet too many others).
SORTED_DIGITS_MIN = 5


def sorted_digits(value: str) -> str | None:
    """The digits of an identifier in sorted order: a blocking key that two swapped digits leave unchanged.

    Examples:
        >>> sorted_digits("257-9575"), sorted_digits("2579557"), sorted_digits("12a")
        ('2555779', '2555779', None)
    """
    digits = "".join(sorted(ch for ch in value if ch.isdigit()))
    return digits if len(digits) >= SORTED_DIGITS_MIN else None


def own_domain(domain: str) -> str | None:
    """An e-mail domain unless it is a mail provider's (``reference_data/email_domain_typos.yaml``) or a typo of
    one: an organisation's own domain (``company_domain``) names it; anyone has a gmail.com address.

    Examples:
        >>> own_domain("bakkerij-jansen.nl"), own_domain("ziggo.nl"), own_domain("upcmial.nl")
        ('bakkerij-jansen.nl', None, None)
    """
    from cdq.normalize.emails import reference, suggest_domain

    return None if domain in reference()["providers"] or suggest_domain(domain) else domain


def kvk_key(value: object) -> str | None:
    """KvK (Chamber of Commerce) number: its 8 digits (a 12-digit branch number keeps its first 8).

    Examples:
        >>> kvk_key("KvK 4192 1471"), kvk_key(41921471.0), kvk_key("-")
        ('41921471', '41921471', None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    digits = re.sub(r"\D", "", str(value))
    if len(digits) < 7:
        return None
    return digits.zfill(8)[:8]


def _joined(text: str | None) -> str | None:
    """Only the letters of a name, written together ("De la Cruz" -> "delacruz")."""
    return (letters(text) or "").replace(" ", "") or None


def _ordered_keys(a: object, b: object) -> str | None:
    """Two sound keys in alphabetical order, space-separated (None unless both are there)."""
    return " ".join(sorted((a, b))) if isinstance(a, str) and isinstance(b, str) and a and b else None


_STREET_TYPES = re.compile(r"\b(street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|place|pl|court|ct)\b")


def street_name(value: object) -> str | None:
    """Street without house number, direction-free of US type words ("3320 W. Evergreen Ave." -> "w evergreen").

    Examples:
        >>> street_name("3320 W. Evergreen Ave."), street_name("Kerkstraat 12a")
        ('w evergreen', 'kerkstraat')
    """
    raw = ascii_lower(value)
    text = letters(re.sub(r"\d+[a-z]?\b", " ", raw)) if raw else None
    if not text:
        return None
    return " ".join(_STREET_TYPES.sub(" ", text).split()) or text


def _number_in_street(value: object) -> str | None:
    """The house number written in the street field (leading "3320 W ..." or trailing "Kerkstraat 12a")."""
    text = ascii_lower(value) or ""
    found = re.match(r"^(\d+)\b", text) or re.search(r"\s(\d+)\s*[a-z]?$", text)
    return found.group(1) if found else None


def _gender(value: object) -> str | None:
    text = ascii_lower(value)
    if not text:
        return None
    return {"m": "m", "man": "m", "male": "m", "f": "f", "v": "f", "vrouw": "f", "female": "f"}.get(text)
