"""Compare a typed street or place with the register's: case, accents, abbreviations and typos tolerated.

The abbreviation table is data: ``reference_data/street_abbreviations.yaml``. Both sides are reduced to a
*comparison key* (lower case, no accents, abbreviations expanded, spaces and punctuation dropped), then
compared exactly and, failing that, by edit distance.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from cdq.config import load_model
from cdq.resources import resource

_TOKEN = re.compile(r"[a-z0-9]+\.?")


class _Suffixes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    always: dict[str, str] = {}
    dotted: dict[str, str] = {}


class Abbreviations(BaseModel):
    """The authoring form of ``street_abbreviations.yaml``."""

    model_config = ConfigDict(extra="forbid")
    words: dict[str, str] = {}
    suffixes: _Suffixes = _Suffixes()
    city_aliases: dict[str, str] = {}


@lru_cache(maxsize=1)
def abbreviations() -> Abbreviations:
    """The bundled abbreviation table (validated once)."""
    return load_model(resource("reference_data", "street_abbreviations.yaml"), Abbreviations)


def _ascii_lower(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.lower()


@lru_cache(maxsize=1)
def _endings() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """(endings for an undotted word, endings for a dotted word)."""
    table = abbreviations().suffixes
    return tuple(table.always.items()), tuple({**table.always, **table.dotted}.items())


@lru_cache(maxsize=200_000)
def _expand(token: str) -> str:
    base, dotted = token.rstrip("."), token.endswith(".")
    words = abbreviations().words
    if base in words and (dotted or len(base) > 1):
        return words[base]
    for ending, full in _endings()[dotted]:
        if base.endswith(ending) and len(base) > len(ending) + 2:
            return base[: -len(ending)] + full
    return base


@lru_cache(maxsize=500_000)
def street_key(text: str) -> str:
    """The comparison key of a street name.

    Examples:
        >>> street_key("Burg. v.d. Plasstr.") == street_key("Burgemeester van der Plasstraat")
        True
        >>> street_key("Pr. Hendrikln"), street_key("KERKSTRAAT"), street_key("Rue de l'Église")
        ('prinshendriklaan', 'kerkstraat', 'ruedeleglise')
        >>> street_key("St.-Jansstraat") == street_key("Sint Jansstraat")
        True
    """
    tokens = _TOKEN.findall(_ascii_lower(text).replace("'", ""))
    return "".join(map(_expand, tokens))


@lru_cache(maxsize=100_000)
def city_key(text: str) -> str:
    """The comparison key of a place name (aliases such as "Den Haag" resolved).

    Examples:
        >>> city_key("DEN HAAG") == city_key("'s-Gravenhage")
        True
        >>> city_key("Súdwest-Fryslân")
        'sudwestfryslan'
        >>> city_key("Ljouwert") == city_key("Leeuwarden"), city_key("Scheveningen") == city_key("'s-Gravenhage")
        (True, True)
    """
    lowered = " ".join(re.sub(r"[^a-z0-9]+", " ", _ascii_lower(text).replace("'", "")).split())
    alias = {" ".join(re.sub(r"[^a-z0-9]+", " ", k).split()): v for k, v in abbreviations().city_aliases.items()}
    lowered = _ascii_lower(alias.get(lowered, lowered)).replace("'", "")
    key = re.sub(r"[^a-z0-9]", "", lowered)
    return _place_aliases().get(key, key)


class PlaceNames(BaseModel):
    """The authoring form of ``reference_data/place_names.yaml`` (where the names come from is said there)."""

    model_config = ConfigDict(extra="forbid")
    frisian: list[list[str]] = []
    exonyms: list[list[str]] = []
    localities: dict[str, list[str]] = {}


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii_lower(text).replace("'", ""))


@lru_cache(maxsize=1)
def _place_aliases() -> dict[str, str]:
    """Key of every other name -> key of the group's first name (Frisian/Dutch pairs, exonyms, localities)."""
    table = load_model(resource("reference_data", "place_names.yaml"), PlaceNames)
    groups = [*table.frisian, *table.exonyms, *([place, *parts] for place, parts in table.localities.items())]
    out: dict[str, str] = {}
    for group in groups:
        first = _squash(group[0])
        for name in group[1:]:
            out.setdefault(_squash(name), first)
    return out


@lru_cache(maxsize=500_000)
def _plain(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", _ascii_lower(text))


def similar_keys(a: str, b: str) -> bool:
    """True if two comparison keys differ only by a typo or two (scaled by length).

    Examples:
        >>> similar_keys("kerkstraat", "kerkstrat"), similar_keys("kerkstraat", "kerkstarat")
        (True, True)
        >>> similar_keys("dorp", "drop"), similar_keys("kerkstraat", "molenweg")
        (True, False)
    """
    if not a or not b:
        return False
    distance = OSA.distance(a, b)
    longest = max(len(a), len(b))
    allowed = 1 if longest < 8 else 2 if longest < 16 else 3
    return distance <= allowed or fuzz.ratio(a, b) >= 90


def compare(given: str | None, register: str, *, key=street_key, also: str | None = None) -> str:
    """Outcome of comparing a typed value with the register value (``also``: a second acceptable name).

    Examples:
        >>> compare("Kerkstraat", "Kerkstraat"), compare("kerkstr.", "Kerkstraat"), compare(None, "Kerkstraat")
        ('verified', 'standardised', 'completed')
        >>> compare("Kerkstrat", "Kerkstraat"), compare("Molenweg", "Kerkstraat")
        ('corrected', 'mismatch')
        >>> compare("Haarlemmermeer", "Hoofddorp", key=city_key, also="Haarlemmermeer")
        'corrected'
    """
    if given is None or not str(given).strip():
        return "completed"
    if given == register:
        return "verified"
    gk, rk = key(given), key(register)
    if gk == rk:
        return "standardised"
    # A typo can hit an abbreviation ("Van dr ..." is not "Van doctor ..."), so compare unexpanded too.
    if similar_keys(gk, rk) or similar_keys(_plain(given), _plain(register)) or (also and key(also) == gk):
        return "corrected"
    return "mismatch"
