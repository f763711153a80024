"""Record linkage: prepare → block → compare → train (EM) → score → decide → guarded clustering.

:func:`dedupe` finds duplicates within one staging frame; :func:`link` scores only pairs that involve new
records (the nightly incremental run). Both return a :class:`LinkageResult` with ``pairs`` (explainable:
per-field level and weight), ``clusters`` (every input record exactly once) and the blocking ``report``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cdq.linkage.block import candidate_pairs, pairs_within_blocks, reduction_ratio
from cdq.linkage.cluster import connected_components, guarded_clusters
from cdq.linkage.compare import compare
from cdq.linkage.model import TF_COLUMNS, FSModel, level_distribution, score, tf_adjustments, train_em
from cdq.linkage.prepare import prepare
from cdq.linkage.settings import Settings, load_settings

__all__ = ["LinkageResult", "dedupe", "link", "load_settings", "Settings", "FSModel"]

logger = logging.getLogger(__name__)

#: Non-match pairs below this probability are not returned (they explain nothing and cost memory).
KEEP_MIN_PROBABILITY = 0.01
#: Components up to this size get their never-compared member pairs checked for cannot-link conflicts.
CHAIN_CHECK_MAX = 60
_STEPS = 6


@dataclass
class LinkageResult:
    """Scored pairs (``scored_pairs``), clusters and the blocking report of one linkage run."""

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    report: pd.DataFrame
    model: FSModel


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
    size = min(s.u_sample_pairs, max(n * (n - 1) // 2, 1) * 2)
    l, r = _random_pairs(n, size, s.seed)
    vectors = compare(prepared, l, r, s)
    return level_distribution(vectors, {c: len(s.levels(c)) for c in s.all_comparisons}, smoothing=1.0)


def _vetoes(vectors: pd.DataFrame, s: Settings) -> np.ndarray:
    """True where a pair sits on a cannot-link level of some comparison."""
    veto = np.zeros(len(vectors), dtype=bool)
    for name, level_names in s.cannot_link:
        if name in vectors.columns:
            codes = [s.levels(name).index(lv) for lv in level_names]
            veto |= np.isin(vectors[name].to_numpy(), codes)
    for extra in s.extras:
        if extra.identifier and extra.name in vectors.columns:
            veto &= vectors[extra.name].to_numpy() != len(s.levels(extra.name)) - 1
    return veto


def _decide(probability: np.ndarray, veto: np.ndarray, s: Settings) -> np.ndarray:
    decision = np.where(probability >= s.auto_match, "match", np.where(probability >= s.review, "review", "non_match"))
    decision[veto] = "non_match"
    return decision


def _chain_vetoes(prepared: pd.DataFrame, labels: np.ndarray, s: Settings, known: set) -> tuple[np.ndarray, np.ndarray]:
    """Cannot-link pairs among members of small multi-record components that blocking never compared."""
    counts = np.bincount(labels, minlength=len(labels))
    sizes = counts[labels]
    codes = np.where((sizes >= 3) & (sizes <= CHAIN_CHECK_MAX), labels, -1)
    l, r, _ = pairs_within_blocks(codes, CHAIN_CHECK_MAX)
    n = len(prepared)
    fresh = ~np.isin(l * n + r, np.fromiter(known, dtype=np.int64, count=len(known)))
    l, r = l[fresh], r[fresh]
    if not len(l):
        return l, r
    veto_settings = replace(s, comparisons=tuple(c for c, _ in s.cannot_link),
                            extras=tuple(e for e in s.extras if e.identifier))
    veto = _vetoes(compare(prepared, l, r, veto_settings), s)
    return l[veto], r[veto]


def _pairs_frame(ids, l, r, vectors, scored, decision, s: Settings) -> pd.DataFrame:
    keep = (decision != "non_match") | (scored["match_probability"].to_numpy() >= KEEP_MIN_PROBABILITY)
    out = pd.DataFrame({"record_id_l": ids[l[keep]], "record_id_r": ids[r[keep]],
                        "match_weight": scored["match_weight"].to_numpy()[keep],
                        "match_probability": scored["match_probability"].to_numpy()[keep],
                        "decision": pd.Categorical(decision[keep], categories=["match", "review", "non_match"])})
    for name in vectors.columns:
        names = ["missing", *s.levels(name)]
        out[f"{name}_level"] = pd.Categorical.from_codes(vectors[name].to_numpy()[keep] + 1, categories=names)
        out[f"{name}_weight"] = scored[f"{name}_weight"].to_numpy()[keep]
    return out


def _run(frame: pd.DataFrame, settings: Settings | None, progress: Callable | None, model: FSModel | None,
         is_new: np.ndarray | None) -> LinkageResult:
    s = settings or load_settings()
    step = (lambda k: progress(k, _STEPS)) if progress else (lambda k: None)
    ids = _record_ids(frame)
    n = len(frame)
    prepared = prepare(frame.reset_index(drop=True), s.extras)
    step(1)
    passes = s.passes + tuple((f"extra_{e.name}", (e.name,)) for e in s.extras if e.block)
    l, r, report = candidate_pairs(prepared, passes, s.max_block_size, is_new=is_new)
    report = pd.concat([report, pd.DataFrame([{"pass": "total", "keys": "", "pairs": len(l), "new_pairs": len(l),
                                              "reduction_ratio": reduction_ratio(n, len(l))}])], ignore_index=True)
    step(2)
    vectors = compare(prepared, l, r, s)
    step(3)
    if model is None:
        levels = {c: s.levels(c) for c in s.all_comparisons}
        model = train_em(vectors, _estimate_u(prepared, s), levels, max_iterations=s.em_max_iterations)
    step(4)
    bounds = (s.tf_min_weight, s.tf_max_weight)
    tf = {c: tf_adjustments(model, c, vectors[c].to_numpy(), prepared[TF_COLUMNS[c]], l, bounds)
          for c in s.tf_comparisons if c in vectors.columns}
    scored = score(model, vectors, tf)
    veto = _vetoes(vectors, s)
    decision = _decide(scored["match_probability"].to_numpy(), veto, s)
    step(5)
    labels = _cluster(prepared, l, r, scored["match_weight"].to_numpy(), decision, veto, s)
    clusters = pd.DataFrame({"record_id": ids, "cluster_id": ids[labels]})
    step(6)
    logger.info("linkage: %d records, %d pairs, %d matches, %d review, %d clusters", n, len(l),
                int((decision == "match").sum()), int((decision == "review").sum()), clusters["cluster_id"].nunique())
    return LinkageResult(_pairs_frame(ids, l, r, vectors, scored, decision, s), clusters, report, model)


def _cluster(prepared, l, r, weight, decision, veto, s: Settings) -> np.ndarray:
    n = len(prepared)
    match = decision == "match"
    ml, mr, mw = l[match], r[match], weight[match]
    labels = connected_components(n, ml, mr)
    cl, cr = l[veto], r[veto]
    if s.cannot_link:
        known = set((l * n + r).tolist()) if len(l) < 5_000_000 else set()
        extra_l, extra_r = _chain_vetoes(prepared, labels, s, known)
        cl, cr = np.r_[cl, extra_l], np.r_[cr, extra_r]
    return guarded_clusters(n, ml, mr, mw, cl, cr)


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
