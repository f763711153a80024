"""Comparison vectors: one agreement level per comparison and candidate pair (vectorised, chunked).

Every comparison registers itself in :data:`COMPARISONS` with :func:`comparison`, which carries its level names
(worst first), the defaults of its thresholds and its term-frequency column: ``rules/matching.yaml``'s record of
it is checked against that. Levels are small integers indexing those names (0 = ``different``, highest =
``exact``); -1 means a value is missing on either side (no evidence). Strings are compared with
rapidfuzz's element-wise ``cpdist`` (C++, both cores; see :mod:`cdq.linkage.measures`); equality uses factorized
integer codes.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from cdq.linkage.columns import Columns, columns_of
from cdq.linkage.given_names import call_name_levels
from cdq.linkage.measures import (
    by_distinct_pair,
    cpdist_workers,
    jaro_winkler,
    scrambled,
    truncation,
    within_one_edit,
)
from cdq.linkage.name_variants import related_pairs
from cdq.linkage.organisations import company_level
from cdq.linkage.swaps import half_swapped_names
from cdq.registry import Registry

logger = logging.getLogger(__name__)

CHUNK = 1_000_000


#: ``(columns, left rows, right rows, settings) -> level codes`` (int8, -1 missing), vectorised over the pairs.
CompareFn = Callable[["Columns", np.ndarray, np.ndarray, Any], np.ndarray]


@dataclass(frozen=True)
class Comparison:
    """A built-in comparison: its function and what ``rules/matching.yaml`` may say about it."""

    compare: CompareFn
    #: level names, worst first: the function returns their positions
    levels: tuple[str, ...]
    #: defaults of the thresholds the function reads with ``settings.threshold(name, key)``
    thresholds: Mapping[str, float]
    #: the prepared column a term-frequency adjustment counts (``tf: true``); None: it needs one named
    tf_column: str | None = None


#: Built-in comparisons by name: the one place that defines a comparison's levels.
COMPARISONS: Registry[Comparison] = Registry("comparison")


def comparison(name: str, levels: tuple[str, ...], *, thresholds: Mapping[str, float] | None = None,
               tf: str | None = None) -> Callable[[CompareFn], CompareFn]:
    """A decorator registering a comparison function in :data:`COMPARISONS` under ``name`` with its level
    names (worst first), threshold defaults and default term-frequency column; returns the function unchanged.

    Examples:
        >>> COMPARISONS["gender"].levels, COMPARISONS["email"].thresholds["similar_local"]
        (('different', 'exact'), 0.88)
    """

    def decorate(fn: CompareFn) -> CompareFn:
        COMPARISONS.add(name, Comparison(fn, tuple(levels), dict(thresholds or {}), tf))
        return fn

    return decorate


def _base(cols: Columns, column: str, l, r):
    """(levels initialised to 0 / -1 for missing, equal mask, both-present mask)."""
    c = cols.codes(column)
    a, b = c[l], c[r]
    present = (a >= 0) & (b >= 0)
    levels = np.subtract(present, 1, dtype=np.int8)  # 0 where both are present, else -1
    return levels, present & (a == b), present


def _select(levels: np.ndarray, rules: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Assign the first matching rule's level (rules best first), only where not yet set above 0."""
    for mask, level in reversed(rules):
        np.putmask(levels, mask, level)  # levels[mask] = level, without making positions of the mask
    return levels


def at_levels(levels: np.ndarray, codes) -> np.ndarray:
    """``np.isin(levels, codes)`` for a few level codes: one comparison per code (``np.isin`` on tens of
    millions of int8 levels costs ~40 times as much).

    Examples:
        >>> at_levels(np.array([0, 1, 2, -1], dtype=np.int8), [0, 2]).tolist()
        [True, False, True, False]
    """
    out = np.zeros(len(levels), dtype=bool)
    for code in codes:
        out |= levels == code
    return out


@comparison("first_name", ("different", "initial", "similar", "very_similar", "nickname", "exact"),
            thresholds={"similar": 0.80, "very_similar": 0.92}, tf="first_name_nick")
def compare_first_name(cols: Columns, l, r, s) -> np.ndarray:
    levels, exact, present = _base(cols, "first_name", l, r)
    # names sharing a formal name (first_name_nick) are related too: the relation covers them
    nickname = present & related_pairs(cols.array("first_name_variant_id"), l, r)
    jw = jaro_winkler(cols, "first_name", l, r, present & ~nickname)
    similar, very = s.threshold("first_name", "similar"), s.threshold("first_name", "very_similar")
    one_edit = within_one_edit(cols, "first_name", l, r, present & ~nickname & (jw < similar))
    short = truncation(cols, l, r, present & ~nickname & (jw < similar) & ~one_edit)
    short |= scrambled(cols, "first_name", l, r, present & ~nickname & (jw < similar) & ~one_edit & ~short)
    init = cols.codes("first_initial")
    has_init = (init[l] >= 0) & (init[r] >= 0)
    initial_only = has_init & ~present
    levels[initial_only] = 0
    same_initial = has_init & (init[l] == init[r])
    return _select(levels, [(exact, 5), (nickname, 4), (present & (jw >= very), 3),
                            (present & ((jw >= similar) | one_edit | short), 2),
                            (initial_only & same_initial, 1)])


@comparison("middle_name", ("different", "initial", "exact"), thresholds={"exact": 0.92})
def compare_middle_name(cols: Columns, l, r, s) -> np.ndarray:
    """All given names, not only the first: the names after the first agree (``exact``; a typo counts), only
    their initials agree ("Jan P." / "Jan Peter", "J.P." / "Jan Peter": ``initial``), or they disagree.
    Missing unless both records have more than one given name or initial: "Jan" says nothing about a middle
    name. Two people sharing first and last name are common; sharing all given names is rare."""
    names, inits = cols.codes("middle_names"), cols.codes("middle_initials")
    levels = np.where((inits[l] >= 0) & (inits[r] >= 0), 0, -1).astype(np.int8)
    both_names = (names[l] >= 0) & (names[r] >= 0)
    exact = both_names & (names[l] == names[r])
    jw = jaro_winkler(cols, "middle_names", l, r, both_names & ~exact)
    same_initials = (inits[l] >= 0) & (inits[l] == inits[r])
    return _select(levels, [(exact | (jw >= s.threshold("middle_name", "exact")), 2), (same_initials, 1)])


@comparison("surname", ("different", "similar", "very_similar", "part_or_phonetic", "exact"),
            thresholds={"similar": 0.80, "very_similar": 0.92}, tf="surname_core")
def compare_surname(cols: Columns, l, r, s) -> np.ndarray:
    levels, exact, present = _base(cols, "surname_core", l, r)
    phon = cols.codes("surname_phonetic")
    part = present & (phon[l] == phon[r])
    spaced = cols.spaced("surname_core")
    double = present & ~exact & ~part & (spaced[l] | spaced[r])
    part |= by_distinct_pair(cols, "surname_core", l, r, double, _share_a_word, np.zeros(len(l), dtype=bool))
    jw = jaro_winkler(cols, "surname_core", l, r, present & ~exact & ~part)
    similar, very = s.threshold("surname", "similar"), s.threshold("surname", "very_similar")
    one_edit = within_one_edit(cols, "surname_core", l, r, present & ~exact & ~part & (jw < very))
    return _select(levels, [(exact, 4), (part, 3), (present & ((jw >= very) | one_edit), 2),
                            (present & (jw >= similar), 1)])


def _share_a_word(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of texts: whether they share a word ("jansen vries" / "vries")."""
    return np.fromiter((not set(x.split()).isdisjoint(y.split()) for x, y in zip(a.tolist(), b.tolist())),
                       dtype=bool, count=len(a))


#: Adjacent digit positions within one part of YYYY-MM-DD (the dashes keep parts apart).
_ADJACENT = ((0, 1), (1, 2), (2, 3), (4, 5), (6, 7))


def digit_edits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Edit distance between two YYYY-MM-DD dates given as (pairs, 8) digit arrays (:func:`_digits`,
    :meth:`Columns.date_digits`), as optimal string alignment (a swap of two adjacent digits is one edit),
    vectorised: differing digits, less one per swapped adjacent pair (left to right, no overlap).
    Same-width dates cannot gain from an insertion plus a deletion within the 1-2 edits that matter here.

    Examples:
        >>> from cdq.linkage.columns import _digits
        >>> y, m, d = np.array([1980, 1908, 1980, 1980]), np.array([3, 3, 4, 3]), np.array([4, 4, 3, 5])
        >>> digit_edits(_digits(y, m, d, np.array([0, 0, 0])), _digits(y, m, d, np.array([1, 2, 3]))).tolist()
        [1, 2, 1]
    """
    diff = a != b
    edits = differing(diff)
    consumed = np.zeros(len(a), dtype=bool)
    previous = -1
    for i, j in _ADJACENT:
        if i != previous:
            consumed[:] = False
        swap = diff[:, i] & diff[:, j] & (a[:, i] == b[:, j]) & (a[:, j] == b[:, i]) & ~consumed
        edits = edits - swap
        consumed = swap
        previous = j
    return edits


def differing(diff: np.ndarray, first: int = 8) -> np.ndarray:
    """Per row of a (rows, 8) boolean array (digits that differ): how many of its first ``first`` are True.

    A row of 8 booleans is one 64-bit word: multiplying it by 0x0101...01 adds its bytes up in the top byte
    (a sum over a short axis costs ~20 times as much).

    Examples:
        >>> differing(np.array([[1, 0, 1, 1, 0, 0, 0, 1], [0] * 8], dtype=bool)).tolist()
        [4, 0]
        >>> differing(np.array([[1, 0, 1, 1, 0, 0, 0, 1]], dtype=bool), first=2).tolist()
        [1]
    """
    if sys.byteorder != "little" or diff.dtype != bool or diff.ndim != 2 or diff.shape[1] != 8 \
            or not diff.flags.c_contiguous:
        return diff[:, :first].sum(axis=1)
    words = diff.view(np.uint64).ravel()
    if first < 8:  # the first digits are the low bytes
        words = words & np.uint64((1 << (8 * first)) - 1)
    return ((words * np.uint64(0x0101010101010101)) >> np.uint64(56)).astype(np.int64)


def digits_at(digits: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``digits[rows]`` of a (records, 8) int8 digit array (:meth:`Columns.date_digits`), gathered as one 64-bit
    word per record (a gather of rows of 8 bytes costs ~8 times as much)."""
    if digits.dtype != np.int8 or digits.ndim != 2 or digits.shape[1] != 8 or not digits.flags.c_contiguous:
        return digits[rows]
    return digits.view(np.int64).ravel()[rows].view(np.int8).reshape(-1, 8)


#: Birth-date levels, worst first, and their positions by name.
BIRTH_LEVELS = ("different", "same_year", "partial_year", "year_typo", "partial_month", "one_edit", "swapped", "exact")
_BIRTH = {name: i for i, name in enumerate(BIRTH_LEVELS)}


@comparison("birth_date", BIRTH_LEVELS)
def compare_birth_date(cols: Columns, l, r, s=None) -> np.ndarray:
    """Full dates: exact, day and month swapped, one edit, two edits with at most one digit of the year
    (``year_typo``: "1961-10-18" / "1951-10-13"), the same year, different; partial dates: :func:`_partial_dates`."""
    levels, exact, present = _base(cols, "birth_date", l, r)
    rest = present & ~exact
    idx = np.flatnonzero(rest)
    y, m, d = cols.date_parts()
    li, ri = l[idx], r[idx]
    same_year = y[li] == y[ri]
    swapped = same_year & (m[li] == d[ri]) & (d[li] == m[ri])
    same_md = (m[li] == m[ri]) & (d[li] == d[ri])
    digits = cols.date_digits()
    a, b = digits_at(digits, li), digits_at(digits, ri)
    lev = digit_edits(a, b)
    sub = np.zeros(len(idx), dtype=np.int8)
    # the same birthday in a year that differs in one digit is a typo; in a year that differs in two or
    # more digits (1961 / 1947) it is a different person who shares a birthday, as 1 in 365 strangers do
    year_digits = differing(a != b, 4)
    typo_year = (same_md | (lev == 2)) & (year_digits <= 1)
    sub = _select(sub, [(swapped, _BIRTH["swapped"]), (lev <= 1, _BIRTH["one_edit"]),
                        (typo_year, _BIRTH["year_typo"]), (same_year, _BIRTH["same_year"])])
    levels[idx] = sub
    levels[exact] = _BIRTH["exact"]
    _partial_dates(cols, l, r, levels)
    return levels


def _partial_dates(cols: Columns, l, r, levels: np.ndarray) -> None:
    """Pairs where a side knows only the year or year-month (in place): the same year-month is
    ``partial_month``, the same year ``partial_year`` (or ``same_year`` when both months are known and
    differ), another year ``different``."""
    part = cols.codes("birth_partial")
    has_part = part >= 0
    idx = np.flatnonzero((has_part[l] | has_part[r]) & (levels < 0))
    if not len(idx):
        return
    y, m = cols.any_date_parts()
    li, ri = l[idx], r[idx]
    known = (y[li] >= 0) & (y[ri] >= 0)
    same_y = known & (y[li] == y[ri])
    both_m = (m[li] >= 0) & (m[ri] >= 0)
    sub = np.where(known, _BIRTH["different"], -1).astype(np.int8)
    sub[same_y] = _BIRTH["partial_year"]
    sub[same_y & both_m & (m[li] != m[ri])] = _BIRTH["same_year"]
    sub[same_y & both_m & (m[li] == m[ri])] = _BIRTH["partial_month"]
    levels[idx] = sub


def compare_simple(cols: Columns, column: str, l, r, *, top: int, similar: float | None = None,
                   very_similar: float | None = None) -> np.ndarray:
    """exact = ``top``; then optional JW bands (very_similar, similar) one level down each."""
    levels, exact, present = _base(cols, column, l, r)
    rules = [(exact, top)]
    if similar is not None:
        jw = jaro_winkler(cols, column, l, r, present & ~exact)
        if very_similar is not None:
            rules.append((present & (jw >= very_similar), top - 1))
        rules.append((present & (jw >= similar), 1))
    return _select(levels, rules)


@comparison("company", ("different", "shared_word", "subset", "very_similar", "exact"),
            thresholds={"very_similar": 0.90}, tf="company_key")
def compare_company(cols: Columns, l, r, s) -> np.ndarray:
    """Organisation names (``company_key``: significant words, sorted): exact (or the same words written
    together), very similar (the same words but for typos and abbreviations), subset (every word of one
    is in the other: "Seward" / "Chicago Public Schools Seward"), a shared word, different. See
    :func:`cdq.linkage.organisations.company_level`."""
    very = s.threshold("company", "very_similar")
    levels, exact, present = _base(cols, "company_key", l, r)
    compact = cols.codes("company_compact")
    exact |= present & (compact[l] == compact[r])
    rest = by_distinct_pair(cols, "company_key", l, r, present & ~exact,
                             lambda a, b: np.fromiter((company_level(x, y, very) for x, y in zip(a.tolist(), b.tolist())),
                                                      dtype=np.int8, count=len(a)),
                             np.zeros(len(l), dtype=np.int8))
    levels[present] = rest[present]
    levels[exact] = 4
    return levels


@comparison("email", ("different", "similar_local", "same_local", "exact"), thresholds={"similar_local": 0.88},
            tf="email")
def compare_email(cols: Columns, l, r, s) -> np.ndarray:
    levels, exact, present = _base(cols, "email", l, r)
    # a shared role address (info@) names the organisation or the household, not the party: no evidence
    role = cols.flag("email_role") if cols.has("email_role") else None
    if role is not None:
        shared = role[l] | role[r]
        levels[shared] = -1
        exact, present = exact & ~shared, present & ~shared
    local = cols.codes("email_local")
    same_local = present.copy()
    same_local[present] = local[l[present]] == local[r[present]]
    # local parts are mostly made of the name ("jan.jansen@"): two people of one name at two providers
    # agree on them as often as one person does, so where the names agree only the whole address counts
    # (only where both have an address matters: the names are gathered only there)
    first, last = cols.codes("first_initial"), cols.codes("surname_phonetic")
    at = np.flatnonzero(present)
    li, ri = l[at], r[at]
    named = np.zeros(len(l), dtype=bool)
    named[at] = (first[li] >= 0) & (first[li] == first[ri]) & (last[li] >= 0) & (last[li] == last[ri])
    jw = jaro_winkler(cols, "email_local", l, r, present & ~exact & ~same_local & ~named)
    # the whole address keyed in another order ("lucas.harrington@com" / "lucas@harrington.com")
    typo = scrambled(cols, "email", l, r, present & ~exact & ~same_local, min_length=8)
    levels = _select(levels, [(exact, 3), (same_local, 2),
                              ((present & (jw >= s.threshold("email", "similar_local"))) | typo, 1)])
    levels[named & present & ~exact] = -1
    return levels


@comparison("email_domain", ("different", "exact"), tf="company_domain")
def compare_email_domain(cols: Columns, l, r, s) -> np.ndarray:
    """The domain of an organisation's own e-mail (``company_domain``: "info@bakkerij-jansen.nl" /
    "inkoop@bakkerij-jansen.nl"): two organisation records at one domain are one organisation, however its
    name is written. Missing for persons, for a mail provider's domain (gmail.com, ziggo.nl: anyone has
    those), and where both records have one personal address (the e-mail comparison counts that; a shared
    role address such as info@ is no evidence there, but it is here)."""
    levels = compare_simple(cols, "company_domain", l, r, top=1)
    email = cols.codes("email")
    role = cols.flag("email_role") if cols.has("email_role") else np.zeros(len(email), bool)
    levels[(email[l] >= 0) & (email[l] == email[r]) & ~role[l]] = -1
    return levels


def compare_edit(cols: Columns, column: str, l, r, *, top: int, area: int | None = None) -> np.ndarray:
    """exact, one edit (Levenshtein ≤ 1), optional same leading ``area`` characters."""
    levels, exact, present = _base(cols, column, l, r)
    one_edit = within_one_edit(cols, column, l, r, present & ~exact)
    rules = [(exact, top), (present & one_edit, top - 1)]
    if area:
        text = cols.text(column)
        idx = np.flatnonzero(present & ~exact)
        same = np.zeros(len(l), dtype=bool)
        same[idx] = pd.Series(text[l[idx]]).str[:area].to_numpy() == pd.Series(text[r[idx]]).str[:area].to_numpy()
        rules.append((same, 1))
    return _select(levels, rules)


def _with_bag(cols: Columns, levels: np.ndarray, l, r, top: int) -> np.ndarray:
    bag = cols.codes("bag_address_id")
    levels[(bag[l] >= 0) & (bag[l] == bag[r])] = top
    return levels


#: A city name one edit from another is a typo of it from this length on ("Ede" / "Epe" are two towns).
CITY_TYPO_MIN_LEN = 6


def _long_enough(cols: Columns, column: str, l, r, k: int) -> np.ndarray:
    """Both values of ``column`` have at least ``k`` characters (computed once per distinct value)."""
    long_ = cols.derived_codes(column, f"long{k}", lambda v: v.where(v.str.len() >= k))
    return (long_[l] >= 0) & (long_[r] >= 0)


@comparison("address", ("different", "same_area", "same_street", "similar", "exact"), thresholds={"similar": 0.90})
def compare_address(cols: Columns, l, r, s) -> np.ndarray:
    """One level for the whole address, because postcode, street, number and city are one fact, not four.

    Scoring them separately counts a move four times (about -60 bits) and a shared address four times,
    so a moved customer never matches and two strangers at one address almost do.
    """
    # each column's codes gathered once per side (a gather of a million pairs costs more than the tests on it)
    pc, hn, st, city = ((codes[l], codes[r]) for codes in (cols.codes(c) for c in ("postcode", "house_number",
                                                                                 "street", "city")))
    levels = np.where(((pc[0] >= 0) | (st[0] >= 0) | (city[0] >= 0)) & ((pc[1] >= 0) | (st[1] >= 0) | (city[1] >= 0)),
                      0, -1).astype(np.int8)
    both = lambda c: (c[0] >= 0) & (c[1] >= 0)  # noqa: E731 - tiny local helper
    same = lambda c: both(c) & (c[0] == c[1])  # noqa: E731
    unknown = lambda c: (c[0] < 0) | (c[1] < 0)  # noqa: E731
    same_pc, same_hn, same_st, same_city = same(pc), same(hn), same(st), same(city)
    # a typo in the city name ("pottscpoint" / "potts point") still names the city of the same street or number
    city_edit = within_one_edit(cols, "city", l, r, (same_st | same_hn) & both(city) & ~same_city)
    same_city |= city_edit & _long_enough(cols, "city", l, r, CITY_TYPO_MIN_LEN)
    city_typo = both(city) & ~same_city
    city_typo &= ((jaro_winkler(cols, "city", l, r, city_typo) >= s.threshold("address", "similar"))
                  | scrambled(cols, "city", l, r, city_typo, min_length=5))
    city_ok = same_city | unknown(city)
    # a near postcode or street only counts with the same house number: compare strings only there
    pc_edit = within_one_edit(cols, "postcode", l, r, same_hn & both(pc) & ~same_pc)
    st_sim = jaro_winkler(cols, "street", l, r, same_hn & city_ok & both(st) & ~same_st) >= s.threshold("address", "similar")
    pc4 = cols.prefix_codes("postcode", 4)
    pc_area = both(pc) & ~same_pc
    pc_area[pc_area] = pc4[l[pc_area]] == pc4[r[pc_area]]
    bag = cols.codes("bag_address_id")
    bag_l = bag[l]
    same_bag = bag_l >= 0
    same_bag[same_bag] = bag_l[same_bag] == bag[r[same_bag]]
    exact = (same_pc & same_hn) | (same_st & same_hn & city_ok) | same_bag
    similar = (same_hn & (pc_edit | (st_sim & city_ok))) | ((same_pc | (same_st & same_city)) & unknown(hn))
    street = same_pc | (same_st & city_ok & (pc_area | unknown(pc)))
    area = same_city | pc_area | city_typo  # "Bimingham", "Lonodnn": the same place mistyped
    return _select(levels, [(exact, 4), (similar, 3), (street, 2), (area, 1)])


# The comparisons the shared builders make, one line each (a registration without a decorator).
comparison("gender", ("different", "exact"))(lambda c, l, r, s: compare_simple(c, "gender", l, r, top=1))
comparison("phone", ("different", "one_edit", "exact"), tf="phone")(
    lambda c, l, r, s: compare_edit(c, "phone", l, r, top=2))
comparison("postcode", ("different", "same_area", "one_edit", "exact"), tf="postcode")(
    lambda c, l, r, s: _with_bag(c, compare_edit(c, "postcode", l, r, top=3, area=3), l, r, 3))
comparison("house_number", ("different", "exact"))(
    lambda c, l, r, s: _with_bag(c, compare_simple(c, "house_number", l, r, top=1), l, r, 1))
comparison("street", ("different", "similar", "exact"), thresholds={"similar": 0.88}, tf="street")(
    lambda c, l, r, s: compare_simple(c, "street", l, r, top=2, similar=s.threshold("street", "similar")))
comparison("city", ("different", "similar", "exact"), thresholds={"similar": 0.88}, tf="city")(
    lambda c, l, r, s: compare_simple(c, "city", l, r, top=2, similar=s.threshold("city", "similar")))
comparison("kvk", ("different", "one_edit", "exact"))(lambda c, l, r, s: compare_edit(c, "kvk", l, r, top=2))


def _extra(cols: Columns, extra, l, r) -> np.ndarray:
    if extra.kind == "exact":
        return compare_simple(cols, extra.name, l, r, top=1)
    if extra.kind == "number":
        return compare_edit(cols, extra.name, l, r, top=2)
    return compare_simple(cols, extra.name, l, r, top=3, similar=0.85, very_similar=0.95)


#: First and last name entered the wrong way round: both crossed pairs at least SWAP_SIMILAR (Jaro-Winkler),
#: or one at least SWAP_STRONG and the other one edit apart ("neumann amner" / "amper neumann").
SWAP_SIMILAR, SWAP_STRONG = 0.90, 0.95


def _swapped_names(cols: Columns, l, r, first: np.ndarray, last: np.ndarray) -> None:
    """First and last name entered the wrong way round count as very similar names (in place).

    Compared on the whole name fields ("Papp-Horvath" / "Emma" against "Emma" / "Papp-Horvath", "de la Cruz" in
    the first-name field), so a tussenvoegsel or a double name does not hide the swap."""
    given, full = cols.codes("given_full"), cols.codes("surname_full")
    # the records' codes gathered only for pairs whose levels allow a swap
    idx = np.flatnonzero((first <= 1) | (last <= 1))
    li, ri = l[idx], r[idx]
    both = (given[li] >= 0) & (full[li] >= 0) & (given[ri] >= 0) & (full[ri] >= 0)
    # a swap keeps the first letters (first name of one = surname of the other): test only those pairs
    fi, si = cols.first_letter("given_full"), cols.first_letter("surname_full")
    idx = idx[both & (fi[li] == si[ri]) & (si[li] == fi[ri])]
    if not len(idx):
        return
    gl, sl = cols.text("given_full"), cols.text("surname_full")
    a = cpdist(gl[l[idx]], sl[r[idx]], scorer=JaroWinkler.normalized_similarity, workers=cpdist_workers(len(idx)))
    b = cpdist(sl[l[idx]], gl[r[idx]], scorer=JaroWinkler.normalized_similarity, workers=cpdist_workers(len(idx)))
    # a typo on top of the swap: one crossed pair nearly equal, the other one edit apart ("amner" / "amper";
    # not "jan" / "jansen", which is "Jan Willems" against "Willem Jansen": two people)
    ea = cpdist(gl[l[idx]], sl[r[idx]], scorer=OSA.distance, dtype=np.int32, workers=cpdist_workers(len(idx)))
    eb = cpdist(sl[l[idx]], gl[r[idx]], scorer=OSA.distance, dtype=np.int32, workers=cpdist_workers(len(idx)))
    typo = (np.maximum(a, b) >= SWAP_STRONG) & (np.where(a >= b, eb, ea) <= 1)
    swapped = idx[(np.minimum(a, b) >= SWAP_SIMILAR) | typo]
    first[swapped] = 3
    last[swapped] = 2


def _lone_names(cols: Columns, l, r, first: np.ndarray, last: np.ndarray) -> None:
    """A record with one name only, in the first-name field ("Pocknee"), against a full name ("Joan Pocknee"):
    where the lone name is (very nearly) the other's surname it is that surname, and the first name is
    unknown, not different (in place)."""
    fn, sn = cols.codes("first_name"), cols.codes("surname_core")
    lone = (fn >= 0) & (sn < 0)
    low = np.flatnonzero(first <= 1)
    for a, b in ((l, r), (r, l)):
        idx = low[lone[a[low]] & (sn[b[low]] >= 0)]
        if not len(idx):
            continue
        sim = cpdist(cols.text("first_name")[a[idx]], cols.text("surname_core")[b[idx]],
                     scorer=JaroWinkler.normalized_similarity, workers=cpdist_workers(len(idx)))
        hit = sim >= 0.92
        first[idx[hit]] = -1
        last[idx[hit]] = np.where(sim[hit] == 1.0, 4, 2)


def _name_made_email(cols: Columns, l, r, email: np.ndarray, surname: np.ndarray, birth: np.ndarray) -> None:
    """E-mail evidence that the names already gave (in place).

    Local parts are made of the name ("jan.jansen@", "j.devries@"), so where the first initial and the surname
    (or a part of a double surname) agree, a shared local part at two providers is no evidence; and a whole
    shared address is none either when both birth dates are known and disagree beyond a typo (two people of
    one name at one provider: at 1M Dutch records such pairs outnumber true ones by far).
    """
    initial = cols.codes("first_initial")
    at = np.flatnonzero((email >= 1) & (surname >= 3))  # the initials are gathered only where they matter
    named = np.zeros(len(l), dtype=bool)
    named[at] = (initial[l[at]] >= 0) & (initial[l[at]] == initial[r[at]])
    email[named & ((email == 1) | (email == 2))] = -1
    beyond_typo = [_BIRTH[x] for x in ("different", "same_year", "year_typo")]
    email[named & (email == 3) & at_levels(birth, beyond_typo)] = -1


def _name_made_domain(company: np.ndarray, domain: np.ndarray) -> None:
    """An organisation's domain is mostly made of its name ("Bakkerij Jansen" / "bakkerijjansen.nl"): where the
    names already agree (a typo aside) a shared domain says what they said, and counts only where they do
    not ("Jansen & Zn." / "Bakkerij Jansen B.V." at one domain). Two domains still count where the names
    agree: "De Bruin & Zn." at debruinzn.nl and "De Bruijn & Zn." at debruijnzn.nl are two firms. In place."""
    agree = company >= COMPARISONS["company"].levels.index("very_similar")
    domain[agree & (domain == COMPARISONS["email_domain"].levels.index("exact"))] = -1


def compare(prepared: pd.DataFrame | Columns, left: np.ndarray, right: np.ndarray, settings) -> pd.DataFrame:
    """Agreement levels (int8, -1 = missing) for every pair and comparison, computed in chunks: a frame of
    :func:`compare_levels`.

    Examples:
        >>> from cdq.linkage.prepare import prepare
        >>> from cdq.linkage.settings import load_settings
        >>> p = prepare(pd.DataFrame({"first_name": ["Jan", "Johannes"], "last_name": ["de Vries", "Vries"]}))
        >>> v = compare(p, np.array([0]), np.array([1]), load_settings())
        >>> int(v.loc[0, "first_name"]), int(v.loc[0, "surname"]), int(v.loc[0, "email"])
        (4, 4, -1)
    """
    # one block per comparison: consolidating them into one 2-D block copies every level once more (1.6 s for
    # 18.7M pairs) and nothing here needs it
    return pd.DataFrame(compare_levels(prepared, left, right, settings), copy=False)


def compare_levels(prepared: pd.DataFrame | Columns, left: np.ndarray, right: np.ndarray, settings,
                   out: dict[str, np.ndarray] | None = None, at: int = 0) -> dict[str, np.ndarray]:
    """comparison -> its levels per pair, as int8 arrays (what :func:`compare` puts in a frame); with ``out``
    (arrays of every comparison), written to ``out[name][at:at + len(left)]`` instead (a run compares its pairs
    in parts into one set of arrays).

    ``prepared``: a prepared frame, or the :class:`Columns` of prepared records (the service's few rows,
    :class:`cdq.linkage.few.FewColumns`, which never become a frame).
    """
    cols = columns_of(prepared)
    if out is None:
        out = {name: np.empty(len(left), dtype=np.int8) for name in settings.all_comparisons}
    try:
        _compare_chunks(cols, left, right, settings, out, at)
    finally:
        cols.forget_pairs()
    return out


def _compare_chunks(cols: Columns, left: np.ndarray, right: np.ndarray, settings, levels: dict[str, np.ndarray],
                    at: int) -> None:
    names = settings.all_comparisons
    extras = {e.name: e for e in settings.extras}
    for start in range(0, len(left), CHUNK):
        l, r = left[start:start + CHUNK], right[start:start + CHUNK]
        out = {name: levels[name][at + start:at + start + len(l)] for name in names}  # views: written in place
        for name in names:
            builtin = COMPARISONS.get(name)
            out[name][:] = builtin.compare(cols, l, r, settings) if builtin else _extra(cols, extras[name], l, r)
        if "first_name" in out and "surname" in out:
            _swapped_names(cols, l, r, out["first_name"], out["surname"])
            _lone_names(cols, l, r, out["first_name"], out["surname"])
            half_swapped_names(cols, l, r, out["first_name"], out["surname"],
                               COMPARISONS["first_name"].levels, COMPARISONS["surname"].levels,
                               workers=cpdist_workers(len(l)))
        if "first_name" in out:
            first_levels = COMPARISONS["first_name"].levels
            call_name_levels(cols, l, r, out["first_name"],
                             initial=first_levels.index("initial"), similar=first_levels.index("similar"))
        if {"email_domain", "company"} <= out.keys():
            _name_made_domain(out["company"], out["email_domain"])
        if {"email", "surname", "birth_date"} <= out.keys():
            _name_made_email(cols, l, r, *(out[c] for c in ("email", "surname", "birth_date")))
        logger.info("compared %d/%d pairs", min(start + CHUNK, len(left)), len(left))
