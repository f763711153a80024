"""Record linkage: prepare → block → compare → train (EM) → score → decide → guarded clustering.

:func:`dedupe` finds duplicates within one staging frame; :func:`link` scores only pairs that involve new
records (the nightly incremental run). Both return a :class:`LinkageResult` with ``pairs`` (explainable:
per-field level and weight), ``clusters`` (every input record exactly once) and the blocking ``report``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from cdq.linkage.block import candidate_pairs, pairs_within_blocks, reduction_ratio
from cdq.linkage.checks import check_input, no_match_warning
from cdq.linkage.cluster import connected_components, guarded_clusters

# Imported under private names: importing the submodules ``cdq.linkage.prepare`` / ``.compare`` (as doctest
# collection does) rebinds the package attributes ``prepare`` / ``compare`` to the modules.
from cdq.linkage.columns import Columns
from cdq.linkage.compare import compare as _compare
from cdq.linkage.compare import compare_levels
from cdq.linkage.locations import organisation_ids, place_moved_locations
from cdq.linkage.model import (
    FSModel,
    check_model,
    level_distribution,
    load_model,
    pattern_counts,
    prior_model,
    prior_over_all_pairs,
    score,
    tf_adjustments,
    train_em,
)
from cdq.linkage.one import blocking_keys, match_one
from cdq.linkage.parallel import run_tasks, shared_array, workers
from cdq.linkage.prepare import prepare as _prepare
from cdq.linkage.settings import Settings, load_settings
from cdq.linkage.vetoes import (
    BIRTH_VETO_YEARS,
    DECISIONS,
    MATCH,
    NON_MATCH,
    REVIEW,
    decision_codes,
    without_contradicted_vetoes,
)
from cdq.linkage.vetoes import decide as _decide
from cdq.linkage.vetoes import party_conflict as _party_conflict
from cdq.linkage.vetoes import vetoes as _vetoes
from cdq.log import ProgressLog

__all__ = ["LinkageResult", "dedupe", "link", "load_settings", "Settings", "FSModel", "match_one", "blocking_keys",
           "load_model", "cannot_links", "compare_pairs"]

logger = logging.getLogger(__name__)

#: Non-match pairs below this probability are not returned (they explain nothing and cost memory).
KEEP_MIN_PROBABILITY = 0.01
#: Components up to this size get their never-compared member pairs checked for cannot-link conflicts.
CHAIN_CHECK_MAX = 60
_STEPS = 6
#: EM needs at least this many comparisons that carry data (present on INFORMATIVE_SHARE of candidate pairs);
#: with fewer it falls back to the rules' prior model.
MIN_EM_FIELDS = 3
INFORMATIVE_SHARE = 0.01
#: Pseudo-matches of the default m shape added to EM's estimate (keeps tiny inputs sane; negligible at scale).
M_PRIOR_STRENGTH = 20.0


@dataclass
class LinkageResult:
    """Scored pairs (``scored_pairs``), clusters and the blocking report of one linkage run."""

    pairs: pd.DataFrame
    #: ``record_id, cluster_id`` (a party at a location: a person, an organisation's branch) and
    #: ``organisation_id`` (the organisation above it, None for persons without one; see organisation_ids)
    clusters: pd.DataFrame
    report: pd.DataFrame
    model: FSModel
    #: what a user should know about this run (no match at all on a large file, and the likely reason)
    warnings: list[str] = field(default_factory=list)


def _record_ids(frame: pd.DataFrame) -> np.ndarray:
    if "record_id" in frame.columns and frame["record_id"].notna().all() and frame["record_id"].is_unique:
        return frame["record_id"].to_numpy(dtype=object)
    return np.arange(len(frame)).astype(str).astype(object)


def _random_pairs(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, size), rng.integers(0, n, size)
    keep = a != b
    return np.minimum(a, b)[keep], np.maximum(a, b)[keep]


def _estimate_u(prepared: pd.DataFrame, s: Settings) -> dict[str, list[float]]:
    """u probabilities from random record pairs (almost all of them are non-matches)."""
    n = len(prepared)
    size = u_sample_size(n, s)
    l, r = _random_pairs(n, size, s.seed)
    vectors = _compare(prepared, l, r, u_settings(s))
    return u_from_random_pairs(vectors, None, n, len(l), _distinct_value_u(prepared, s, size), s)


def u_settings(s: Settings) -> Settings:
    """The comparisons random pairs are compared on: u_distinct ones get their u from pairs of distinct values."""
    return replace(s, comparisons=tuple(c for c in s.comparisons if c not in s.u_distinct))


def u_sample_size(n: int, s: Settings) -> int:
    """How many random record pairs u is estimated from (``_random_pairs(n, size, s.seed)``)."""
    return min(s.u_sample_pairs, max(n * (n - 1) // 2, 1) * 2)


def u_from_random_pairs(vectors: pd.DataFrame, counts: np.ndarray | None, n: int, n_random: int,
                        distinct_u: dict[str, list[float]], s: Settings) -> dict[str, list[float]]:
    """u per comparison from the random pairs' vectors (or their patterns and ``counts``), the u_distinct
    comparisons' u (:func:`_distinct_value_u`) and the rules' prior, blended for a small input."""
    u = level_distribution(vectors, {c: len(s.levels(c)) for c in vectors.columns}, weights=counts, smoothing=0.1)
    u.update({c: prior_model(s, 2).u[c] for c in s.u_distinct if c in s.comparisons})
    u.update(distinct_u)
    # a random sample of a small input holds at most n(n-1)/2 distinct pairs: blend with the prior
    seen = min(n_random, n * (n - 1) // 2)
    for name, u0 in s.u_prior:
        if name in u and s.u_prior_pairs:
            prior = np.asarray(u0) / np.sum(u0)
            u[name] = ((seen * np.asarray(u[name]) + s.u_prior_pairs * prior) / (seen + s.u_prior_pairs)).tolist()
    return u


#: Random pairs of distinct values for a ``u_distinct`` comparison (names are compared word by word in Python).
DISTINCT_U_PAIRS = 5_000
#: The prepared column whose distinct values a ``u_distinct`` comparison samples.
_VALUE_COLUMNS = {"company": "company_key", "kvk": "kvk", "email": "email", "phone": "phone"}


def _distinct_value_u(prepared: pd.DataFrame, s: Settings, size: int) -> dict[str, list[float]]:
    """u of ``u_distinct`` comparisons from random pairs of records with DIFFERENT values (one record per value).

    Random record pairs of a file that is mostly one organisation's records are often that organisation twice;
    pairs of different names say how often two organisations' names agree by chance.
    """
    out: dict[str, list[float]] = {}
    for name in s.u_distinct & set(s.comparisons):
        codes = Columns.of(prepared).codes(_VALUE_COLUMNS.get(name, name))
        rows = np.flatnonzero(codes >= 0)
        rows = rows[np.unique(codes[rows], return_index=True)[1]]
        if len(rows) < 2:
            continue
        k = len(rows)
        l, r = _random_pairs(k, min(size, k * (k - 1), DISTINCT_U_PAIRS), s.seed)
        only = replace(s, comparisons=(name,), extras=())
        vectors = _compare(prepared, rows[l], rows[r], only)
        out[name] = level_distribution(vectors, {name: len(s.levels(name))}, smoothing=0.1)[name]
    return out


def _train(prepared: pd.DataFrame, vectors: pd.DataFrame, veto: np.ndarray, n: int, n_pairs: int,
           s: Settings, u: dict[str, list[float]] | None = None) -> FSModel:
    """Fellegi-Sunter by EM: u from random pairs (fixed), m by EM on the candidate pairs that no veto excludes.

    Vetoed pairs are known non-matches; leaving them in lets EM's "match" class drift to "same household".
    The prior EM finds is the match share among candidates; scores use the match share among ALL pairs
    (matches found / n(n-1)/2), so a weight means the same evidence on any data size.
    """
    patterns, counts = pattern_counts(vectors, ~veto if (~veto).sum() >= 100 else None)
    return train_on_patterns(patterns, counts, _estimate_u(prepared, s) if u is None else u, n, s)


def train_on_patterns(train: pd.DataFrame, counts: np.ndarray, u: dict[str, list[float]], n: int,
                      s: Settings) -> FSModel:
    """EM (or the rules' fallback) on the distinct comparison vectors ``train`` of the training pairs and their
    ``counts``: all :func:`_train` needs of the pairs, so an engine that never holds them (Spark) trains the
    same model from an aggregation."""
    levels = {c: s.levels(c) for c in s.all_comparisons}
    all_pairs = max(n * (n - 1) / 2, 1)
    total = float(counts.sum())
    # start: half the candidates are matches (an upper bound EM works down from)
    start = float(np.clip(0.5 * total / all_pairs, 1e-12, 0.5))
    informative = [c for c in train.columns
                   if total and counts[train[c].to_numpy() >= 0].sum() / total >= INFORMATIVE_SHARE]
    if len(informative) < MIN_EM_FIELDS:
        return _fallback(train, counts, u, s, n, all_pairs, start,
                         f"only {len(informative)} field(s) carry data ({', '.join(informative) or 'none'})")
    model = train_em(train, u, levels, max_iterations=s.em_max_iterations, fix_u=True,
                     m_prior_strength=M_PRIOR_STRENGTH, prior=start, all_pairs=all_pairs, counts=counts)
    model.prior = prior_over_all_pairs(model, train, all_pairs, model.prior, counts=counts)
    if model.prior * all_pairs < 1:
        return _fallback(train, counts, u, s, n, all_pairs, start, "EM found no matches among the candidate pairs")
    return model


def _fallback(train: pd.DataFrame, counts: np.ndarray, u: dict[str, list[float]], s: Settings, n: int,
              all_pairs: float, start: float, why: str) -> FSModel:
    """The rules' prior model (``m_prior``; ``u_prior`` for ``u_distinct`` fields, random pairs elsewhere) when
    EM cannot separate matches from non-matches, with its match prior from the data (never below 1/n).

    With one or two fields EM's two classes are not identifiable: it puts "match" wherever the candidates are
    densest (on a name-only file: exact names) and collapses the other levels.
    """
    base = prior_model(s, n)
    priors = dict(s.u_prior)
    fallback_u = {c: (base.u[c] if c in s.u_distinct and c in priors else u.get(c, base.u[c])) for c in base.levels}
    model = prior_model(s, n, u=fallback_u)
    model.prior = max(prior_over_all_pairs(model, train, all_pairs, start, counts=counts), 1.0 / max(n, 2))
    model.meta = {"trained": "prior (rules)", "why": why}
    logger.warning("linkage: %s, too little for EM to learn from: scoring with the rules' prior model "
                   "(m_prior / u_prior of each comparison in rules/matching.yaml)", why)
    return model


def _chain_vetoes(prepared: pd.DataFrame, labels: np.ndarray, s: Settings,
                  known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cannot-link pairs among members of small multi-record components that blocking never compared."""
    counts = np.bincount(labels, minlength=len(labels))
    sizes = counts[labels]
    codes = np.where((sizes >= 3) & (sizes <= CHAIN_CHECK_MAX), labels, -1)
    l, r, _ = pairs_within_blocks(codes, CHAIN_CHECK_MAX)
    n = len(prepared)
    codes = l * n + r  # ``known``: sorted codes of the pairs blocking already compared
    at = np.minimum(np.searchsorted(known, codes), max(len(known) - 1, 0))
    fresh = (known[at] != codes) if len(known) else np.ones(len(codes), dtype=bool)
    l, r = l[fresh], r[fresh]
    if not len(l):
        return l, r
    needed = tuple(c for c, _ in s.cannot_link) + tuple(c for c in ("address", "phone") if c in s.comparisons)
    veto_settings = replace(s, comparisons=tuple(dict.fromkeys(needed)),
                            extras=tuple(e for e in s.extras if e.identifier))
    veto = _vetoes(_compare(prepared, l, r, veto_settings), s, prepared, l, r)
    return l[veto], r[veto]


#: Fewer candidate pairs than this are compared in one process (a fork costs more than it saves).
PARALLEL_MIN_PAIRS = 200_000
#: Pairs compared before forking: they fill the caches (codes, distinct values) the child then shares.
WARM_PAIRS = 20_000


def _compare_in_parts(prepared: pd.DataFrame, l: np.ndarray, r: np.ndarray, s: Settings,
                      train: bool) -> tuple[pd.DataFrame, dict[str, list[float]] | None]:
    """Comparison vectors of the candidate pairs and (when ``train``) u from random pairs.

    On two cores (:func:`cdq.linkage.parallel.workers`) a forked child takes u and a share of the pairs that
    leaves both processes about as much to compare; pairs are compared one by one, so the parts joined
    are what one process computes.
    """
    estimate_u = (lambda: _estimate_u(prepared, s)) if train else (lambda: None)
    if workers() < 2 or len(l) < PARALLEL_MIN_PAIRS:
        return _compare(prepared, l, r, s), estimate_u()
    # both parts write into one set of arrays in shared memory: the child's half needs no pickling, no pipe
    # and no copy (at 1M records 0.1 GB each way)
    names = s.all_comparisons
    levels = shared_array((len(names), len(l)), np.int8)
    out = compare_levels(prepared, l[:WARM_PAIRS], r[:WARM_PAIRS], s, dict(zip(names, levels)), 0)
    extra = u_sample_size(len(prepared), s) if train else 0
    split = min(len(l), WARM_PAIRS + (len(l) - WARM_PAIRS + extra) // 2)
    u, _ = run_tasks([lambda: (compare_levels(prepared, l[split:], r[split:], s, out, split), estimate_u())[1],
                      lambda: compare_levels(prepared, l[WARM_PAIRS:split], r[WARM_PAIRS:split], s, out, WARM_PAIRS)])
    return pd.DataFrame(out, copy=False), u


def _vetoes_in_parts(vectors: pd.DataFrame, s: Settings, prepared: pd.DataFrame, l: np.ndarray,
                     r: np.ndarray) -> np.ndarray:
    """:func:`cdq.linkage.vetoes.vetoes` of every candidate pair, half of them in a forked child on two cores
    (a pair's veto depends on that pair alone, so the halves joined are what one process computes)."""
    if workers() < 2 or len(l) < PARALLEL_MIN_PAIRS:
        return _vetoes(vectors, s, prepared, l, r)
    half = len(l) // 2
    theirs, mine = run_tasks([lambda: _vetoes(vectors.iloc[half:], s, prepared, l[half:], r[half:]),
                              lambda: _vetoes(vectors.iloc[:half], s, prepared, l[:half], r[:half])])
    return np.concatenate([mine, theirs])


def _pairs_frame(ids, l, r, vectors, scored, decision, s: Settings, model: FSModel, tf: dict) -> pd.DataFrame:
    """The returned pairs: all but the non-matches below KEEP_MIN_PROBABILITY (``decision``: codes of
    :data:`cdq.linkage.vetoes.DECISIONS`)."""
    # positions, not a mask: each of ~20 columns is then gathered at the few kept pairs, not scanned whole
    keep = np.flatnonzero((decision != NON_MATCH) | (scored["match_probability"].to_numpy() >= KEEP_MIN_PROBABILITY))
    vectors = pd.DataFrame({c: vectors[c].to_numpy()[keep] for c in vectors.columns}, copy=False)
    fields = score(model, vectors, {c: a[keep] for c, a in tf.items()})
    out = pd.DataFrame({"record_id_l": ids[l[keep]], "record_id_r": ids[r[keep]],
                        "match_weight": scored["match_weight"].to_numpy()[keep],
                        "match_probability": scored["match_probability"].to_numpy()[keep],
                        "decision": pd.Categorical.from_codes(decision[keep], categories=list(DECISIONS))})
    for name in vectors.columns:
        names = ["missing", *s.levels(name)]
        out[f"{name}_level"] = pd.Categorical.from_codes(vectors[name].to_numpy() + 1, categories=names)
        out[f"{name}_weight"] = fields[f"{name}_weight"].to_numpy()
    return out


def _run(frame: pd.DataFrame, settings: Settings | None, progress: Callable | None, model: FSModel | None,
         is_new: np.ndarray | None) -> LinkageResult:
    s = settings or load_settings()
    step = ProgressLog(logger, "linkage", _STEPS, progress=progress)
    ids = _record_ids(frame)
    n = len(frame)
    filled = check_input(frame, s)
    prepared = _prepare(_positional(frame), s.extras)
    step(1)
    passes = s.passes + s.extra_passes
    l, r, report = candidate_pairs(prepared, passes, s.max_block_size, is_new=is_new, refine=s.refine)
    report = pd.concat([report, pd.DataFrame([{"pass": "total", "keys": "", "pairs": len(l), "new_pairs": len(l),
                                              "reduction_ratio": reduction_ratio(n, len(l))}])], ignore_index=True)
    step(2)
    vectors, u = _compare_in_parts(prepared, l, r, s, train=model is None)
    step(3)
    # the cannot-link rules this file contradicts are lifted before any veto is computed
    s = without_contradicted_vetoes(vectors, s)
    veto = _vetoes_in_parts(vectors, s, prepared, l, r)
    if model is None:
        model = _train(prepared, vectors, veto, n, len(l), s, u)
    else:
        check_model(model, s)
    step(4)
    bounds = (s.tf_min_weight, s.tf_max_weight)
    tf = {c: tf_adjustments(model, c, vectors[c].to_numpy(), Columns.of(prepared).codes(s.tf_column(c)), l, bounds)
          for c in s.tf_comparisons if c in vectors.columns}
    scored = score(model, vectors, tf, fields=False)
    decision = decision_codes(scored["match_probability"].to_numpy(), veto, s)
    step(5)
    labels = _cluster(prepared, l, r, scored["match_weight"].to_numpy(), decision == MATCH, veto, s)
    # a match the guarded clustering kept apart (a household, an ambiguous record) is for the steward
    matched = np.flatnonzero(decision == MATCH)
    decision[matched[labels[l[matched]] != labels[r[matched]]]] = REVIEW
    organisation = organisation_ids(prepared, l, r, vectors, labels, ids, s)
    if is_new is None:  # link() sees stored records one by one, not as the locations they are in
        labels = _place_moved(frame, prepared, labels, organisation)
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids[labels], "organisation_id": organisation})
    step(6)
    logger.info("linkage: %d records, %d pairs, %d matches, %d review, %d clusters", n, len(l),
                int((decision == MATCH).sum()), int((decision == REVIEW).sum()), int(np.count_nonzero(np.bincount(labels))))
    warning = no_match_warning(n, len(l), decision == MATCH, scored["match_probability"].to_numpy(), filled, model, s)
    if warning:
        logger.warning("linkage: %s", warning)
    if model.meta.get("why"):
        warning = "; ".join(filter(None, [warning, f"{model.meta['why']}: scored with the rules' prior model"]))
    return LinkageResult(_pairs_frame(ids, l, r, vectors, scored, decision, s, model, tf), clusters, report, model,
                         [warning] if warning else [])


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed 0..n-1: as it is when it already is (``reset_index`` copies every column: ~1 s at 1M)."""
    return frame if frame.index.equals(pd.RangeIndex(len(frame))) else frame.reset_index(drop=True)


def _cluster(prepared, l, r, weight, match, veto, s: Settings) -> np.ndarray:
    """Cluster labels from the candidate pairs decided a match (``match``) and the vetoed ones (``veto``)."""
    n = len(prepared)
    ml, mr, mw = l[match], r[match], weight[match]
    labels = connected_components(n, ml, mr)
    # only a cannot-link inside one component of the matches can split anything (guarded_clusters ignores the
    # others): at 1M records 14M of 19M candidate pairs are vetoed, a few thousand of them inside a component
    compact = labels.astype(np.int32) if n < 2**31 else labels  # half the bytes per gathered label
    inside = compact[l] == compact[r]
    inside &= veto
    at = np.flatnonzero(inside)
    cl, cr = l[at], r[at]
    if s.cannot_link:
        extra_l, extra_r = _chain_vetoes(prepared, labels, s, l * n + r)
        cl, cr = np.r_[cl, extra_l], np.r_[cr, extra_r]
    years = _birth_years(prepared) if "birth_date" in dict(s.cannot_link) else None
    return guarded_clusters(n, ml, mr, mw, cl, cr, birth_years=years, apart=BIRTH_VETO_YEARS)


def _place_moved(frame: pd.DataFrame, prepared: pd.DataFrame, labels: np.ndarray,
                 organisation: np.ndarray) -> np.ndarray:
    """A lone branch record joins the one branch of its organisation it can be (see place_moved_locations)."""
    if "source" not in frame.columns or not pd.notna(organisation).any():
        return labels
    name = prepared["surname_core"].notna().to_numpy() | prepared["initials"].notna().to_numpy()
    branch = (Columns.of(prepared).codes("company_key") >= 0) & ~name
    # the sources of the branch records only (as text): the only ones looked at, a few per cent of a file
    rows = np.flatnonzero(branch)
    sources = np.full(len(frame), None, dtype=object)
    sources[rows] = frame["source"].iloc[rows].astype(str).to_numpy(dtype=object)
    return place_moved_locations(labels, organisation, branch, sources, Columns.of(prepared).codes("phone"))


def _birth_years(prepared: pd.DataFrame) -> np.ndarray:
    """Full birth dates as fractional years (NaN where there is none): the guard that keeps undated records
    from joining several dated people into one cluster."""
    dates = pd.Series(Columns.of(prepared).birth_datetimes())
    return (dates.dt.year + (dates.dt.dayofyear - 1) / 365.25).to_numpy(dtype=float)


def dedupe(frame: pd.DataFrame, settings: Settings | None = None, progress: Callable | None = None,
           *, model: FSModel | None = None) -> LinkageResult:
    """Find duplicate records within one staging frame.

    Args:
        frame: staging frame (canonical columns; need not be normalized). ``record_id`` names the records.
        settings: resolved settings (default: ``rules/matching.yaml``).
        progress: optional ``(done, total)`` callback.
        model: a trained model to reuse (skips EM training).

    Examples:
        >>> f = pd.DataFrame({"record_id": ["a", "b", "c"], "first_name": ["Jan", "Johannes", "Piet"],
        ...                   "last_name": ["de Vries", "Vries", "Bakker"], "birth_date": ["1980-02-01"] * 2 + [None],
        ...                   "postcode": ["1234AB", "1234 ab", "9999ZZ"], "house_number": ["1", "1", "5"]})
        >>> sorted(dedupe(f).clusters["record_id"])
        ['a', 'b', 'c']
    """
    return _run(frame, settings, progress, model, None)


def link(new: pd.DataFrame, existing: pd.DataFrame, settings: Settings | None = None,
         progress: Callable | None = None, *, model: FSModel | None = None) -> LinkageResult:
    """Link new records to existing ones (and to each other); pairs of two existing records are not scored."""
    frame = pd.concat([existing, new], ignore_index=True)
    is_new = np.r_[np.zeros(len(existing), dtype=bool), np.ones(len(new), dtype=bool)]
    return _run(frame, settings, progress, model, is_new)


def cannot_links(left: pd.DataFrame, right: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Every pair (one record of ``left``, one of ``right``) that a cannot-link rule keeps apart, and why.

    The rules are the clustering's own (``cannot_link`` in ``rules/matching.yaml``: a different gender,
    birth date, first name, person against organisation). Used to check a steward's "match" before two
    golden records are joined. Returns ``record_id_l, record_id_r, reason`` (the comparisons that veto).

    Examples:
        >>> a = pd.DataFrame({"record_id": ["a"], "first_name": ["Jan"], "last_name": ["Bos"], "gender": ["M"],
        ...                   "birth_date": ["1960-01-01"]})
        >>> b = pd.DataFrame({"record_id": ["b"], "first_name": ["Mia"], "last_name": ["Bos"], "gender": ["F"],
        ...                   "birth_date": ["1975-06-30"]})
        >>> cannot_links(a, b)[["record_id_l", "record_id_r", "reason"]].values.tolist()
        [['a', 'b', 'birth_date, first_name, gender']]
    """
    s = settings or load_settings()
    frame = pd.concat([left, right], ignore_index=True)
    ids = _record_ids(frame)
    l, r = (a.ravel() for a in np.meshgrid(np.arange(len(left)), len(left) + np.arange(len(right)), indexing="ij"))
    empty = pd.DataFrame(columns=["record_id_l", "record_id_r", "reason"])
    if not len(l) or not s.cannot_link:
        return empty
    prepared = _prepare(frame.reset_index(drop=True), s.extras)
    vectors = _compare(prepared, l, r, s)
    party = _party_conflict(prepared, l, r, vectors, s)
    reasons = [np.where(_vetoes(vectors, replace(s, cannot_link=(rule,)), prepared, l, r) & ~party, rule[0], "")
               for rule in s.cannot_link]
    text = [", ".join(sorted({x for x in row if x} | ({"party_type"} if p else set())))
            for row, p in zip(zip(*reasons), party)]
    veto = _vetoes(vectors, s, prepared, l, r)
    return pd.DataFrame({"record_id_l": ids[l[veto]], "record_id_r": ids[r[veto]],
                         "reason": np.array(text, dtype=object)[veto]}) if veto.any() else empty


def compare_pairs(left: pd.DataFrame, right: pd.DataFrame, model: FSModel,
                  settings: Settings | None = None) -> pd.DataFrame:
    """Score every pair (one record of ``left``, one of ``right``) with a trained model, blocking or not.

    The same columns as :attr:`LinkageResult.pairs` (per comparison ``<name>_level`` and ``<name>_weight``),
    plus ``cannot_link``. For explaining pairs a steward asks about (``cdq why``, ``cdq explain``).
    """
    s = settings or load_settings()
    frame = pd.concat([left, right], ignore_index=True)
    ids = np.r_[left["record_id"].astype(str).to_numpy(), right["record_id"].astype(str).to_numpy()].astype(object)
    l, r = (a.ravel() for a in np.meshgrid(np.arange(len(left)), len(left) + np.arange(len(right)), indexing="ij"))
    prepared = _prepare(frame.reset_index(drop=True), s.extras)
    vectors = _compare(prepared, l, r, s)
    veto = _vetoes(vectors, s, prepared, l, r)
    bounds = (s.tf_min_weight, s.tf_max_weight)
    tf = {c: tf_adjustments(model, c, vectors[c].to_numpy(), Columns.of(prepared).codes(s.tf_column(c)), l, bounds)
          for c in s.tf_comparisons if c in vectors.columns}
    scored = score(model, vectors, tf, fields=False)
    decision = _decide(scored["match_probability"].to_numpy(), veto, s)
    fields = score(model, vectors, tf)
    out = pd.DataFrame({"record_id_l": ids[l], "record_id_r": ids[r],
                        "match_weight": scored["match_weight"].to_numpy(),
                        "match_probability": scored["match_probability"].to_numpy(), "decision": decision,
                        "cannot_link": veto})
    for name in vectors.columns:
        out[f"{name}_level"] = pd.Categorical.from_codes(vectors[name].to_numpy() + 1,
                                                         categories=["missing", *s.levels(name)])
        out[f"{name}_weight"] = fields[f"{name}_weight"].to_numpy()
    return out

