"""Split combined input fields: a name in one column, an address in one column, "12-A" in a number column.

These are the structural splits the staging frame needs; ``cdq.normalize`` refines the parts (casing,
gender, salutations, postcode canonical form) later. Every function is pure and works on one string;
:func:`cdq.staging.stage` applies them once per distinct value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cdq.resources import resource

_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "´": "'", "‘": "'"})

SALUTATIONS = {
    "dhr": "M",
    "de heer": "M",
    "heer": "M",
    "hr": "M",
    "mr.": None,
    "mevr": "F",
    "mevrouw": "F",
    "mw": "F",
    "mej": "F",
    "mejuffrouw": "F",
    "mevr.": "F",
    "fam": None,
    "familie": None,
    "mr": None,
    "mrs": "F",
    "ms": "F",
    "miss": "F",
    "sir": "M",
}
#: Particles that belong to the surname itself, never an infix: "El Amrani", "Ben Ali", "Mac Donald".
SURNAME_PARTICLES = {"el", "al", "ben", "bin", "abu", "ait", "ould", "bou", "mac", "mc", "o'", "st", "st."}
TITLES = {
    "drs",
    "dr",
    "ir",
    "ing",
    "mr",
    "prof",
    "ds",
    "bc",
    "ba",
    "bsc",
    "msc",
    "ma",
    "mba",
    "lic",
    "dra",
    "kand",
}


@lru_cache(maxsize=1)
def name_prefixes() -> tuple[tuple[str, ...], ...]:
    """The surname prefix table as token tuples, longest first (``("van", "der")``, ``("de",)``, ...)."""
    lines = resource("reference_data", "name_prefixes.txt").read_text(encoding="utf-8").splitlines()
    prefixes = {tuple(line.strip().lower().translate(_APOSTROPHES).split()) for line in lines}
    prefixes.discard(())
    prefixes = {p for p in prefixes if not p[0].startswith("#")}
    return tuple(sorted(prefixes, key=len, reverse=True))


@dataclass(frozen=True)
class NameParts:
    """A person's name in its structural parts (``None`` where absent)."""

    title: str | None = None
    initials: str | None = None
    first_name: str | None = None
    infix: str | None = None
    last_name: str | None = None
    gender: str | None = None


_INITIALS = re.compile(r"^(?:[A-Za-z]\.){1,6}[A-Za-z]?$|^[A-Z]{1,3}$|^(?:[A-Z]\.?\s?){1,5}$")


def _match_prefix(tokens: list[str], start: int) -> int:
    """Number of tokens from ``start`` that form a surname prefix (0 if none)."""
    lowered = [t.lower().translate(_APOSTROPHES) for t in tokens]
    for prefix in name_prefixes():
        n = len(prefix)
        if tuple(lowered[start : start + n]) == prefix:
            return n
    return 0


def _leading_title(tokens: list[str]) -> tuple[list[str], list[str], str | None]:
    """Strip salutations and academic titles from the front; return (titles, rest, gender)."""
    titles, gender = [], None
    while tokens:
        word = tokens[0].lower().rstrip(".")
        two = (word + " " + tokens[1].lower().rstrip(".")) if len(tokens) > 1 else ""
        if two in SALUTATIONS:
            gender = gender or SALUTATIONS[two]
            titles.append(" ".join(tokens[:2]))
            tokens = tokens[2:]
        elif word in SALUTATIONS and word != "mr":
            gender = gender or SALUTATIONS[word]
            titles.append(tokens.pop(0))
        elif word in TITLES and len(tokens) > 1:
            titles.append(tokens.pop(0))
        else:
            break
    return titles, tokens, gender


def _given_part(tokens: list[str]) -> tuple[str | None, str | None]:
    """Split given-name tokens into (initials, first name)."""
    initials = [t for t in tokens if _INITIALS.match(t)]
    names = [t for t in tokens if not _INITIALS.match(t)]
    return (" ".join(initials) or None), (" ".join(names) or None)


def split_name(text: str | None) -> NameParts:
    """Split a full name typed in one field.

    Handles "J.P. de Vries", "Jan de Vries", "Vries, Jan de", "Berg, van der", "dhr. J. de Vries",
    "d'Ancona" and hyphenated double names (kept whole as last name).

    Examples:
        >>> split_name("J.P. de Vries")
        NameParts(title=None, initials='J.P.', first_name=None, infix='de', last_name='Vries', gender=None)
        >>> split_name("Vries, Jan de").first_name, split_name("Vries, Jan de").infix
        ('Jan', 'de')
        >>> split_name("Mevr. A. Jansen-de Vries").last_name
        'Jansen-de Vries'
    """
    if text is None or not str(text).strip():
        return NameParts()
    text = " ".join(str(text).replace("\u00a0", " ").split())
    if "," in text:
        return _split_inverted(text)
    tokens = text.split(" ")
    titles, tokens, gender = _leading_title(tokens)
    title = " ".join(titles) or None
    if not tokens:
        return NameParts(title=title, gender=gender)
    # The surname starts at the first hyphenated token ("Jansen-de Vries") or surname particle
    # ("El Amrani") unless a prefix ("de", "van der") comes earlier.
    surname_start = next(
        (
            i
            for i, t in enumerate(tokens)
            if ("-" in t.strip("-") and not _INITIALS.match(t))
            or (t.lower() in SURNAME_PARTICLES and i + 1 < len(tokens))
        ),
        len(tokens) - 1,
    )
    for i in range(surname_start):
        n = _match_prefix(tokens, i)
        if n and i + n < len(tokens):
            initials, first = _given_part(tokens[:i])
            return NameParts(
                title, initials, first, " ".join(tokens[i : i + n]), " ".join(tokens[i + n :]), gender
            )
    initials, first = _given_part(tokens[:surname_start])
    return NameParts(title, initials, first, None, " ".join(tokens[surname_start:]), gender)


def _split_inverted(text: str) -> NameParts:
    """ "Vries, Jan de" / "Vries de, J." / "Berg, van der" / "Vries, J.P. de (dhr.)"."""
    last_part, _, given_part = text.partition(",")
    last_tokens = last_part.split()
    given_tokens = given_part.split()
    titles, given_tokens, gender = _leading_title(given_tokens)
    infix_tokens: list[str] = []
    for i in range(len(given_tokens)):
        n = _match_prefix(given_tokens, i)
        if n and i + n == len(given_tokens):
            infix_tokens = given_tokens[i:]
            given_tokens = given_tokens[:i]
            break
    for i in range(1, len(last_tokens)):
        n = _match_prefix(last_tokens, i)
        if n and i + n == len(last_tokens):
            infix_tokens = infix_tokens or last_tokens[i:]
            last_tokens = last_tokens[:i]
            break
    initials, first = _given_part(given_tokens)
    return NameParts(
        " ".join(titles) or None,
        initials,
        first,
        " ".join(infix_tokens) or None,
        " ".join(last_tokens) or None,
        gender,
    )


@dataclass(frozen=True)
class HouseNumber:
    """A Dutch house number in its BAG parts."""

    number: str | None = None
    letter: str | None = None
    addition: str | None = None


_NUMBER = re.compile(r"^\s*(?:(?:huis)?n(?:r|o)\.?\s*)?(\d{1,5})\s*(.*?)\s*$", re.IGNORECASE)
_LETTER_THEN_REST = re.compile(r"^([A-Za-z])(?:$|[\s\-/.]+(.+)$|(\d{1,4})$)")


def split_house_number(text: str | None) -> HouseNumber:
    """Split "12-A", "12a", "12 A", "12-2", "12 hs", "12 bis", "12 III", "12/14" into BAG parts.

    A single letter directly after the number (with or without a hyphen or space) is the house letter;
    anything else is the addition (``huisnummertoevoeging``), upper-cased, separators removed.
    A leading "nr." is dropped; "12/14" keeps "14" as the addition.

    Examples:
        >>> split_house_number("12-A")
        HouseNumber(number='12', letter='A', addition=None)
        >>> split_house_number("12 hs")
        HouseNumber(number='12', letter=None, addition='HS')
        >>> split_house_number("12-2")
        HouseNumber(number='12', letter=None, addition='2')
        >>> split_house_number("12B-3")
        HouseNumber(number='12', letter='B', addition='3')
        >>> split_house_number("nr. 7 III")
        HouseNumber(number='7', letter=None, addition='III')
        >>> split_house_number("12a2")
        HouseNumber(number='12', letter='A', addition='2')
    """
    if text is None:
        return HouseNumber()
    match = _NUMBER.match(str(text))
    if not match:
        return HouseNumber()
    number, rest = match.group(1).lstrip("0") or "0", match.group(2).strip()
    rest = rest.lstrip("-/ .,").strip()
    if not rest:
        return HouseNumber(number)
    letter_match = _LETTER_THEN_REST.match(rest)
    if letter_match:
        addition = letter_match.group(2) or letter_match.group(3)
        addition = re.sub(r"[^0-9A-Za-z]+", "", addition).upper() if addition else None
        return HouseNumber(number, letter_match.group(1).upper(), addition or None)
    return HouseNumber(number, None, re.sub(r"[^0-9A-Za-z]+", "", rest).upper() or None)


@dataclass(frozen=True)
class StreetAddress:
    """A street line split into street and house number parts."""

    street: str | None = None
    house_number: HouseNumber = HouseNumber()


_STREET_NUMBER = re.compile(
    r"^(?P<street>.*?[^\d\s].*?)(?:\s*,?\s+|(?<=[a-z.]))(?:n(?:r|o)\.?\s*)?"
    r"(?P<number>\d{1,5}(?:[\s\-/.]*[A-Za-z0-9]{1,6})*)\s*$"
)


def split_street(text: str | None) -> StreetAddress:
    """Split "Kerkstraat 12-A" into street and number; the number is the last number group.

    Examples:
        >>> split_street("Kerkstraat 12-A")
        StreetAddress(street='Kerkstraat', house_number=HouseNumber(number='12', letter='A', addition=None))
        >>> split_street("2e Jan Steenstraat 5 hs").street
        '2e Jan Steenstraat'
        >>> split_street("Plein 1940-1945 3").street, split_street("Plein 1940-1945 3").house_number.number
        ('Plein 1940-1945', '3')
    """
    if text is None or not str(text).strip():
        return StreetAddress()
    text = " ".join(str(text).split())
    match = _STREET_NUMBER.match(text)
    if not match:
        return StreetAddress(street=text)
    number = match.group("number")
    # "Plein 1940-1945 3": a year (range) belongs to the street name; the last number group is the number.
    parts = number.split(" ")
    year_like = re.fullmatch(r"\d{4}-\d{4}", parts[0]) or (
        re.fullmatch(r"1[89]\d\d|20[0-3]\d", parts[0]) and parts[-1].isdigit()
    )
    if len(parts) > 1 and year_like and parts[-1][:1].isdigit():
        return StreetAddress(
            match.group("street") + " " + " ".join(parts[:-1]), split_house_number(parts[-1])
        )
    return StreetAddress(match.group("street").rstrip(","), split_house_number(number))


_POSTCODE_IN_LINE = re.compile(r"\b([1-9]\d{3})\s?([A-Za-z]{2})\b")


@dataclass(frozen=True)
class AddressLine:
    """A one-line address split into street, number, postcode and city."""

    street: StreetAddress = StreetAddress()
    postcode: str | None = None
    city: str | None = None


def split_address_line(text: str | None) -> AddressLine:
    """Split "Kerkstraat 12-A, 1234 AB Amsterdam" (postcode and city optional).

    Examples:
        >>> line = split_address_line("Kerkstraat 12-A, 1234 ab  Amsterdam")
        >>> (line.street.street, line.postcode, line.city)
        ('Kerkstraat', '1234AB', 'Amsterdam')
    """
    if text is None or not str(text).strip():
        return AddressLine()
    text = " ".join(str(text).split())
    match = _POSTCODE_IN_LINE.search(text)
    if not match:
        return AddressLine(split_street(text.rstrip(", ")))
    before, after = text[: match.start()].rstrip(" ,"), text[match.end() :].strip(" ,")
    return AddressLine(split_street(before), (match.group(1) + match.group(2)).upper(), after or None)
