"""Dutch sort keys: people on their core surname, organisations on their name without legal form.

The Dutch convention (telephone books, the BRP) files "de Vries" under V: the tussenvoegsel is not part of
the sort key. Company names sort without their legal form ("B.V. Bouwbedrijf Smit" under B of Bouwbedrijf)
and without a leading article ("De Bakkerij" under B). The digraph "ij" sorts as "y" (as Dutch telephone
books file it: "IJsselstein" next to "Yerseke"), accents are ignored and case never matters.

Examples:
    >>> text_key("IJsselstein") == text_key("Ysselstein")
    True
    >>> sorted(["Zwart", "de Vries", "van Dam", "Ütrecht"], key=lambda n: text_key(core_surname(n)))
    ['van Dam', 'Ütrecht', 'de Vries', 'Zwart']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

from cdq.resources import resource

__all__ = ["text_key", "core_surname", "company_core", "sort_frame", "group_key"]

_ARTICLES = re.compile(r"^(?:de|het|'t|’t|t)\s+", re.IGNORECASE)


@lru_cache(maxsize=1)
def _prefixes() -> tuple[str, ...]:
    """Surname prefixes from ``reference_data/name_prefixes.txt``, longest first."""
    lines = resource("reference_data", "name_prefixes.txt").read_text(encoding="utf-8").splitlines()
    words = {line.strip().lower().replace("’", "'") for line in lines if line.strip() and not line.startswith("#")}
    return tuple(sorted(words, key=len, reverse=True))


@lru_cache(maxsize=65536)
def text_key(text: str | None) -> str:
    """Lower case, accents off, 'ij' as 'y', only letters, digits and single spaces.

    Examples:
        >>> text_key("  Éénhoorn-IJzer ")
        'eenhoorn yzer'
    """
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    plain = plain.replace("ij", "y")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


@lru_cache(maxsize=65536)
def core_surname(last_name: str | None) -> str:
    """The surname without a leading prefix typed into it ("van der Berg" -> "Berg").

    Examples:
        >>> core_surname("van der Berg"), core_surname("De Vries"), core_surname("Vries")
        ('Berg', 'Vries', 'Vries')
    """
    if not last_name:
        return ""
    name = " ".join(str(last_name).split())
    lowered = name.lower().replace("’", "'")
    for prefix in _prefixes():
        if lowered.startswith(prefix + " ") and len(lowered) > len(prefix) + 1:
            return name[len(prefix) + 1:]
    return name


@lru_cache(maxsize=65536)
def company_core(name: str | None) -> str:
    """A company name without its legal form and leading article.

    Examples:
        >>> company_core("De Bakkerij Jansen B.V."), company_core("Stichting Het Anker")
        ('Bakkerij Jansen', 'Anker')
    """
    if not name:
        return ""
    from cdq.normalize.organisations import _legal_form_pattern

    pattern, _ = _legal_form_pattern()
    core = " ".join(pattern.sub(" ", str(name)).replace(",", " ").split())
    core = _ARTICLES.sub("", core)
    return core or str(name)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column].astype(object)
    return values.where(values.notna(), "").astype(str)


def _per_distinct(series: pd.Series, func) -> pd.Series:
    """Apply ``func`` once per distinct value (exports repeat values a lot)."""
    cache = {v: func(v) for v in series.unique()}
    return series.map(cache)


def group_key(frame: pd.DataFrame) -> pd.Series:
    """Key that groups the locations of one organisation: KvK number, else the core company name.

    People get an empty key (they are not grouped).
    """
    company = _text(frame, "company_name")
    core = _per_distinct(_per_distinct(company, company_core), text_key)
    kvk = _text(frame, "kvk_number").str.replace(r"\D", "", regex=True)
    key = ("org:" + core).where(core != "", "")
    return key.where(kvk == "", "kvk:" + kvk).where(company != "", "")


def sort_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in Dutch order, with ``sort_key`` and ``group_key`` columns added.

    Organisations sort on their core name (their locations together, by city and street), people on the
    core surname, then first name / initials, then city.

    Examples:
        >>> df = pd.DataFrame({"last_name": ["Zwart", "Vries", None, "Dam"], "infix": [None, "de", None, "van"],
        ...                    "company_name": [None, None, "De IJzerhandel B.V.", None]})
        >>> sort_frame(df)["last_name"].fillna("-").tolist()
        ['Dam', 'Vries', '-', 'Zwart']
    """
    out = frame.copy()
    company = _text(out, "company_name")
    person = _per_distinct(_per_distinct(_text(out, "last_name"), core_surname), text_key)
    org = _per_distinct(_per_distinct(company, company_core), text_key)
    primary = org.where(company != "", person)
    given = _per_distinct(_text(out, "first_name") + " " + _text(out, "initials"), text_key)
    place = _per_distinct(_text(out, "city") + " " + _text(out, "street"), text_key)
    out["group_key"] = group_key(out)
    out["sort_key"] = primary + "\x1f" + given + "\x1f" + place
    # a group sorts where its first location sorts, so its locations stay together
    group_first = out["sort_key"].groupby(out["group_key"].where(out["group_key"] != "", out.index.astype(str)))
    out["_group_sort"] = group_first.transform("min")
    out = out.sort_values(["_group_sort", "group_key", "sort_key"], kind="stable").drop(columns="_group_sort")
    return out.reset_index(drop=True)
