"""A call name that is another of the given names: "Maria" against "Anna Maria", "Peter" against "J.P.".

Dutch and Belgian registers write all given names ("Johannes Petrus", or their initials "J.P."), and many
people go by a later one: a customer file then says "Piet" or "Peter". Compared first name against first name,
"Maria" / "Anna Maria" is a different first name, which keeps one person apart as if twins. A first name that
is one of the other record's later given names (or, where only initials are known, whose initial is one of its
later initials) is the same person's name at another position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz.distance import JaroWinkler

if TYPE_CHECKING:  # compare calls this module
    from cdq.linkage.columns import Columns

#: Later initials looked at per record ("J.P.M.A.": P, M and A).
MAX_LATER = 4
#: A later given name this similar (Jaro-Winkler) to the first name is that name with a typo.
SAME_NAME = 0.92


def later_initials(middle_initials: Sequence[str | None]) -> np.ndarray:
    """Code points of each record's initials after the first, as a (rows, MAX_LATER) array (-1 = none).

    Examples:
        >>> later_initials(["pm", None, "a"]).tolist()
        [[112, 109, -1, -1], [-1, -1, -1, -1], [97, -1, -1, -1]]
    """
    out = np.full((len(middle_initials), MAX_LATER), -1, dtype=np.int64)
    for row, value in enumerate(middle_initials):
        for k, ch in enumerate((value or "")[:MAX_LATER]):
            out[row, k] = ord(ch)
    return out


def _names_a_later_one(first: np.ndarray, later: np.ndarray) -> np.ndarray:
    """Per pair: the first name is one of the later given names (``later``: space-separated, "" = none)."""
    return np.fromiter((any(JaroWinkler.normalized_similarity(f, w) >= SAME_NAME for w in names.split())
                        for f, names in zip(first.tolist(), later.tolist())), dtype=bool, count=len(first))


def call_name_levels(cols: Columns, l: np.ndarray, r: np.ndarray, first: np.ndarray, *,
                     initial: int, similar: int) -> None:
    """Raise ``different`` first-name levels (0, in place) where one record's first name is a later given name
    of the other: ``similar`` where that name is written out, ``initial`` where the other record has initials
    only.

    Args:
        cols: the prepared frame's columns (``first_name``, ``middle_names``, ``middle_initials``).
        l, r: the pairs' record positions.
        first: the pairs' first-name levels.
        initial, similar: the level numbers to give.

    Examples:
        >>> import pandas as pd
        >>> from cdq.linkage.columns import Columns
        >>> from cdq.linkage.prepare import prepare
        >>> p = prepare(pd.DataFrame({"first_name": ["Maria", "Anna Maria", "A.M.", "Anna Mathilde", "Bas"],
        ...                           "initials": [None, None, None, None, "S.M."]}))
        >>> levels = np.zeros(4, dtype=np.int8)
        >>> call_name_levels(Columns.of(p), np.zeros(4, dtype=int), np.array([1, 2, 3, 4]), levels, initial=1, similar=2)
        >>> levels.tolist()
        [2, 1, 0, 0]
    """
    different = np.flatnonzero(first == 0)
    if not len(different):
        return
    start = cols.first_letter("first_name")
    key = "_middle_initials_later"
    if key not in cols._codes:  # once per prepared frame, per distinct value (the last slot, "": missing)
        cols._codes[key] = later_initials(cols.text("middle_initials_distinct_or_empty").tolist())[
            cols.codes("middle_initials")]
    later = cols._codes[key]
    name, spelled = cols.text("first_name"), cols.text("middle_names")
    # a record that writes its own initials names its first given name by them ("Jun", J.): against "W.J."
    # that is another first given name, not a call name (twins "Jun" and "Wei Jun" share a name at two places)
    own, formal = cols.first_letter("initials_given"), cols.first_letter("initials")
    for a, b in ((l, r), (r, l)):
        idx = different[(start[a[different]] >= 0) & (later[b[different]] == start[a[different], None]).any(axis=1)]
        idx = idx[(own[a[idx]] < 0) | (own[a[idx]] == formal[b[idx]])]
        if not len(idx):
            continue
        written = spelled[b[idx]] != ""
        same = np.zeros(len(idx), dtype=bool)
        same[written] = _names_a_later_one(name[a[idx[written]]], spelled[b[idx[written]]])
        # only initials known ("A.M."): its M may be Maria; a record that names its first given name ("Bas",
        # initials "S.M.") and not the later ones leaves them unknown (twins "Menno M." / "Bas S.M." are two)
        only_initials = name[b[idx]] == ""
        first[idx[~written & only_initials & (first[idx] == 0)]] = initial
        first[idx[same]] = similar
