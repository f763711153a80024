"""Split combined address fields: an address in one column, "12-A" in a number column.

These are the structural splits the staging frame needs; ``cdq.normalize`` refines the parts (postcode
canonical form) later. Names typed in one field are split by :mod:`cdq.normalize.name_parsing`.
Every function is pure and works on one string; :func:`cdq.staging.stage` applies them once per distinct value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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


# The street holds a character that is no digit or space: written "[\d\s]*[^\d\s].*?" (one way to match the
# first such character) rather than ".*?[^\d\s].*?", which tries every pair of positions; and the number's
# parts are possessive ("*+": the longest run of parts is the only one that can reach the end). Both match the
# same strings with the same groups as before (checked on 175k street texts), without backtracking that grew
# with the cube of the length (a 32,000-character street cell took minutes).
_STREET_NUMBER = re.compile(
    r"^(?P<street>[\d\s]*[^\d\s].*?)(?:\s*,?\s+|(?<=[a-z.]))(?:n(?:r|o)\.?\s*)?"
    r"(?P<number>\d{1,5}(?:[\s\-/.]*[A-Za-z0-9]{1,6})*+)\s*$"
)
#: Longer texts are not split (no street line is this long; staging flags it as overlong): even the linear
#: pattern tries every street end, so the cost grows with the square of the length.
LONGEST_STREET_LINE = 1000


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
    if len(text) > LONGEST_STREET_LINE:
        return StreetAddress(street=text)
    first = _number_first(text)
    if first is not None:
        return first
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


_LEADING_NUMBER = re.compile(r"^(?P<number>\d{1,5})(?P<letter>[A-DF-Za-df-z])?,?\s+(?P<street>\D.*)$")
_STANDALONE_NUMBER = re.compile(r"(?<![\w-])\d{1,5}(?![\w-])")


def _number_first(text: str) -> StreetAddress | None:
    """The English, French and American order, "432 E. 134th Street" or "12 rue de la Paix": number first.

    Only when nothing after the street name is a house number of its own (an ordinal such as 134th, or a
    trailing five-digit ZIP code, is not), so the Dutch "3 Octoberstraat 12" and "2e Jan Steenstraat 5" keep
    their number at the end.

    Examples:
        >>> _number_first("432 E. 134th Street")
        StreetAddress(street='E. 134th Street', house_number=HouseNumber(number='432', letter=None, addition=None))
        >>> _number_first("27 Washington Oak Park IL 60302").house_number.number
        '27'
        >>> _number_first("3 Octoberstraat 12") is None, _number_first("2e Jan Steenstraat 5") is None
        (True, True)
    """
    match = _LEADING_NUMBER.match(text)
    if not match:
        return None
    rest = match.group("street")
    numbers = _STANDALONE_NUMBER.findall(rest)
    if numbers and not (len(numbers) == 1 and re.search(r"\b\d{5}$", rest)):
        return None
    letter = match.group("letter")
    return StreetAddress(street=rest.rstrip(","), house_number=HouseNumber(match.group("number"),
                                                                           letter.upper() if letter else None))


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

