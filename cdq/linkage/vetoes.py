"""Cannot-link vetoes and the match / review / non-match decision, shared by every way of scoring pairs.

:func:`dedupe` and :func:`link` (in :mod:`cdq.linkage`), :func:`cdq.linkage.one.match_one`, the model
training on steward decisions and the web-lead index all decide pairs with these two functions, so a
pair vetoed in one is vetoed in all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TypeAlias

import numpy as np
import pandas as pd

from cdq.linkage.columns import Columns, columns_of
from cdq.linkage.compare import at_levels, differing, digit_edits, digits_at
from cdq.linkage.settings import Settings

logger = logging.getLogger(__name__)

#: Prepared records: a prepared frame or their :class:`~cdq.linkage.compare.Columns` (the service's few rows).
Prepared: TypeAlias = pd.DataFrame | Columns
#: Comparison levels per pair: :func:`~cdq.linkage.compare.compare`'s frame or
#: :func:`~cdq.linkage.compare.compare_levels`' arrays.
Levels: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]

#: Birth dates this many years apart (or more) cannot be one person; closer ones may be a mistyped date.
BIRTH_VETO_YEARS = 2.0


def _level(vectors: Levels, name: str) -> np.ndarray:
    return np.asarray(vectors[name])


def _same(prepared: Prepared, column: str, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    codes = columns_of(prepared).codes(column)
    return (codes[l] >= 0) & (codes[l] == codes[r])


def _initials_against_call_name(prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """One record has only initials, the other a first name, and both the same personal mailbox name.

    A Dutch first name is mostly the call name, which often does not start with the formal initial (Nel for
    Petronella, Stijn for Christiaan, Greet for Margaretha): with the same personal e-mail name (the domain
    may be mistyped) the disagreement is evidence (a weight), not a cannot-link.
    """
    cols = columns_of(prepared)
    name = cols.codes("first_name") >= 0
    initials = cols.codes("initials_given") >= 0
    only_initials = ~name & initials
    out = (only_initials[l] & name[r]) | (only_initials[r] & name[l])
    at = np.flatnonzero(out)  # the mailboxes compared only there (few pairs have initials only on one side)
    mailbox = _same(cols, "email_local", l[at], r[at])
    if cols.has("email_role"):
        mailbox &= ~cols.flag("email_role")[l[at]]
    out[at] = mailbox
    return out


def _same_personal_email(prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The same e-mail address on both records, and not a role address (info@, administratie@)."""
    cols = columns_of(prepared)
    same = _same(cols, "email", l, r)
    if cols.has("email_role"):
        same &= ~cols.flag("email_role")[l]
    return same


def _same_mailbox(vectors: Levels, s: Settings, prepared: Prepared, l: np.ndarray, r: np.ndarray,
                  at: np.ndarray) -> np.ndarray:
    """One personal e-mail address, or its mailbox at a mistyped domain: evidence as strong as a birth date.

    Two strong facts that disagree (one mailbox, birth dates years apart) are no cannot-link: the weights
    decide (a parent and child sharing a mailbox are a generation apart and still vetoed).
    """
    same = _same_personal_email(prepared, l[at], r[at])  # for the pairs ``at`` only
    if "email" in vectors:
        same |= _level(vectors, "email")[at] == s.levels("email").index("same_local")
    return same


def _elsewhere(vectors: Levels, s: Settings, at: np.ndarray) -> np.ndarray:
    """Addresses that disagree (both known, not even the same city or postcode area), for the pairs ``at``.

    A mailbox is made of the names ("a.aslan@", "max_jansen@"): namesakes at two addresses with birth dates
    years apart can carry one (Dutch synthetic 1M: about 3,100 false pairs). Only where the place does not
    disagree as well does the mailbox outweigh the dates.
    """
    if "address" not in vectors:
        return np.zeros(len(at), dtype=bool)
    return _level(vectors, "address")[at] == s.levels("address").index("different")


def _same_stem(prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """First names that share their first three letters (walter / wally, thomas / tommie): a pet form is possible."""
    stem = columns_of(prepared).name_stem("first_name")
    return (stem[l] >= 0) & (stem[l] == stem[r])


def _same_stem_of(prepared: Prepared):
    return lambda l, r: _same_stem(prepared, l, r)


def _years_apart(prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Absolute difference in years between the birth dates of the pairs ``(l, r)`` (whole years where either
    date is partial)."""
    dates = columns_of(prepared).birth_days()
    days = dates[l] - dates[r]
    # a partial date (year or year-month only): whole years apart
    y = columns_of(prepared).any_date_parts()[0]
    whole = np.abs(y[l].astype(float) - y[r].astype(float))
    return np.where(np.isnan(days), whole, np.abs(days) / 365.25)


#: Birth dates at most this many edits apart, with one digit of the year different and fewer than
#: PARENT_GAP_YEARS apart, may be one date mistyped ("1971-06-24" / "1981-06-24", "2008-12-31" / "2018-12-13").
DATE_TYPO_EDITS = 3
#: A parent and a child are at least this many years apart: dates that far apart are two people however few
#: digits differ ("1950-05-12" / "1980-05-12": a father and son sharing a birthday).
PARENT_GAP_YEARS = 15


def _date_typo(prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Full birth dates of the pairs ``(l, r)`` that differ by a typo: one digit of the year, at most
    :data:`DATE_TYPO_EDITS` edits in all and fewer than :data:`PARENT_GAP_YEARS` years apart (a decade typed
    wrong is ten years; a father and son with one name are a generation apart)."""
    out = np.zeros(len(l), dtype=bool)
    y = columns_of(prepared).date_parts()[0]
    yl, yr = y[l], y[r]
    # the digits (8 bytes per record) are gathered only for the dates close enough to be a typo
    idx = np.flatnonzero((yl >= 0) & (yr >= 0) & (np.abs(yl - yr) < PARENT_GAP_YEARS))
    if len(idx):
        digits = columns_of(prepared).date_digits()
        a, b = digits_at(digits, l[idx]), digits_at(digits, r[idx])
        year_digits = differing(a != b, 4)
        out[idx] = (year_digits <= 1) & (digit_edits(a, b) <= DATE_TYPO_EDITS)
    return out


def party_conflict(prepared: Prepared, l: np.ndarray, r: np.ndarray, vectors: Levels,
                    s: Settings) -> np.ndarray:
    """Pairs that are two parties whatever their scores.

    A record naming only a person and one naming only an organisation are different parties. Two
    organisation records at different addresses that both have a phone number, and different ones, are two
    branches: branches share the name and the info@ address, their location is what tells them apart.
    """
    cols = columns_of(prepared)
    name = cols.present("surname_core") | cols.present("initials")
    company = cols.present("company_key")
    person, org = name & ~company, company & ~name
    conflict = (person[l] & org[r]) | (org[l] & person[r])
    if "address" in vectors and "phone" in vectors:
        address = _level(vectors, "address")
        elsewhere = (address <= s.levels("address").index("same_area")) & (address >= 0)
        other_phone = _level(vectors, "phone") == 0
        conflict |= org[l] & org[r] & elsewhere & other_phone
    return conflict


def vetoes(vectors: Levels, s: Settings, prepared: Prepared, l: np.ndarray, r: np.ndarray) -> np.ndarray:
    """True where a pair sits on a cannot-link level of some comparison (strong evidence only).

    A different first name is no veto when both records carry the same formal initials: the call name
    ("Eef") and the formal name ("Everardus", or a typo of it) then name one person; nor when one record
    has only initials and the other a first name and both the same personal e-mail name (the call name
    need not start with the formal initial). A different gender
    is no veto when the first names agree (similar or better). A different birth date vetoes
    only when the dates are at least ``BIRTH_VETO_YEARS`` apart (a father and son, not a mistyped date).

    ``vectors``: the pairs' levels (a frame or arrays per comparison); ``prepared``: a prepared frame or its
    :class:`~cdq.linkage.compare.Columns` (one implementation for batch linkage and the service's few rows).
    """
    prepared = columns_of(prepared)
    veto = np.zeros(len(l), dtype=bool)
    for name, level_names in s.cannot_link:
        if name in vectors:
            codes = [s.levels(name).index(lv) for lv in level_names]
            hit = at_levels(_level(vectors, name), codes)
            # the exceptions are tested on the pairs the level hits only (19M candidate pairs at 1M records;
            # every test gathers both records' codes)
            if name == "first_name":
                at = np.flatnonzero(hit)
                for excepted in (lambda a, b: _same(prepared, "initials_given", a, b), _same_stem_of(prepared),
                                 lambda a, b: _initials_against_call_name(prepared, a, b)):
                    out = excepted(l[at], r[at])  # each exception tested where no earlier one lifted the veto
                    hit[at[out]] = False
                    at = at[~out]
            if name == "birth_date":
                # on the pairs at the level only (positions ``at``), narrowed step by step
                at = np.flatnonzero(hit)
                apart = _years_apart(prepared, l[at], r[at])
                far = apart >= BIRTH_VETO_YEARS
                at, apart = at[far], apart[far]
                typo = _date_typo(prepared, l[at], r[at])
                at, apart = at[~typo], apart[~typo]
                hit = np.zeros(len(l), dtype=bool)
                hit[at] = True
                near = at[apart < PARENT_GAP_YEARS]
                near = near[~_elsewhere(vectors, s, near)]
                hit[near] = ~_same_mailbox(vectors, s, prepared, l, r, near)
            if name == "gender" and "first_name" in vectors:
                # a recorded gender is often wrong (derived from a salutation); it vetoes only when the
                # first names do not agree either
                hit &= _level(vectors, "first_name") < s.levels("first_name").index("similar")
            veto |= hit
    if "first_name" in dict(s.cannot_link) or "gender" in dict(s.cannot_link):
        # One personal e-mail address and one exact birth date name one person, whatever the first names
        # say (a call name missing from the nickname table, a partner's surname, a typo): lift name vetoes.
        at = np.flatnonzero(veto)
        if "birth_date" in vectors:  # the same birth date is its exact level: the pairs' codes gathered only there
            at = at[_level(vectors, "birth_date")[at] == s.levels("birth_date").index("exact")]
        at = at[_same(prepared, "birth_date", l[at], r[at])]
        veto[at[_same_personal_email(prepared, l[at], r[at])]] = False
    if s.cannot_link:
        veto |= party_conflict(prepared, l, r, vectors, s)
    for extra in s.extras:
        if extra.identifier and extra.name in vectors:
            # the same identifier, or one typo in it (a number of 6+ digits: strangers are that close about
            # once in 10^5 pairs), names one person whatever a replaced first name or birth date says
            top = len(s.levels(extra.name)) - 1
            veto &= _level(vectors, extra.name) < (top - 1 if extra.kind == "number" else top)
    return veto


#: A cannot-link rule is checked on the file before it is applied (:func:`contradicted_vetoes`): among at
#: least this many pairs at its level that agree on everything else and carry personal evidence on both sides ...
VETO_CHECK_MIN_PAIRS = 20
#: ... at least this share agreeing on that evidence says the level is a typo or a replaced value in this file,
#: not a second person (twins disagree on their identifiers and e-mail addresses always).
VETO_CHECK_SHARE = 0.5
#: What "agrees on everything else" means per rule: the lowest level of each other comparison. Twins share
#: surname and birth date; a father and his namesake son share first name and surname.
_OTHERS_AGREE = {"first_name": {"surname": "very_similar", "birth_date": "exact"},
                 "birth_date": {"first_name": "very_similar", "surname": "very_similar"}}


def _personal_evidence(vectors: pd.DataFrame, s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """(present, agrees) per pair: an identifier (a social security number: exact or one typo) or a personal
    e-mail address (role addresses are already missing) on both records, and whether one of them agrees."""
    present = np.zeros(len(vectors), dtype=bool)
    agrees = np.zeros(len(vectors), dtype=bool)
    fields = [(e.name, 1 if e.kind == "number" else 0) for e in s.extras if e.identifier]
    fields += [("email", 0)] if "email" in s.comparisons else []
    for name, slack in fields:
        if name in vectors.columns:
            level = vectors[name].to_numpy()
            present |= level >= 0
            agrees |= level >= len(s.levels(name)) - 1 - slack
    return present, agrees


def veto_checks(s: Settings, columns) -> dict[str, tuple[list[int], dict[str, int]]]:
    """Per checkable cannot-link rule (of :data:`_OTHERS_AGREE`) whose comparisons are all in ``columns``: its
    vetoed level codes and, per other comparison, the lowest level code that counts as agreeing."""
    out = {}
    for name, level_names in s.cannot_link:
        others = _OTHERS_AGREE.get(name, {})
        if not others or name not in columns or any(c not in columns for c in others):
            continue
        out[name] = ([s.levels(name).index(lv) for lv in level_names],
                     {other: s.levels(other).index(lowest) for other, lowest in others.items()})
    return out


def contradicted_vetoes(vectors: pd.DataFrame, s: Settings, counts: np.ndarray | None = None) -> list[str]:
    """The cannot-link rules (of :data:`_OTHERS_AGREE`) that the file itself contradicts.

    A different first name on records that agree on surname, birth date and address is a twin in a population,
    and a different birth date on a namesake at one address a father and his son: the rules assume so. Where
    such pairs carry an identifier or a personal e-mail address on both sides, the file can check it: twins
    never share one. When most of them do (:data:`VETO_CHECK_SHARE` of at least :data:`VETO_CHECK_MIN_PAIRS`),
    the level is how this source mistypes or replaces the value, and it is weighed (its learned m), not vetoed.
    Only the pairs :func:`veto_checks` selects matter, so ``vectors`` may be just those; with ``counts``, each
    row of ``vectors`` is a pattern that many pairs share (the Spark engine collects the patterns of those
    pairs, a bounded number whatever the input size, not the pairs).
    """
    present, agrees = _personal_evidence(vectors, s)
    if not present.any():
        return []
    weight = np.ones(len(vectors), dtype=np.int64) if counts is None else counts
    out = []
    for name, (vetoed, others) in veto_checks(s, vectors.columns).items():
        at = at_levels(vectors[name].to_numpy(), vetoed)
        for other, lowest in others.items():
            at &= vectors[other].to_numpy() >= lowest
        if "address" in vectors.columns:  # the same address, where both have one
            address = vectors["address"].to_numpy()
            at &= (address < 0) | (address >= s.levels("address").index("same_street"))
        checked = int(weight[at & present].sum())
        if checked >= VETO_CHECK_MIN_PAIRS and weight[at & agrees].sum() >= VETO_CHECK_SHARE * checked:
            out.append(name)
    return out


def without_contradicted_vetoes(vectors: pd.DataFrame, s: Settings, counts: np.ndarray | None = None) -> Settings:
    """The settings without the cannot-link rules this file contradicts (see :func:`contradicted_vetoes`)."""
    lifted = contradicted_vetoes(vectors, s, counts)
    if not lifted:
        return s
    logger.info("linkage: %s: pairs that differ only there mostly share an identifier or e-mail address in this "
                "file; weighed, not a cannot-link", ", ".join(lifted))
    return replace(s, cannot_link=tuple(rule for rule in s.cannot_link if rule[0] not in lifted))


#: The decisions, by their code in :func:`decision_codes`.
DECISIONS = ("match", "review", "non_match")
MATCH, REVIEW, NON_MATCH = range(3)


def decision_codes(probability: np.ndarray, veto: np.ndarray, s: Settings) -> np.ndarray:
    """:func:`decide` as int8 positions in :data:`DECISIONS`: at 1M records a run holds ~19M candidate pairs,
    and comparing that many Python strings ("match") costs about half a second each time.

    Examples:
        >>> from cdq.linkage.settings import load_settings
        >>> decision_codes(np.array([1.0, 0.0, 1.0]), np.array([False, False, True]), load_settings()).tolist()
        [0, 2, 2]
    """
    if s.review <= s.auto_match:
        # MATCH + one for each threshold not reached (NaN reaches none): two comparisons and an add, no
        # nested np.where over 19M pairs
        code = (~(probability >= s.auto_match)).astype(np.int8)
        code += ~(probability >= s.review)
    else:
        code = np.where(probability >= s.auto_match, MATCH, np.where(probability >= s.review, REVIEW, NON_MATCH))
        code = code.astype(np.int8)
    code[veto] = NON_MATCH
    return code


def decide(probability: np.ndarray, veto: np.ndarray, s: Settings) -> np.ndarray:
    """``match`` / ``review`` / ``non_match`` by the thresholds; a vetoed pair is never more than ``non_match``."""
    return np.array(DECISIONS, dtype=object)[decision_codes(probability, veto, s)]
