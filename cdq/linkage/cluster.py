"""From matched pairs to clusters, guarded against over-merging through chains.

Plain connected components merge everything reachable: two people at one address linked through a shared
landline become one. :func:`guarded_clusters` first takes connected components; only a component that
contains a *cannot-link* pair (e.g. different dates of birth, twins with different first names) is rebuilt
by adding its match edges strongest first and refusing a merge of two groups when the cannot-link pairs
between them are at least as many as the match edges between them.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _cc

logger = logging.getLogger(__name__)
_EMPTY: frozenset = frozenset()


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label per node 0..n-1 (labels are the smallest node of each component).

    Examples:
        >>> connected_components(5, np.array([0, 3]), np.array([1, 4])).tolist()
        [0, 0, 2, 3, 3]
    """
    if n == 0:
        return np.empty(0, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = _cc(graph, directed=False)
    smallest = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n))
    return smallest[labels]


class _UnionFind:
    def __init__(self):
        self.parent: dict[int, int] = {}
        self.members: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        self.parent.setdefault(x, x)
        self.members.setdefault(x, {x})
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.members[a] |= self.members.pop(b)


def _between(graph: dict[int, set[int]], small: set[int], big: set[int]) -> int:
    return sum(len(graph.get(x, _EMPTY) & big) for x in small)


def _people_by_date(years: list[float], apart: float) -> list[int]:
    """Records per person the birth dates of a group name at least (dates ``apart`` years or more apart are
    two people).

    Examples:
        >>> _people_by_date([1950.1, 1950.2, 1971.0], 2.0), _people_by_date([1931.1, 1958.6, 1964.2], 2.0)
        ([2, 1], [1, 1, 1])
    """
    people: list[int] = []
    last = None
    for year in sorted(years):
        if last is None or year - last >= apart:
            people.append(0)
            last = year
        people[-1] += 1
    return people


def _several_people(years: list[float], apart: float) -> bool:
    """Full birth dates that cannot all be one person's: two far-apart dates each on three or more records.

    A mistyped date is one record's or two records' (a person's records may carry several different wrong
    dates; on Splink's historical_50k a threshold of two records costs 0.5 points of recall); a date
    repeated on three or more records is a person's own.

    Examples:
        >>> _several_people([1931.1] * 3 + [1990.9] * 3, 2.0), _several_people([1931.1, 1958.6, 1990.9], 2.0)
        (True, False)
    """
    return sum(k >= 3 for k in _people_by_date(years, apart)) >= 2


def _guarded(edges: list[tuple[float, int, int]], cannot: dict[int, set[int]],
             dates: dict[int, float] | None = None, apart: float = 2.0) -> dict[int, int]:
    """Merge one component strongest edge first; two groups join only if more match edges than
    cannot-link pairs run between them (so one shared landline cannot chain two people together), and never
    when the joined group's full birth dates (``dates``) are several people's (:func:`_several_people`),
    however many undated records link them."""
    dates = dates or {}
    uf = _UnionFind()
    links: dict[int, set[int]] = {}
    for _, a, b in edges:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    for _, a, b in sorted(edges, reverse=True):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        small, big = (ra, rb) if len(uf.members[ra]) <= len(uf.members[rb]) else (rb, ra)
        if dates:
            years = [dates[x] for x in uf.members[small] | uf.members[big] if x in dates]
            if len(years) >= 4 and _several_people(years, apart):
                continue
        vetoes = _between(cannot, uf.members[small], uf.members[big])
        if vetoes and _between(links, uf.members[small], uf.members[big]) <= vetoes:
            continue
        uf.union(ra, rb)
    return {x: min(uf.members[uf.find(x)]) for x in list(uf.parent)}


def guarded_clusters(n: int, left: np.ndarray, right: np.ndarray, weight: np.ndarray,
                     cannot_left: np.ndarray, cannot_right: np.ndarray, *, birth_years: np.ndarray | None = None,
                     apart: float = 2.0) -> np.ndarray:
    """Cluster label per node: connected components of the match edges, split where cannot-link pairs say.

    ``birth_years``: each node's full birth date as a fractional year (NaN where none); no cluster gets the
    dates of several people (two dates ``apart`` years or more from each other, each on three or more records).

    Examples:
        >>> # 0-1-2 chained; 0 and 2 cannot link; the weaker edge (1-2) is dropped
        >>> guarded_clusters(3, np.array([0, 1]), np.array([1, 2]), np.array([9.0, 5.0]),
        ...                  np.array([0]), np.array([2])).tolist()
        [0, 0, 2]
        >>> # undated 0, 1, 2 link 3, 4, 5 (born 1931) and 6, 7, 8 (born 1990) many times over: two people
        >>> a, b = [3, 4, 5], [6, 7, 8]
        >>> edges = np.array([[u, x] for u in (0, 1, 2) for x in a + b] + [[0, 1], [1, 2], [3, 4], [4, 5], [6, 7], [7, 8]])
        >>> years = np.array([np.nan] * 3 + [1931.1] * 3 + [1990.9] * 3)
        >>> cannot = np.array([[x, y] for x in a for y in b])
        >>> labels = guarded_clusters(9, edges[:, 0], edges[:, 1], np.ones(len(edges)), cannot[:, 0], cannot[:, 1],
        ...                           birth_years=years)
        >>> bool(labels[3] == labels[5] != labels[6] == labels[8])
        True
    """
    labels = connected_components(n, left, right)
    if len(cannot_left) == 0:
        return labels
    conflict = labels[cannot_left] == labels[cannot_right]
    bad = np.unique(labels[cannot_left[conflict]])
    if len(bad) == 0:
        return labels
    in_bad = np.isin(labels[left], bad)
    cannot: dict[int, set[int]] = {}
    for a, b in zip(cannot_left[conflict].tolist(), cannot_right[conflict].tolist()):
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    by_component: dict[int, list] = {}
    for a, b, w in zip(left[in_bad].tolist(), right[in_bad].tolist(), weight[in_bad].tolist()):
        by_component.setdefault(labels[a], []).append((w, a, b))
    logger.info("guarded clustering: %d components split-checked", len(by_component))
    labels = labels.copy()
    for edges in by_component.values():
        nodes = {x for _, a, b in edges for x in (a, b)}
        dates = ({x: float(birth_years[x]) for x in nodes if birth_years[x] == birth_years[x]}
                 if birth_years is not None else {})
        for node, label in _guarded(edges, cannot, dates, apart).items():
            labels[node] = label
    return labels
