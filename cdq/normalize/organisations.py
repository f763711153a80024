"""Organisations: legal form detection, and telling a company apart from a person."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from cdq.resources import resource

#: Words that make a name an organisation even without a legal form.
TRADE_WORDS = (
    "bakkerij", "installatietechniek", "holding", "beheer", "groep", "group", "adviesbureau", "advies",
    "bouw", "transport", "consultancy", "makelaardij", "garage", "autobedrijf", "administratiekantoor",
    "kantoor", "services", "diensten", "handelsonderneming", "handel", "restaurant", "café", "cafe",
    "hotel", "apotheek", "tandartspraktijk", "huisartsenpraktijk", "praktijk", "school", "gemeente",
    "ministerie", "kerk", "parochie", "club", "vereniging", "stichting", "fonds", "bank", "verzekeringen",
    "international", "nederland", "benelux", "company", "solutions", "systems", "software", "media",
    "logistiek", "schilders", "schildersbedrijf", "loodgieter", "elektro", "techniek", "installaties",
    "hoveniers", "kapsalon", "bloemen", "webshop", "winkel", "supermarkt", "zorg", "thuiszorg",
)


@lru_cache(maxsize=1)
def _legal_form_pattern() -> tuple[re.Pattern, dict[str, str]]:
    data = yaml.safe_load(resource("reference_data", "legal_forms.yaml").read_text(encoding="utf-8"))
    canonical = {}
    for form, spellings in data.items():
        for spelling in [form, *spellings]:
            canonical[_squash(spelling)] = form
    alternatives = sorted(canonical, key=len, reverse=True)
    words = "|".join(r"\.?\s?".join(re.escape(ch) for ch in alt) for alt in alternatives)
    return re.compile(rf"(?<![\w.])(?:{words})\.?(?![\w])", re.IGNORECASE), canonical


def _squash(text: str) -> str:
    return re.sub(r"[\s.]", "", text.lower())


def legal_form(name: str | None) -> str | None:
    """The canonical legal form in a company name, or None.

    Examples:
        >>> legal_form("Bakkerij Jansen b.v.")
        'B.V.'
        >>> legal_form("Stichting Het Gebouw")
        'Stichting'
        >>> legal_form("Jan de Vries") is None
        True
    """
    if not name:
        return None
    pattern, canonical = _legal_form_pattern()
    match = pattern.search(str(name))
    return canonical.get(_squash(match.group(0))) if match else None


_TRADE = re.compile(r"\b(?:" + "|".join(TRADE_WORDS) + r")\b", re.IGNORECASE)


def looks_like_company(name: str | None) -> bool:
    """True when a name carries a legal form or a trade word ("Bakkerij", "Installatietechniek").

    Examples:
        >>> looks_like_company("Installatietechniek Bos")
        True
        >>> looks_like_company("J. de Vries")
        False
    """
    if not name:
        return False
    return legal_form(name) is not None or bool(_TRADE.search(str(name)))
