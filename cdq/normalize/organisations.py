"""Organisations: legal form detection, and telling a company apart from a person."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml

from cdq.resources import resource

#: Words that make a name an organisation even without a legal form.
TRADE_WORDS = (
    "bakkerij",
    "installatietechniek",
    "holding",
    "beheer",
    "groep",
    "group",
    "adviesbureau",
    "advies",
    "bouw",
    "transport",
    "consultancy",
    "makelaardij",
    "garage",
    "autobedrijf",
    "administratiekantoor",
    "kantoor",
    "services",
    "diensten",
    "handelsonderneming",
    "handel",
    "restaurant",
    "café",
    "cafe",
    "hotel",
    "apotheek",
    "tandartspraktijk",
    "huisartsenpraktijk",
    "praktijk",
    "school",
    "gemeente",
    "ministerie",
    "kerk",
    "parochie",
    "club",
    "vereniging",
    "stichting",
    "fonds",
    "bank",
    "verzekeringen",
    "international",
    "nederland",
    "benelux",
    "company",
    "solutions",
    "systems",
    "software",
    "media",
    "logistiek",
    "schilders",
    "schildersbedrijf",
    "loodgieter",
    "elektro",
    "techniek",
    "installaties",
    "hoveniers",
    "kapsalon",
    "bloemen",
    "webshop",
    "winkel",
    "supermarkt",
    "zorg",
    "thuiszorg",
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
    if match and _initials_before_a_name(str(name), match):
        match = pattern.search(str(name), match.end())
    return canonical.get(_squash(match.group(0))) if match else None


_DOTTED_INITIALS = re.compile(r"\s*(?:[A-Za-z]\.\s?){2,}")


def _initials_before_a_name(name: str, match: re.Match) -> bool:
    """A legal form written like initials ("A.G.", "C.V.", "S.A.") that starts the name and is followed by a
    person's name is initials: "A.G. Ali Smit", "A.G. van der Heijden-Groen", "C.V. Bakker".

    Dutch forms may lead a company name ("N.V. Nutricia", "B.V. Handelmaatschappij de Vries"): those go on with
    a word that is no first name, surname prefix or (alone) a known surname.

    Examples:
        >>> legal_form("A.G. Lex de Groot"), legal_form("S.A. de Jong"), legal_form("N.V. Nutricia")
        (None, None, 'N.V.')
    """
    if name[:match.start()].strip() or not _DOTTED_INITIALS.fullmatch(match.group(0)):
        return False
    rest = name[match.end():].strip().lower().split()
    if not rest:
        return False
    from cdq.names.knowledge import builtin_knowledge
    from cdq.normalize.first_names import first_name_genders
    from cdq.normalize.names import name_prefixes

    first = rest[0].strip(",")
    known = builtin_knowledge()
    if first in first_name_genders() or first in known.first:
        return True
    if any(tuple(rest[:len(p)]) == p for p in name_prefixes() if len(rest) > len(p)):
        return True
    return len(rest) == 1 and first in known.surnames


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


_PARTY_WORDS = {
    "organisation": {
        "organisation",
        "organization",
        "organisatie",
        "bedrijf",
        "zakelijk",
        "company",
        "business",
        "b2b",
        "o",
        "org",
        "rechtspersoon",
        "onderneming",
        "instelling",
    },
    "person": {
        "person",
        "persoon",
        "particulier",
        "prive",
        "privé",
        "consument",
        "p",
        "b2c",
        "natuurlijk persoon",
        "individual",
        "contact",
    },
}


def canonical_kvk(value: str | None) -> str | None:
    """An 8-digit KvK number ("12.34.56.78" → "12345678"; 7 digits lost a leading zero), else None.

    Examples:
        >>> canonical_kvk("KvK 12.34.56.78"), canonical_kvk("1234567"), canonical_kvk("123")
        ('12345678', '01234567', None)
    """
    if not value:
        return None
    digits = re.sub(r"\D", "", str(value))
    if len(digits) == 7:
        digits = "0" + digits
    return digits if len(digits) == 8 else None


def canonical_vat(value: str | None) -> str | None:
    """A valid EU VAT number in compact form ("NL004495445B01"), else None; bare Dutch/Belgian forms accepted.

    Examples:
        >>> canonical_vat("NL 0044.95.445.B01"), canonical_vat("004495445B01"), canonical_vat("0403.170.701")
        ('NL004495445B01', 'NL004495445B01', 'BE0403170701')
        >>> canonical_vat("NL123456789B01") is None
        True
    """
    from stdnum.eu import vat

    if not value:
        return None
    text = re.sub(r"[\s.\-]", "", str(value)).upper()
    if re.fullmatch(r"\d{9}B\d{2}", text):
        text = "NL" + text
    elif re.fullmatch(r"[01]\d{9}", text):
        text = "BE" + text
    try:
        return vat.validate(text)
    except Exception:  # noqa: BLE001 - stdnum raises several ValidationError subclasses
        return None


def canonical_iban(value: str | None) -> str | None:
    """A valid IBAN in compact upper-case form, else None.

    Examples:
        >>> canonical_iban("nl91 abna 0417 1643 00"), canonical_iban("NL91ABNA0417164301")
        ('NL91ABNA0417164300', None)
    """
    from stdnum import iban

    if not value:
        return None
    try:
        return iban.validate(str(value))
    except Exception:  # noqa: BLE001
        return None


def party_word(value: str | None) -> str | None:
    """The party type a relatietype value means ("Particulier" → person), or None."""
    if not value:
        return None
    key = str(value).strip().lower()
    return next((party for party, words in _PARTY_WORDS.items() if key in words), None)


def classify_party(
    party: str | None, company: str | None, last_name: str | None, first: str | None, kvk: str | None
) -> str:
    """person or organisation for one record.

    An explicit relatietype wins; else a record with a person's name is a person (a company column then
    holds the employer), and one with only a company name, KvK number or company-like surname is an
    organisation.

    Examples:
        >>> classify_party(None, "Bakkerij Jansen B.V.", None, None, None)
        'organisation'
        >>> classify_party(None, "Bakkerij Jansen B.V.", "Jansen", "Piet", None)
        'person'
        >>> classify_party("Zakelijk", None, "Jansen", None, None)
        'organisation'
    """
    explicit = party_word(party)
    if explicit:
        return explicit
    if last_name and looks_like_company(last_name) and not first:
        return "organisation"
    if last_name or first:
        return "person"
    return "organisation" if (company or kvk) else "person"


def normalize_organisations(frame, report) -> None:
    """Legal form, KvK, VAT (and an ``iban`` column when present) canonical; ``party_type`` for every row."""
    import numpy as np
    import pandas as pd

    from cdq.normalize._distinct import map_distinct

    own_form = map_distinct(frame, ["legal_form"], lambda v: (legal_form(v) or v,), ["f"])["f"].to_numpy()
    derived = map_distinct(frame, ["company_name"], lambda v: (legal_form(v),), ["f"])["f"].to_numpy()
    use_derived = pd.isna(own_form) & pd.notna(derived)
    frame["legal_form"] = np.where(use_derived, derived, own_form)
    report.add(
        use_derived, "legal_form", "LEGAL_FORM_DERIVED", "info", frame["company_name"].to_numpy(dtype=object)
    )
    for column, func, code in (
        ("kvk_number", canonical_kvk, "KVK_INVALID"),
        ("vat_number", canonical_vat, "VAT_INVALID"),
        ("iban", canonical_iban, "IBAN_INVALID"),
    ):
        if column not in frame:
            continue
        before = frame[column].to_numpy(dtype=object)
        canon = map_distinct(frame, [column], lambda v, f=func: (f(v),), ["c"])["c"].to_numpy()
        frame[column] = np.where(pd.notna(canon), canon, before)
        report.add(pd.notna(before) & pd.isna(canon), column, code, "error", before)
    before_party = frame["party_type"].to_numpy(dtype=object)
    party = map_distinct(
        frame,
        ["party_type", "company_name", "last_name", "first_name", "kvk_number"],
        lambda *v: (classify_party(*v),),
        ["p"],
    )["p"].to_numpy()
    frame["party_type"] = party
    report.add(pd.isna(before_party), "party_type", "PARTY_TYPE_DERIVED", "info", before_party, party)
