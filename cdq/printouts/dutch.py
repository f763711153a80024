"""Plain-Dutch texts for the verification printouts: reason codes, dates and the cover letter.

The reason code texts live in ``reference_data/issue_texts_nl.yaml`` (one entry per registered code, with
``show: false`` for codes that only say what cdq fixed by itself: the adviser has nothing to check there).

Examples:
    >>> problems_nl("NAME_INITIALS_DERIVED;POSTCODE_INVALID;NAME_TITLE_ONLY")
    ['postcode bestaat niet (ongeldige postcode)', 'naam lijkt onvolledig (alleen een aanhef of titel)']
    >>> date_nl(dt.date(2025, 3, 4))
    '4 maart 2025'
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, RootModel

from cdq.config import load_model
from cdq.resources import resource

__all__ = ["issue_texts", "problems_nl", "date_nl", "cover_letter", "STATUSES", "NO_ADVISER"]

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december"]
#: The status choices of the return form, in the order the form offers them.
STATUSES = ["klopt", "klopt niet", "verhuisd", "overleden", "geen klant meer"]
#: The adviser label of the records without an adviser.
NO_ADVISER = "Zonder adviseur"


class IssueText(BaseModel):
    """One reason code's Dutch text and whether the adviser should see it."""

    model_config = ConfigDict(extra="forbid")
    text: str
    show: bool = True


class IssueTexts(RootModel[dict[str, IssueText]]):
    """The authoring model of ``issue_texts_nl.yaml`` (code -> text)."""


@lru_cache(maxsize=4)
def issue_texts(path: str | Path | None = None) -> dict[str, IssueText]:
    """Code -> :class:`IssueText`, validated (a bad file is a ConfigError naming file, key and line)."""
    return load_model(path or resource("reference_data", "issue_texts_nl.yaml"), IssueTexts).root


def problems_nl(issues: str | None) -> list[str]:
    """The Dutch sentences for the problems in a ';'-joined ``issues`` value (fixes left out, no repeats).

    Unknown codes (from a newer cdq) are printed as they are, so nothing is hidden silently.
    """
    if not issues:
        return []
    texts, out = issue_texts(), []
    for code in str(issues).split(";"):
        code = code.strip()
        entry = texts.get(code)
        text = entry.text if entry else code
        if code and (entry is None or entry.show) and text not in out:
            out.append(text)
    return out


def date_nl(day: dt.date) -> str:
    """A date the Dutch way: '4 maart 2025'."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def cover_letter(adviser: str | None, count: int, run_date: dt.date, deadline: dt.date) -> list[str]:
    """The cover letter's paragraphs (first one is the salutation). ``adviser`` None: no adviser."""
    if adviser:
        opening = f"Geachte {adviser},"
        whose = "uw klanten"
    else:
        opening = "Geachte collega,"
        whose = "klanten aan wie (nog) geen adviseur is gekoppeld"
    noun = "klant" if count == 1 else "klanten"
    return [
        opening,
        f"Eenmaal per jaar controleren wij samen met u de gegevens van {whose}. Bijgaand vindt u de "
        f"gegevens zoals ze op {date_nl(run_date)} in onze administratie staan: {count} {noun}, "
        "gesorteerd op achternaam of bedrijfsnaam. Organisaties met meerdere vestigingen staan bij elkaar.",
        "Wilt u per klant aankruisen of de gegevens kloppen? Klopt er iets niet, schrijf de juiste gegevens "
        "dan in het vak 'Correcties'. Is de klant verhuisd, overleden of geen klant meer, kruis dat dan aan. "
        "Onder 'Opvallend' staat wat onze controles hebben gevonden, bijvoorbeeld een postcode die niet "
        "bestaat; wilt u daar extra op letten?",
        "U kunt de correcties ook invullen in het bijgevoegde Excel-retourformulier (dezelfde klanten, in "
        "dezelfde volgorde). Verander daarin alstublieft de kolommen Nr. en Sleutel niet.",
        f"Wij ontvangen het ingevulde formulier graag uiterlijk {date_nl(deadline)} retour. "
        "Hartelijk dank voor uw medewerking.",
        "Met vriendelijke groet,",
        "Afdeling Klantgegevens",
    ]
