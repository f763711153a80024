"""Combine the parsed name fields per row, derive gender, and write salutation and envelope lines.

Name use follows the population register (BRP "aanduiding naamgebruik"); ``name_use`` holds the words,
the BRP letter is in brackets:

==============  ===  ==============================  =====================================
name_use        BRP  surname as used                 example (own De Vries, partner Jansen)
==============  ===  ==============================  =====================================
own             E    own name                        Geachte mevrouw De Vries
partner         P    partner's name                  Geachte mevrouw Jansen
partner-own     V    partner's name, then own        Geachte mevrouw Jansen-de Vries
own-partner     N    own name, then partner's        Geachte mevrouw De Vries-Jansen
==============  ===  ==============================  =====================================

The infix is written in lower case after initials or a first name and capitalised when it leads the
line ("Geachte heer De Vries"); only the first surname of a double name can lead. With unknown gender the
salutation names the person by initials ("Geachte J.P. de Vries"), or "Geachte heer/mevrouw De Vries"
when there are none. In the Belgian convention the surname is kept as registered, prefix included.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cdq.normalize._distinct import map_distinct
from cdq.normalize._report import Collector
from cdq.normalize.names import (
    ABBREVIATED_PREFIXES,
    capitalise_infix,
    first_name_genders,
    initials_of,
    join_infix,
    parse_gender,
    parse_given,
    parse_surname,
    parse_title,
)
from cdq.normalize.settings import NormalizeConfig

BRP_NAME_USE = {"own": "E", "partner": "P", "partner-own": "V", "own-partner": "N"}
_SALUTE = {"M": "Geachte heer ", "F": "Geachte mevrouw "}
_ENVELOPE = {"M": "De heer", "F": "Mevrouw"}

#: None as an array: numpy's stubs do not take a bare None as a value of np.where
_MISSING = np.array(None, dtype=object)


def _first(*arrays: np.ndarray) -> np.ndarray:
    """Element-wise first non-missing value of several object arrays."""
    out = arrays[0].copy()
    for other in arrays[1:]:
        missing = pd.isna(out)
        out[missing] = other[missing]
    return out


def _parsed(frame: pd.DataFrame, column: str, func, fields: list[str]) -> dict[str, np.ndarray]:
    """Parse a name column once per distinct value; one array per parsed field."""
    result = map_distinct(frame, [column], lambda v: tuple(getattr(func(v), f) for f in fields), fields)
    return {f: result[f].to_numpy(dtype=object) for f in fields}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _join(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in parts if p)


def surname_line(infix, last, p_infix, p_last, use, leading: bool) -> str:
    """The surname as used (own, partner, partner-own or own-partner), infix capitalised when ``leading``.

    Examples:
        >>> surname_line("de", "Vries", None, "Jansen", "partner-own", True)
        'Jansen-de Vries'
        >>> surname_line("de", "Vries", None, "Jansen", "own-partner", True)
        'De Vries-Jansen'
    """
    own_first = join_infix(capitalise_infix(infix) if leading else infix, last) if last else ""
    own_mid = join_infix(infix, last) if last else ""
    if not isinstance(p_last, str) or use == "own" or not use:
        return own_first
    partner_first = join_infix(capitalise_infix(p_infix) if leading else p_infix, p_last)
    if use == "partner":
        return partner_first
    if use == "partner-own":
        return _join(partner_first, own_mid, sep="-")
    return _join(own_first, join_infix(p_infix, p_last), sep="-")


_WORD = {"M": "heer", "F": "mevrouw"}


_FROM_BRP = {code: use for use, code in BRP_NAME_USE.items()}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def surname_as_used(row: Mapping[str, object]) -> str | None:
    """The surname a person uses, name use applied and the infix in lower case ("Hendriks-de Wit").

    ``row`` is a golden record, a CRM row or a normalized record; ``name_use`` may hold the words or the
    BRP code. Every place that writes one surname field (CRM adapters, printouts, exports) calls this.

    Examples:
        >>> surname_as_used({"infix": "de", "last_name": "Wit", "partner_last_name": "Hendriks",
        ...                  "name_use": "partner-own"})
        'Hendriks-de Wit'
        >>> surname_as_used({"infix": "de", "last_name": "Vries", "partner_last_name": "Jansen", "name_use": "P"})
        'Jansen'
        >>> surname_as_used({"last_name": None}) is None
        True
    """
    use = _str(row.get("name_use")) or _str(row.get("name_use_brp"))
    use = _FROM_BRP.get(use or "", use)
    last, p_last = _str(row.get("last_name")), _str(row.get("partner_last_name"))
    if not last and not p_last:
        return None
    if not last:
        use = "partner"
    line = surname_line(_str(row.get("infix")), last, _str(row.get("partner_infix")), p_last, use, False)
    return line or None


def letter_lines(gender, title, initials, first, infix, last, p_infix, p_last, use, suffix, is_org, company,
                 second_initials=None, second_gender=None, second_surname=None):
    """(salutation, envelope name) for one record; see the module docstring for the rules.

    A couple (``second_initials`` or ``second_gender`` set) is named as two people: "Geachte heer en
    mevrouw De Vries", "De heer J. en mevrouw M. de Vries", or "J. en M. de Vries" without genders.

    Examples:
        >>> letter_lines("M", None, None, None, None, "Jansen", None, None, "own", None, False, None,
        ...              None, "F")
        ('Geachte heer en mevrouw Jansen', 'De heer en mevrouw Jansen')
        >>> letter_lines(None, None, "J.", None, "de", "Vries", None, None, "own", None, False, None, "M.", None)
        ('Geachte J. en M. de Vries', 'J. en M. de Vries')
    """
    lead = surname_line(infix, last, p_infix, p_last, use, True)
    if is_org and not lead:
        return "Geachte heer/mevrouw", company if isinstance(company, str) else None
    if not lead:
        return "Geachte heer/mevrouw", None
    mid = surname_line(infix, last, p_infix, p_last, use, False)
    given = _text(initials) or _text(first)
    if isinstance(second_initials, str) or isinstance(second_gender, str):
        if isinstance(second_surname, str):
            return _two_names(gender, given, mid, lead, _text(second_initials), second_gender, second_surname)
        return _couple_lines(gender, given, _text(second_initials), second_gender, lead, mid)
    if gender in _SALUTE:
        salutation = _SALUTE[gender] + lead
    else:
        salutation = _join("Geachte", given, mid) if given else "Geachte heer/mevrouw " + lead
    named = _join(_text(title), given, mid) if given else _join(_text(title), lead)
    envelope = _join(_ENVELOPE.get(gender, ""), named, _text(suffix))
    return salutation, envelope


def _two_names(gender, given: str, mid: str, lead: str, second: str, second_gender, surname: str):
    """Letter lines for two people with their own surnames ("De heer J. de Vries en mevrouw A. Bakker")."""
    lead2 = capitalise_infix(surname) or surname
    if gender in _WORD and second_gender in _WORD:
        salutation = f"Geachte {_WORD[gender]} {lead} en {_WORD[second_gender]} {lead2}"
        envelope = _join(_ENVELOPE[gender], given, mid, "en", _WORD[second_gender], second, surname)
        return salutation, envelope
    return "Geachte heer/mevrouw " + lead, _join(given, mid, "en", second, surname)


def _couple_lines(gender, given: str, second: str, second_gender, lead: str, mid: str) -> tuple[str, str]:
    """The letter lines of a record naming two people."""
    if gender in _WORD and second_gender in _WORD:
        words = _WORD[gender] + " en " + _WORD[second_gender]
        if given and second:
            envelope = _join(_ENVELOPE[gender], given, "en", _WORD[second_gender], second, mid)
        else:
            envelope = _ENVELOPE[gender] + " en " + words.split(" en ")[1] + " " + lead
        return "Geachte " + words + " " + lead, envelope
    if given and second:
        return _join("Geachte", given, "en", second, mid), _join(given, "en", second, mid)
    return "Geachte heer/mevrouw " + lead, _join(given, mid) if given else lead


#: How many distinct name-part tuples :func:`salutation_and_envelope` remembers before it starts over.
_MEMO_ROWS = 200_000


def salutation_and_envelope(parts: dict[str, np.ndarray], is_org: np.ndarray, company: np.ndarray):
    """The salutation ("Geachte heer De Vries") and envelope name ("De heer drs. J.P. de Vries") per row.

    One plain Python pass over the rows: composing strings per row is cheaper than a dozen vectorised
    concatenations over object arrays, and rows with the same name parts are composed once.
    """
    columns = [
        parts[k]
        for k in (
            "gender",
            "title",
            "initials",
            "first_name",
            "infix",
            "last_name",
            "partner_infix",
            "partner_last_name",
            "name_use",
            "suffix",
        )
    ]
    none = np.full(len(is_org), None, dtype=object)
    second = [parts.get("second_initials", none), parts.get("second_gender", none),
              parts.get("second_surname", none)]
    lines = []
    seen: dict[tuple, tuple[str, str | None]] = {}  # many rows share their name parts ("J. de Vries", M)
    for row in zip(*columns, is_org, company, *second, strict=True):
        line = seen.get(row)
        if line is None:
            if len(seen) >= _MEMO_ROWS:  # bounded: a file of unique names does not keep every row's tuple
                seen.clear()
            line = seen[row] = letter_lines(*row)
        lines.append(line)
    salutation = np.empty(len(lines), dtype=object)
    envelope = np.empty(len(lines), dtype=object)
    salutation[:] = [line[0] for line in lines]
    envelope[:] = [line[1] for line in lines]
    return salutation, envelope


def _combine_infixes(typed: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Infix column plus a prefix found in the surname ("van" + "der Berg" → "van der"); no doubling."""
    both = pd.notna(typed) & pd.notna(found) & (typed != found)
    out = _first(typed.copy(), found)
    if both.any():
        out[both] = [t + " " + f for t, f in zip(typed[both], found[both], strict=True)]
    return out


_SECOND = ["second_initials", "second_first_name", "second_gender", "second_surname"]
_GIVEN_FIELDS = ["title", "gender", "first_name", "initials", "infix", *_SECOND]
_SECOND_OUT = {"second_initials", "second_gender", "second_surname"}


_WORD_END = re.compile(r"[\s\-]")


def _gender_of_first_names(first: np.ndarray, names: dict[str, str]) -> np.ndarray:
    """The gender each first name's first word implies ("Jan-Peter" → jan → M), once per distinct name."""
    return map_distinct(
        pd.DataFrame({"f": first}),
        ["f"],
        lambda f: (names.get(_WORD_END.split(f, maxsplit=1)[0].lower()) if isinstance(f, str) else None,),
        ["g"],
    )["g"].to_numpy(dtype=object)


def _second_person(parts, title, ini, fst, sur, config: NormalizeConfig) -> None:
    """The second person of a couple ("J. en M. de Vries"): initials and gender, for the letter lines."""
    first = _first(ini["second_first_name"], fst["second_first_name"], sur["second_first_name"])
    names = first_name_genders(config.first_names_file, config.gender_threshold)
    by_name = _gender_of_first_names(first, names)
    parts["second_initials"] = _first(ini["second_initials"], fst["second_initials"], sur["second_initials"])
    parts["second_surname"] = sur["second_surname"]
    parts["second_gender"] = _first(
        title["g2"].to_numpy(dtype=object), ini["second_gender"], fst["second_gender"], sur["second_gender"],
        by_name,
    )


def _gender(frame, parts, given_genders, config: NormalizeConfig, report: Collector) -> np.ndarray:
    raw = frame["gender"].to_numpy(dtype=object)
    parsed = map_distinct(frame, ["gender"], parse_gender, ["g", "ok"])
    explicit, ok = parsed["g"].to_numpy(dtype=object), parsed["ok"].to_numpy(dtype=bool)
    salutation = _first(*given_genders)
    names = first_name_genders(config.first_names_file, config.gender_threshold)
    by_name = _gender_of_first_names(parts["first_name"], names)
    gender = _first(explicit, salutation, by_name)
    gender = np.where(pd.isna(gender), _MISSING, gender)
    report.add(pd.notna(raw) & ~ok, "gender", "GENDER_UNKNOWN_VALUE", "warning", raw)
    report.add(
        pd.notna(explicit) & pd.notna(salutation) & (explicit != salutation),
        "gender",
        "GENDER_CONFLICT",
        "warning",
        raw,
        salutation,
    )
    report.add(pd.isna(explicit) & pd.notna(gender), "gender", "GENDER_DERIVED", "info", raw, gender)
    return gender


def normalize_names(frame: pd.DataFrame, report: Collector, config: NormalizeConfig | None = None) -> None:
    """Parse and recombine the name fields in place; add suffix, partner parts, name use and letter lines."""
    config = config or NormalizeConfig()
    before = {
        c: frame[c].to_numpy(dtype=object) for c in ("initials", "first_name", "infix", "last_name", "title")
    }
    title = map_distinct(frame, ["title"], parse_title, ["t", "g", "seen", "g2"])
    ini = _parsed(
        frame,
        "initials",
        lambda v: parse_given(v, "initials"),
        [*_GIVEN_FIELDS],
    )
    fst = _parsed(
        frame,
        "first_name",
        lambda v: parse_given(v, "first"),
        [*_GIVEN_FIELDS],
    )
    sur = _parsed(
        frame,
        "last_name",
        lambda v: parse_surname(v, config.hyphenated_name_use),
        [
            "title",
            "gender",
            "first_name",
            "initials",
            "infix",
            "last_name",
            "partner_infix",
            "partner_last_name",
            "name_use",
            "suffix",
            "infix_typed",
            "partner_infix_typed",
            *_SECOND,
        ],
    )
    typed_infix = map_distinct(
        frame, ["infix"], lambda v: (" ".join(v.lower().split()) if v else None,), ["i"]
    )["i"].to_numpy(dtype=object)
    found_infix = _first(sur["infix"], fst["infix"], ini["infix"])
    # an infix typed in its own column belongs to the surname written first: "van den" + "Heuvel-Dijkstra"
    # is partner Van den Heuvel, own Dijkstra (with name use partner-own the partner's name comes first)
    to_partner = (pd.notna(typed_infix) & pd.notna(sur["partner_last_name"]) & pd.isna(sur["partner_infix"])
                  & (sur["name_use"] == "partner-own"))
    parts = {
        "title": _first(title["t"].to_numpy(dtype=object), ini["title"], fst["title"], sur["title"]),
        "initials": _first(ini["initials"], fst["initials"], sur["initials"]),
        "first_name": _first(fst["first_name"], ini["first_name"], sur["first_name"]),
        "infix": _combine_infixes(pd.Series(typed_infix, dtype=object).mask(to_partner).to_numpy(dtype=object),
                                  found_infix),
        "last_name": sur["last_name"],
        "partner_infix": np.where(to_partner, typed_infix, sur["partner_infix"]),
        "partner_last_name": sur["partner_last_name"],
        "suffix": sur["suffix"],
    }
    has_name = pd.notna(parts["last_name"])
    parts["name_use"] = np.where(pd.isna(sur["name_use"]), np.where(has_name, "own", _MISSING), sur["name_use"])
    parts["name_use_brp"] = pd.Series(parts["name_use"], dtype=object).map(BRP_NAME_USE).to_numpy(dtype=object)
    derived = pd.isna(parts["initials"]) & pd.notna(parts["first_name"])
    if derived.any():
        parts["initials"][derived] = map_distinct(
            pd.DataFrame({"f": parts["first_name"][derived]}), ["f"], lambda f: (initials_of(f),), ["i"]
        )["i"].to_numpy(dtype=object)
    _second_person(parts, title, ini, fst, sur, config)
    parts["gender"] = _gender(
        frame,
        parts,
        [title["g"].to_numpy(dtype=object), ini["gender"], fst["gender"], sur["gender"]],
        config,
        report,
    )
    if config.belgian:
        _as_registered(parts, sur, frame)
    is_org = frame["party_type"].to_numpy(dtype=object) == "organisation"
    parts["salutation"], parts["envelope_name"] = salutation_and_envelope(
        parts, is_org, frame["company_name"].to_numpy(dtype=object)
    )
    couple = pd.notna(parts["second_initials"]) | pd.notna(parts["second_gender"])
    report.add(couple, "last_name", "NAME_COUPLE", "warning", before["last_name"])
    for column, values in parts.items():
        if column not in _SECOND_OUT:
            frame[column] = values
    _report_changes(report, before, parts, found_infix, sur, derived)


def _as_registered(parts, sur, frame) -> None:
    """Belgian convention: the prefix stays part of the surname, capitalised as typed ("Van den Broeck")."""
    raw_typed = _first(frame["infix"].to_numpy(dtype=object), sur["infix_typed"])
    parts["last_name"] = np.where(
        pd.notna(parts["last_name"]),
        np.array(
            [
                join_infix(i, s) if isinstance(i, str) else s
                for i, s in zip(raw_typed, parts["last_name"], strict=True)
            ],
            dtype=object,
        ),
        _MISSING,
    )
    parts["partner_last_name"] = np.array(
        [
            join_infix(i, s) if isinstance(i, str) and isinstance(s, str) else s
            for i, s in zip(sur["partner_infix_typed"], parts["partner_last_name"], strict=True)
        ],
        dtype=object,
    )
    parts["infix"] = np.full(len(raw_typed), None, dtype=object)
    parts["partner_infix"] = np.full(len(raw_typed), None, dtype=object)


def _report_changes(report: Collector, before, parts, found_infix, sur, derived) -> None:
    moved = pd.notna(found_infix) & (pd.isna(before["infix"]) | pd.notna(sur["infix"]))
    report.add(moved, "infix", "NAME_INFIX_MOVED", "info", before["last_name"], parts["infix"])
    abbreviated = pd.Series(parts["infix"], dtype=object).isin(ABBREVIATED_PREFIXES).to_numpy()
    report.add(abbreviated, "infix", "NAME_INFIX_ABBREVIATED", "warning", parts["infix"])
    report.add(
        pd.notna(sur["partner_last_name"]), "last_name", "NAME_PARTNER_SPLIT", "info", before["last_name"]
    )
    report.add(pd.notna(sur["suffix"]), "last_name", "NAME_SUFFIX_MOVED", "info", before["last_name"])
    report.add(derived, "initials", "NAME_INITIALS_DERIVED", "info", before["first_name"], parts["initials"])
    titled = pd.notna(sur["title"]) | pd.notna(sur["gender"])
    report.add(titled, "last_name", "NAME_TITLE_MOVED", "info", before["last_name"])
    recased = pd.notna(before["last_name"]) & (before["last_name"] != parts["last_name"]) & ~moved & ~titled
    report.add(
        recased & pd.isna(sur["partner_last_name"]), "last_name", "NAME_RECASED", "info", before["last_name"]
    )
    reformatted = pd.notna(before["initials"]) & (before["initials"] != parts["initials"])
    report.add(reformatted, "initials", "NAME_INITIALS_REFORMATTED", "info", before["initials"])
