"""First names that can name one person: nicknames, call names and formal names, as a many-to-many relation.

Two sources: ``reference_data/nicknames.yaml`` (Dutch roepnamen: Johannes ↔ Jan/Hans, Cornelis ↔ Kees) and the
hand-curated English table of the ``nicknames`` package (Robert ↔ Bob/Robby, Frances ↔ Fanny, Edward ↔ Ted).
A relation, not one canonical name per variant: "bert" is short for Albertus, Gijsbertus and Lambertus alike,
and "harry" for Harold and Henry. Two names are *related* when one is a variant of the other or both are
variants of one name (Bob and Robby). What the tables list is taken as it is: the English table lists
Harold and Henry as variants of Harry, so those two are related too.

Titles and salutations written in the first-name field ("Sir", "Dhr.", "Rev.", "1st") are no name at all;
:func:`given_names` drops them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import combinations

import numpy as np

from cdq.linkage.text import ascii_lower, letters
from cdq.resources import reference_yaml

_HAS_DIGIT = re.compile(r"\S*\d\S*")


@lru_cache(maxsize=1)
def title_words() -> frozenset[str]:
    """Every word of a salutation, academic title or honorific in ``reference_data/titles.yaml``.

    Examples:
        >>> {"dhr", "mevr", "sir", "rev", "ir"} <= title_words()
        True
        >>> "de" in title_words()  # only as part of "de heer"
        False
    """
    data = reference_yaml("reference_data", "titles.yaml")
    words: set[str] = set()
    for section in ("salutations", "prefix_titles", "honorifics"):
        for key in data.get(section) or {}:
            words.update((letters(str(key).lower().replace(".", "")) or "").split())
    return frozenset(words - {"de"})


def given_names(text: str | None) -> str | None:
    """Given names of a lower-case, accent-free first-name field without leading titles and ordinals.

    Examples:
        >>> given_names("sir thomas"), given_names("dhr. jan peter"), given_names("1st baron")
        ('thomas', 'jan peter', None)
        >>> given_names("maj.-gen. frederick"), given_names("de heer jan")
        ('frederick', 'jan')
    """
    if not text:
        return None
    words = (letters(_HAS_DIGIT.sub(" ", text)) or "").split()
    titles = title_words()
    while words and (words[0] in titles or (words[0] == "de" and len(words) > 1 and words[1] in titles)):
        words = words[1:]
    return " ".join(words) or None


def _clean(name: str) -> str:
    return letters(ascii_lower(name)) or ""


@lru_cache(maxsize=1)
def _groups() -> list[tuple[str, list[str]]]:
    """(formal name, its variants) from both sources; a name may be a variant of several formal names."""
    groups: dict[str, set[str]] = {}
    dutch = reference_yaml("reference_data", "nicknames.yaml")
    for formal, variants in dutch.items():
        groups.setdefault(_clean(formal), set()).update(_clean(v) for v in variants)
    from nicknames import name_triplets  # the package's hand-curated English table

    for triplet in name_triplets():
        groups.setdefault(_clean(triplet.name1), set()).add(_clean(triplet.name2))
    return [(formal, sorted(v for v in variants if v and v != formal)) for formal, variants in groups.items() if formal]


@lru_cache(maxsize=1)
def canonical_names() -> dict[str, str]:
    """Name -> one formal name (for blocking and term frequencies): the Dutch table first, then the first
    English formal name in alphabetical order.

    Examples:
        >>> canonical_names()["kees"], canonical_names()["bob"]
        ('cornelis', 'robert')
    """
    table: dict[str, str] = {}
    for formal, variants in _groups():
        for name in [formal, *variants]:
            table.setdefault(name, formal)
    return table


@lru_cache(maxsize=1)
def relations() -> tuple[dict[str, int], np.ndarray]:
    """``(ids, codes)``: an integer per name in the relation and the sorted ``a * len(ids) + b`` codes of every
    related ordered pair (both directions).

    Examples:
        >>> ids, codes = relations()
        >>> related = lambda a, b: bool(np.isin(ids[a] * len(ids) + ids[b], codes))
        >>> related("bob", "robby"), related("robert", "bob"), related("jan", "johannes"), related("bert", "albertus")
        (True, True, True, True)
        >>> related("jan", "piet"), related("anna", "johannes")
        (False, False)
    """
    ids: dict[str, int] = {}
    for formal, variants in _groups():
        for name in [formal, *variants]:
            ids.setdefault(name, len(ids))
    k = len(ids)
    codes: list[int] = []
    for formal, variants in _groups():
        members = sorted({ids[formal], *(ids[v] for v in variants)})
        codes.extend(a * k + b for a, b in combinations(members, 2))
        codes.extend(b * k + a for a, b in combinations(members, 2))
    return ids, np.unique(np.asarray(codes, dtype=np.int64))


def related_pairs(name_ids: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """True where the first names of ``left`` and ``right`` (relation ids per record, -1 = not in the
    relation) are related.

    Examples:
        >>> ids, _ = relations()
        >>> per_record = np.array([ids["bob"], ids["robert"], ids["piet"], -1])
        >>> related_pairs(per_record, np.array([0, 0, 2]), np.array([1, 2, 3])).tolist()
        [True, False, False]
    """
    ids, codes = relations()
    a, b = name_ids[left], name_ids[right]
    out = (a >= 0) & (b >= 0) & (a != b)  # a name is not related to itself (the same name is exact)
    at = np.flatnonzero(out)  # looked up only where both names are in the relation and differ
    if len(codes) == 0:
        out[at] = False
        return out
    pair = a[at].astype(np.int64) * len(ids) + b[at]
    out[at] = codes[np.minimum(np.searchsorted(codes, pair), len(codes) - 1)] == pair
    return out
