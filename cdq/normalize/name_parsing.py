"""Split a full name typed in one field ("Mw. A. de Vries-van Dam", "Vries, Jan de") into its fields.

:func:`split_name` is the structural split the staging frame needs for a combined ``Naam`` column;
:mod:`cdq.normalize.names` refines the parts (casing, gender, partner names, salutations) later.
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
