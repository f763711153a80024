"""Countries as ISO 3166-1 alpha-2 codes ("Nederland", "NL", "the Netherlands", "Holland" → NL).

The names come from ``pycountry`` (ISO 3166-1 with its Dutch, English, German and French translations),
plus the few everyday forms ISO does not list (Holland, UK, USA). An address without a country is in the
default region (NL); a value that names no country is kept as typed and flagged ``COUNTRY_UNKNOWN``.
"""

from __future__ import annotations

import gettext
import unicodedata
from functools import lru_cache

import pandas as pd

from cdq.normalize._distinct import arrow_text, map_distinct
from cdq.normalize._report import Collector

#: Everyday names that are no ISO name in any of the languages read.
_ALIASES = {"holland": "NL", "nederland": "NL", "uk": "GB", "england": "GB", "engeland": "GB",
            "great britain": "GB", "groot brittannie": "GB", "usa": "US", "amerika": "US", "vs": "US"}
_LANGUAGES = ("nl", "de", "fr")
_ADDRESS = ["street", "house_number", "postcode", "city"]


def _key(text: str) -> str:
    """Lower case, accents removed, punctuation as spaces ("België" → "belgie", "U.S.A." → "u s a")."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c if c.isalnum() else " " for c in text if not unicodedata.combining(c))
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    """Every code and name (English and translated) → alpha-2."""
    import pycountry

    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)
                    for lang in _LANGUAGES]
    table: dict[str, str] = {}
    for country in pycountry.countries:
        names = {country.alpha_2, country.alpha_3, country.numeric, country.name, getattr(country, "official_name", ""),
                 getattr(country, "common_name", "")}
        names |= {t.gettext(n) for t in translations for n in list(names) if n}
        for name in filter(None, names):
            table.setdefault(_key(name), country.alpha_2)
    table.update(_ALIASES)
    table["nl"] = "NL"  # "nl" is also the key of "NL" (alpha-2); explicit for readers
    return table


def country_code(value: object) -> str | None:
    """ISO alpha-2 code of a country name or code in Dutch, English, German or French; None if unknown.

    Examples:
        >>> country_code("Nederland"), country_code("België"), country_code("DEU"), country_code("Atlantis")
        ('NL', 'BE', 'DE', None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    key = _key(value)
    return _table().get(key) or _table().get(key.removeprefix("the ").removeprefix("de "))


def country_name(code: str, language: str = "nl") -> str:
    """The name of the country with ISO code ``code`` in ``language`` ("BE" → "België"); the code if unknown.

    Examples:
        >>> country_name("BE"), country_name("DE"), country_name("XX")
        ('België', 'Duitsland', 'XX')
    """
    import pycountry

    country = pycountry.countries.get(alpha_2=str(code).upper())
    if country is None:
        return code
    translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)
    return translation.gettext(getattr(country, "common_name", None) or country.name)


def normalize_countries(frame: pd.DataFrame, report: Collector, region: str = "NL") -> None:
    """ISO codes in ``country``; an address without a country gets ``region``; unknown values are flagged."""
    before = frame["country"].to_numpy(dtype=object)
    code = map_distinct(frame, ["country"], lambda v: (country_code(v),), ["c"])["c"].to_numpy(dtype=object)
    text = arrow_text(frame["country"]).str.strip()
    present = (text.notna() & (text != "")).fillna(False).to_numpy(dtype=bool)
    has_address = frame.reindex(columns=_ADDRESS).notna().any(axis=1).to_numpy()
    defaulted = ~present & has_address
    kept = pd.Series(before, dtype=object).where(present, None).mask(defaulted, region)
    frame["country"] = pd.Series(code, dtype=object).fillna(kept).to_numpy(dtype=object)
    report.add(present & pd.notna(code) & (code != before), "country", "COUNTRY_REFORMATTED", "info", before)
    report.add(present & pd.isna(code), "country", "COUNTRY_UNKNOWN", "warning", before)
    report.add(defaulted, "country", "COUNTRY_DEFAULTED", "info", before, region)
