"""From matched pairs to clusters, guarded against over-merging through chains.

Plain connected components merge everything reachable: two people at one address linked through a shared
landline become one. :func:`guarded_clusters` first takes connected components; only a component that
contains a *cannot-link* pair (e.g. different dates of birth, twins with different first names) is rebuilt
by adding its match edges strongest first and refusing a merge of two groups when the cannot-link pairs
between them are at least as many as the match edges between them. A record that matches two groups kept
apart this way, with nothing that tells which one it belongs to (no cannot-link with either), joins
neither: a husband and wife share a surname, an address and a landline, and a record holding only those
belongs to the steward's review, not to whichever spouse's record had the fewer typos.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as _cc

from cdq.linkage.parallel import run_tasks

logger = logging.getLogger(__name__)
_EMPTY: frozenset = frozenset()
#: A record matching two people kept apart belongs to the stronger one only if its evidence for that one is
#: this many bits (log2 odds) stronger: one identifying field more (an e-mail, a mobile or a birth date
#: agreeing is worth 5-7.5 bits), not one level of name similarity (a typo on the other side costs 1-3).
AMBIGUITY_MARGIN = 4.0


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


def _guarded_once(edges: list[tuple[float, int, int]], cannot: dict[int, set[int]],
                  dates: dict[int, float] | None = None, apart: float = 2.0
                  ) -> tuple[_UnionFind, list[tuple[int, int]], dict[int, set[int]]]:
    """Strongest edge first; two groups join only if more match edges than cannot-link pairs run between
    them, and never when the joined group's full birth dates (``dates``) are several people's
    (:func:`_several_people`), however many undated records link them. Returns the groups, the refused
    edges and the match links."""
    dates = dates or {}
    uf = _UnionFind()
    links: dict[int, set[int]] = {}
    for _, a, b in edges:
        links.setdefault(a, set()).add(b)
        links.setdefault(b, set()).add(a)
    refused = []
    for _, a, b in sorted(edges, reverse=True):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        small, big = (ra, rb) if len(uf.members[ra]) <= len(uf.members[rb]) else (rb, ra)
        if dates:
            years = [dates[x] for x in uf.members[small] | uf.members[big] if x in dates]
            if len(years) >= 4 and _several_people(years, apart):
                refused.append((a, b))
                continue
        vetoes = _between(cannot, uf.members[small], uf.members[big])
        if vetoes and _between(links, uf.members[small], uf.members[big]) <= vetoes:
            refused.append((a, b))
            continue
        uf.union(ra, rb)
    return uf, refused, links


def _ambiguous(uf: _UnionFind, refused: list[tuple[int, int]], links: dict[int, set[int]],
               cannot: dict[int, set[int]], weight: dict[tuple[int, int], float]) -> set[int]:
    """Records that match two people kept apart, and carry nothing that tells which of them they are.

    A record with only a surname, an address and the household's landline matches the husband and the wife
    alike; the stronger edge (often only a typo weaker on the other side) must not decide. Such a record
    has a match edge into its own group and one into the group it was refused, no cannot-link pair with
    anyone in either, and evidence for its own group less than :data:`AMBIGUITY_MARGIN` stronger: it joins
    neither (its pairs go to review).
    """

    def best(x: int, group: set[int]) -> float:
        return max((weight.get((min(x, y), max(x, y)), float("-inf")) for y in links.get(x, _EMPTY) & group),
                   default=float("-inf"))

    found: set[int] = set()
    for a, b in refused:
        ga, gb = uf.members[uf.find(a)], uf.members[uf.find(b)]
        if ga is gb:
            continue
        for x, own, other in ((a, ga, gb), (b, gb, ga)):
            if len(own) > 1 and not cannot.get(x, _EMPTY) & (own | other) and \
                    best(x, own - {x}) - best(x, other) < AMBIGUITY_MARGIN:
                found.add(x)
    return found


def _guarded(edges: list[tuple[float, int, int]], cannot: dict[int, set[int]],
             dates: dict[int, float] | None = None, date_gap: float = 2.0) -> dict[int, int]:
    """Merge one component strongest edge first, refusing joins the cannot-link pairs outvote (so one shared
    landline cannot chain two people together) or that would hold several people's birth dates; records
    ambiguous between two such people stay alone."""
    weight = {(min(a, b), max(a, b)): w for w, a, b in edges}
    apart: set[int] = set()
    while True:
        kept = [e for e in edges if e[1] not in apart and e[2] not in apart]
        uf, refused, links = _guarded_once(kept, cannot, dates, date_gap)
        more = _ambiguous(uf, refused, links, cannot, weight) - apart
        if not more:
            break
        apart |= more
    labels = {x: x for _, a, b in edges for x in (a, b)}  # a record whose edges were all dropped: alone
    labels.update({x: min(uf.members[uf.find(x)]) for x in list(uf.parent)})
    return labels


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
        >>> # 2 matches 0 and 1 (who cannot link) about equally: it belongs to neither
        >>> guarded_clusters(3, np.array([0, 1]), np.array([2, 2]), np.array([11.0, 9.0]),
        ...                  np.array([0]), np.array([1])).tolist()
        [0, 1, 2]
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
    components = list(by_component.values())
    if int(in_bad.sum()) >= PARALLEL_MIN_EDGES:
        # components are independent: every other one (by size) in a forked child (cdq.linkage.parallel)
        components.sort(key=len)
        parts = run_tasks([lambda: _guarded_all(components[1::2], cannot, birth_years, apart),
                           lambda: _guarded_all(components[::2], cannot, birth_years, apart)])
    else:
        parts = [_guarded_all(components, cannot, birth_years, apart)]
    for nodes, node_labels in parts:
        labels[nodes] = node_labels
    return labels


#: Files with this many match edges in conflicted components split-check them in two processes.
PARALLEL_MIN_EDGES = 20_000


def _guarded_all(components: list[list[tuple[float, int, int]]], cannot: dict[int, set[int]],
                 birth_years: np.ndarray | None, apart: float) -> tuple[np.ndarray, np.ndarray]:
    """(nodes, labels) of :func:`_guarded` over each component (a component's match edges)."""
    nodes_out: list[int] = []
    labels_out: list[int] = []
    for edges in components:
        nodes = {x for _, a, b in edges for x in (a, b)}
        dates = ({x: float(birth_years[x]) for x in nodes if birth_years[x] == birth_years[x]}
                 if birth_years is not None else {})
        for node, label in _guarded(edges, cannot, dates, apart).items():
            nodes_out.append(node)
            labels_out.append(label)
    return np.array(nodes_out, dtype=np.int64), np.array(labels_out, dtype=np.int64)
