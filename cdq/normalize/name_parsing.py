"""Split a full name typed in one field ("Mw. A. de Vries-van Dam", "VRIES, DE, A.") into its fields.

:func:`split_name` is the structural split the staging frame needs for a combined ``Naam`` column: it
finds the leading salutations and titles, the given part and the surname part. The surname part keeps a
partner name whole ("de Vries-van Dam"), and a couple keeps both people ("J. en M."), so that
:mod:`cdq.normalize.names` (one implementation of the rules: titles, prefixes, partner names, couples,
call names) refines the parts without anything lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdq.normalize.names import (
    ABBREVIATED_PREFIXES,
    COUPLE_WORDS,
    SURNAME_PARTICLES,
    _is_title_word,
    call_name,
    english_mr,
    has_own_surname,
    initials_of,
    name_prefixes,
    natural_order,
    parse_title,
    prefix_length,
    split_couple,
    surname_start,
    titles,
    tokenize,
)

__all__ = ["NameParts", "split_name", "name_prefixes", "SURNAME_PARTICLES", "ABBREVIATED_PREFIXES"]


@dataclass(frozen=True)
class NameParts:
    """A person's name in its structural parts (``None`` where absent)."""

    title: str | None = None
    initials: str | None = None
    first_name: str | None = None
    infix: str | None = None
    last_name: str | None = None
    gender: str | None = None


def _leading_titles(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Typed salutations and titles at the front, with a couple word between them ("Dhr. en Mevr.")."""
    lead: list[str] = []
    while len(tokens) > 1:
        two = " ".join(tokens[:2])
        if _is_title_word(two) and len(tokens) > 2:
            lead, tokens = lead + tokens[:2], tokens[2:]
        elif _is_title_word(tokens[0]):
            word = tokens[0]
            if word.rstrip(".").lower() == "mr":
                word = "Mr" if english_mr(tokens) else "mr."
            lead, tokens = lead + [word], tokens[1:]
        elif lead and tokens[0].lower() in COUPLE_WORDS and _is_title_word(tokens[1]):
            lead, tokens = lead + ["en"], tokens[1:]
        else:
            break
    return lead, tokens


def _given_fields(tokens: list[str], call: str | None) -> tuple[str | None, str | None]:
    """(initials, first name) fields for the given part; a couple's parts stay joined by "en"."""
    if call:
        typed = [t for t in tokens if _looks_initial(t)]
        formal = " ".join(t for t in tokens if not _looks_initial(t))
        return " ".join(typed) or initials_of(formal), call
    first, second = split_couple(tokens)
    if second is not None:
        text = " ".join(first) + " en " + " ".join(second)
        initials_only = all(_looks_initial(t) for t in first + second)
        return (text, None) if initials_only else (None, text)
    initials = [t for t in tokens if _looks_initial(t)]
    names = [t for t in tokens if not _looks_initial(t)]
    return " ".join(initials) or None, " ".join(names) or None


def _looks_initial(token: str) -> bool:
    bare = token.replace(".", "")
    return bool(bare) and bare.isalpha() and (token.endswith(".") or (bare.isupper() and len(bare) <= 3))


def _surname_fields(tokens: list[str]) -> tuple[str | None, str | None]:
    """(infix, last name): a simple surname is split, a partner or double name is kept whole."""
    markers = titles()["partner_markers"]
    if any("-" in t.strip("-") for t in tokens) or any(t.lower().rstrip(".") in markers for t in tokens):
        return None, " ".join(tokens) or None
    n = prefix_length(tokens)
    if n and n < len(tokens):
        return " ".join(tokens[:n]), " ".join(tokens[n:])
    return None, " ".join(tokens) or None


def split_name(text: str | None) -> NameParts:
    """Split a full name typed in one field.

    Handles "J.P. de Vries", "Jan de Vries", "Vries, Jan de", "VRIES, DE, A.", "Berg, van der",
    "dhr. J. de Vries", "d'Ancona", partner names ("A. de Vries-Bakker", kept whole as the last name for
    normalize to split), call names ("C. (Carla) Bosman"), English and Dutch titles ("Mr John Smith",
    "mr. J. de Vries") and couples ("J. en M. de Vries", "Dhr. en Mevr. Jansen").

    Examples:
        >>> split_name("J.P. de Vries")
        NameParts(title=None, initials='J.P.', first_name=None, infix='de', last_name='Vries', gender=None)
        >>> split_name("Vries, Jan de").first_name, split_name("Vries, Jan de").infix
        ('Jan', 'de')
        >>> split_name("Mevr. A. Jansen-de Vries").last_name
        'Jansen-de Vries'
        >>> split_name("C. (Carla) Bosman")
        NameParts(title=None, initials='C.', first_name='Carla', infix=None, last_name='Bosman', gender=None)
        >>> split_name("Dhr. J. en Mevr. M. de Vries")
        NameParts(title='Dhr. en Mevr.', initials='J. en M.', first_name=None, infix='de', last_name='Vries', \
gender='M')
    """
    if text is None or not str(text).strip():
        return NameParts()
    rest, call = call_name(" ".join(str(text).replace("\u00a0", " ").split()))
    tokens = tokenize(natural_order(rest) if "," in rest else rest)
    lead, tokens = _leading_titles(tokens)
    first, second = split_couple(tokens)
    if second is not None and has_own_surname(lead + first):
        # two full names: the surname-field parser keeps the first person and names the second
        return NameParts(last_name=" ".join(lead + tokens))
    if second is not None:
        # "Dhr. J. en Mevr. M. de Vries": the second person's salutation joins the title field
        more, second = _leading_titles(second)
        if more:
            lead = lead + ["en"] + more if lead else more
        tokens = first + ["en"] + second
    title = " ".join(lead) or None
    gender = parse_title(title)[1] if title else None
    if not tokens:
        return NameParts(title=title, gender=gender)
    start = _start(tokens)
    initials, first_name = _given_fields(tokens[:start], call)
    infix, last = _surname_fields(tokens[start:])
    return NameParts(title, initials, first_name, infix, last, gender)


def _start(tokens: list[str]) -> int:
    """Where the surname starts; a couple word always belongs to the given part."""
    last_couple = max((i for i, t in enumerate(tokens[:-1]) if t.lower() in COUPLE_WORDS and i), default=-1)
    if last_couple < 0:
        return surname_start(tokens)
    return last_couple + 1 + surname_start(tokens[last_couple + 1 :])

