"""String measures the comparisons share: once per distinct pair of values, one edit apart, short forms, scrambles.

Candidate pairs repeat value pairs a lot, so a measure runs once per distinct pair of values of a chunk
(:func:`by_distinct_pair`), with rapidfuzz's element-wise ``cpdist`` (C++, both cores) for Jaro-Winkler and
the edit distance; cheap necessary conditions (:func:`within_one_edit`, :func:`truncation`, :func:`scrambled`) skip
the pairs a measure cannot accept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from cdq.linkage.columns import Columns
from cdq.linkage.typos import maybe_scrambled, scrambled_rows

#: A measure on at least this share of a chunk's pairs factorizes all of the chunk's value pairs of its column
#: once (:meth:`Columns.pair_index`), for every level of the comparison to share.
SHARED_PAIRS_SHARE = 0.25
#: Below this many string pairs ``cpdist`` runs on the calling thread: starting its worker threads costs more
#: than the distances (one record against a few hundred candidates, in the service).
PARALLEL_PAIRS = 20_000


def cpdist_workers(n: int) -> int:
    return -1 if n >= PARALLEL_PAIRS else 1


def by_distinct_pair(cols: Columns, column: str, l: np.ndarray, r: np.ndarray, mask: np.ndarray, measure,
                      out: np.ndarray) -> np.ndarray:
    """``measure(left_values, right_values)`` on every pair where ``mask``, once per distinct pair of values.

    Candidate pairs repeat value pairs a lot (1M Dutch records: 16.8M candidate pairs, 0.47M distinct pairs
    of first names), and gathering millions of Python strings costs more than the distance itself.
    """
    values = cols.text(f"{column}_distinct_or_empty")
    return by_distinct_codes(cols, column, l, r, mask, lambda a, b: measure(values[a], values[b]), out)


def by_distinct_codes(cols: Columns, column: str, l: np.ndarray, r: np.ndarray, mask: np.ndarray, measure,
                       out: np.ndarray) -> np.ndarray:
    """``measure(left_codes, right_codes)`` (positions in ``<column>_distinct_or_empty``; its last slot, "",
    for a missing value) on every pair where ``mask``, once per distinct pair of values."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return out
    if len(idx) < SHARED_PAIRS_SHARE * len(l) and not cols.has_pairs(column, l, r):
        # a small subset of a column no other level measures: factorize just that
        codes = cols.codes(column)
        k = np.int64(len(cols.text(f"{column}_distinct_or_empty")))
        which, uniques = pd.factorize(codes[l[idx]] * k + codes[r[idx]])
        out[idx] = measure(uniques // k, uniques % k)[which]
        return out
    # the chunk's value pairs factorized once (Columns.pair_index): measure those the mask needs, by position
    which, uniques, k = cols.pair_index(column, l, r)
    at = which[idx]
    needed = np.zeros(len(uniques), dtype=bool)
    needed[at] = True
    wanted = uniques[needed]
    result = measure(wanted // k, wanted % k)
    per_pair = np.empty(len(uniques), dtype=result.dtype)
    per_pair[needed] = result
    out[idx] = per_pair[at]
    return out


def jaro_winkler(cols: Columns, column: str, l: np.ndarray, r: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Jaro-Winkler similarity where ``mask``; 0 elsewhere."""
    return by_distinct_pair(cols, column, l, r, mask,
                             lambda a, b: cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=cpdist_workers(len(a))),
                             np.zeros(len(l), dtype=np.float32))


def edit_distance(cols: Columns, column: str, l: np.ndarray, r: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Edit distance (optimal string alignment: a transposition counts once) where ``mask``; 99 elsewhere."""
    return by_distinct_pair(cols, column, l, r, mask,
                             lambda a, b: cpdist(a, b, scorer=OSA.distance, dtype=np.int32, workers=cpdist_workers(len(a))),
                             np.full(len(l), 99, dtype=np.int32))


#: Values this long (both) are one edit apart only if their first or their last EDGE characters agree.
EDGE = 3
_EDGE_MIN_LENGTH = 2 * EDGE + 2


def within_one_edit(cols: Columns, column: str, l: np.ndarray, r: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """At most one edit apart (:func:`edit_distance` <= 1) where ``mask``; False elsewhere.

    One edit (a substitution, insertion, deletion or swap of neighbours) changes at most two neighbouring
    characters, so of two values of at least 2 * EDGE + 2 characters it leaves the first EDGE or the last
    EDGE characters of both alike: pairs whose starts and ends both differ (most phone numbers) are more
    than one edit apart without measuring them.
    """
    idx = np.flatnonzero(mask)
    start = cols.derived_codes(column, f"edge_start{EDGE}", lambda v: v.where(v.str.len() >= _EDGE_MIN_LENGTH).str[:EDGE])
    end = cols.derived_codes(column, f"edge_end{EDGE}", lambda v: v.where(v.str.len() >= _EDGE_MIN_LENGTH).str[-EDGE:])
    sl, sr = start[l[idx]], start[r[idx]]
    far = (sl >= 0) & (sr >= 0) & (sl != sr)
    far[far] = end[l[idx[far]]] != end[r[idx[far]]]
    near = mask.copy()
    near[idx[far]] = False
    return edit_distance(cols, column, l, r, near) <= 1


def truncation(cols: Columns, l, r, mask: np.ndarray) -> np.ndarray:
    """One first name is a short form of the other: its start or end ("bert"/"herbert", "alex"/"alexander")
    or a pet form of its start ("jay"/"james", "tommie"/"thomas", "ritchie"/"richard"); see :func:`short_form`."""
    # a start keeps the first 3 letters, an end the last 3, a pet form the first 2 (silent h and doubles
    # aside): skip every other pair cheaply, with codes computed once per distinct name
    start = cols.name_stem("first_name")
    end = cols.derived_codes("first_name", "end3", lambda v: v.where(v.str.len() >= 3).str[-3:])
    pet = cols.derived_codes("first_name", "plain2", lambda v: v.map(_plain, na_action="ignore").str[:2])
    maybe = ((start[l] >= 0) & (start[l] == start[r])) | ((end[l] >= 0) & (end[l] == end[r])) | (pet[l] == pet[r])
    return by_distinct_pair(cols, "first_name", l, r, mask & maybe,
                             lambda a, b: np.array([short_form(x, y) for x, y in zip(a.tolist(), b.tolist())],
                                                   dtype=bool),
                             np.zeros(len(l), dtype=bool))


#: Endings of pet forms: English -ie/-y/-ey, Dutch -je/-tje/-pje/-ke ("Jantje", "Anneke"). Longest first.
_PET_ENDINGS = ("tje", "pje", "je", "ke", "ie", "ey", "ee", "y")


def short_form(x: str, y: str) -> bool:
    """True when one name is a short form of the other (both at least 3 letters, or a pet form).

    A start or an end of at least 3 letters ("bert"/"herbert", "chris"/"christiaan"), or a pet form: a
    pet ending on a stem of at least 2 letters that starts the other name, double letters and a silent h
    aside ("jay"/"james", "tommie"/"thomas", "ritchie"/"richard", "flossie"/"florence").

    Examples:
        >>> short_form("bert", "herbert"), short_form("ed", "edward"), short_form("jay", "james")
        (True, False, True)
        >>> short_form("tommie", "thomas"), short_form("thomas", "tommie"), short_form("jantje", "jan")
        (True, True, True)
        >>> short_form("sanne", "sammy"), short_form("marco", "maria"), short_form("bertie", "albert")
        (False, False, True)
    """
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    if len(short) >= 3 and (long_.startswith(short) or long_.endswith(short)):
        return True
    return _pet_of(x, y) or _pet_of(y, x)


def _pet_of(pet: str, name: str) -> bool:
    ending = next((e for e in _PET_ENDINGS if pet.endswith(e) and len(pet) - len(e) >= 2), None)
    if ending is None:
        return False
    stem = _plain(pet[: -len(ending)])
    plain = _plain(name)
    # the start of the name ("tommie" / "thomas"), or a stem of 3+ letters that ends it ("bertie" / "albert")
    return (len(stem) >= 2 and plain.startswith(stem)) or (len(stem) >= 3 and plain.endswith(stem))


def _plain(name: str) -> str:
    """Name without a silent h after the first letter and without double letters ("thomas" -> "tomas")."""
    name = name[0] + name[1:].replace("h", "") if name[1:2] == "h" else name
    return "".join(ch for i, ch in enumerate(name) if i == 0 or ch != name[i - 1])


def scrambled(cols: Columns, column: str, l, r, mask: np.ndarray, min_length: int = 3) -> np.ndarray:
    """The same letters in another order, a key maybe struck twice ("foSia" / "Sofia"; see cdq.linkage.typos)."""
    counts = cols.character_counts(column)
    length, hashes = cols.multiset_hashes(column)
    # codes index the rows of counts; missing (-1) takes the last row, all zero (never long enough)
    codes = cols.codes(column)
    idx = np.flatnonzero(mask)
    a, b = codes[l[idx]], codes[r[idx]]
    maybe = maybe_scrambled(length[a], hashes[a], length[b], hashes[b], min_length)
    out = np.zeros(len(l), dtype=bool)
    out[idx[maybe]] = scrambled_rows(counts, a[maybe], b[maybe], min_length)
    return out
