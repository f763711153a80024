"""Names in the wrong field, one of them half: a first name in the surname field and the surname in the
first-name field, on ONE of the two records only, with the other name replaced or missing.

:func:`cdq.linkage.compare._swapped_names` finds records whose two names are both crossed ("Emma Papp" /
"Papp Emma"); a record that has the names crossed AND one of them changed ("Weller Ebony" / "Flynn Weller",
"Houldsworth Olivia" / "- Houldsowrth") escapes it, and scores as two different names (about -6 bits) although
its surname is right there in the other field. Here the surname is found crossed, and the first name is
compared as what is left of the crossing (different, very similar, or unknown when one side has none).
"""

from __future__ import annotations

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

#: The crossed names agree: Jaro-Winkler at least this, or one edit apart in names of at least HALF_SWAP_MIN_LEN
#: letters ("shahnon" / "shannon": a typo early in the name keeps Jaro-Winkler at 0.89).
HALF_SWAP_SIMILAR = 0.92
HALF_SWAP_MIN_LEN = 4


def _agree(a: np.ndarray, b: np.ndarray, workers: int) -> np.ndarray:
    """Per pair of names ("" = missing): both present and similar (see HALF_SWAP_SIMILAR), and not a surname
    made of the first name (a patronymic: "willem" / "willems", "gerrit" / "gerritsen" meet by construction:
    "Jan Willems" and "Willem Jansen" are two people)."""
    jw = cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=workers)
    edits = cpdist(a, b, scorer=OSA.distance, dtype=np.int32, workers=workers)
    sa, sb = a.astype(str), b.astype(str)
    shortest = np.minimum(np.char.str_len(sa), np.char.str_len(sb))
    patronymic = (sa != sb) & (np.char.startswith(sa, sb) | np.char.startswith(sb, sa))
    similar = (jw >= HALF_SWAP_SIMILAR) | ((edits <= 1) & (shortest >= HALF_SWAP_MIN_LEN))
    return (shortest > 0) & similar & ~patronymic


def half_swapped_names(cols, l: np.ndarray, r: np.ndarray, first: np.ndarray, last: np.ndarray,
                       first_levels: tuple[str, ...], surname_levels: tuple[str, ...], workers: int = 1) -> None:
    """Where the surnames disagree (``last`` different or only similar) but one record's first-name field holds
    the other's surname (or the other way round), the surname is very similar and the first name is the other
    crossed pair: very similar, different, or missing (in place; ``cols`` is a cdq.linkage.columns.Columns).

    "Weller Ebony" / "Flynn Weller": surname very similar, first name ("ebony" / "flynn") different.
    "Houldsworth Olivia" / "- Houldsowrth": surname very similar, first name unknown.

    ``first_levels`` and ``surname_levels`` are the two comparisons' level names (cdq.linkage.compare's
    registry; this module cannot import it): the levels are read and written by name.
    """
    different = first_levels.index("different")
    first_initial, first_very_similar = first_levels.index("initial"), first_levels.index("very_similar")
    surname_similar, surname_very_similar = surname_levels.index("similar"), surname_levels.index("very_similar")
    given, full = cols.codes("given_full"), cols.codes("surname_full")
    fi, si = cols.first_letter("given_full"), cols.first_letter("surname_full")
    suspect = np.flatnonzero((last >= 0) & (last <= surname_similar) & (first <= first_initial))
    # crossed: l's first-name field against r's surname field, or l's surname field against r's first-name field
    # (the records' codes gathered for the suspect pairs only)
    li, ri = l[suspect], r[suspect]
    cross_a, cross_b = np.zeros(len(l), dtype=bool), np.zeros(len(l), dtype=bool)
    cross_a[suspect] = (given[li] >= 0) & (full[ri] >= 0) & (fi[li] == si[ri])
    cross_b[suspect] = (full[li] >= 0) & (given[ri] >= 0) & (si[li] == fi[ri])
    gt, st = cols.text("given_full"), cols.text("surname_full")
    for mask, names_l, names_r, rest_l, rest_r in ((cross_a, gt, st, st, gt), (cross_b, st, gt, gt, st)):
        idx = np.flatnonzero(mask & (last <= surname_similar))
        if not len(idx):
            continue
        hit = idx[_agree(names_l[l[idx]], names_r[r[idx]], workers)]
        if not len(hit):
            continue
        # what is left of the crossing: the other field of each record
        a, b = rest_l[l[hit]], rest_r[r[hit]]
        both = (np.char.str_len(a.astype(str)) > 0) & (np.char.str_len(b.astype(str)) > 0)
        jw = cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=workers)
        crossed = np.where(jw >= HALF_SWAP_SIMILAR, first_very_similar, different)
        # never below what the fields said as they are (an initial stays an initial); a first name compared
        # with the surname that sat in its field says nothing
        first[hit] = np.where(both, np.maximum(first[hit], crossed), np.where(first[hit] == different, -1, first[hit]))
        last[hit] = surname_very_similar
