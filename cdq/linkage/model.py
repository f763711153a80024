"""Fellegi-Sunter model: u from random pairs, m and the prior by EM, term-frequency adjustment, JSON I/O.

Weights are in bits: ``log2(m / u)`` per comparison level; a pair's ``match_weight`` is the prior log-odds
plus the sum of its per-field weights, so every score can be explained field by field. On a comparison
with term-frequency adjustment, agreeing exactly on a frequent value ("de jong") weighs less than on a
rare one ("wijnaendts"): the level's ``u`` is replaced by the value's frequency among records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cdq.errors import ConfigError

if TYPE_CHECKING:  # settings only annotate here
    from cdq.linkage.settings import Settings

logger = logging.getLogger(__name__)

_EPS = 1e-6
#: Smallest m of any level: a field is mistyped, outdated or swapped in at least this share of true matches,
#: so no single disagreement can outweigh everything else (EM on blocked pairs drives rare levels to ~0).
MIN_M = 0.01


@dataclass
class FSModel:
    """Trained m/u probabilities per comparison level (index = level) and the prior match share."""

    levels: dict[str, list[str]]
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    prior: float
    iterations: int = 0
    meta: dict = field(default_factory=dict)

    def weights(self, comparison: str) -> np.ndarray:
        """log2(m/u) per level of ``comparison``."""
        return np.log2(np.maximum(self.m[comparison], _EPS) / np.maximum(self.u[comparison], _EPS))

    def to_json(self) -> str:
        return json.dumps({"format": "cdq-fs-model/1", "levels": self.levels, "m": self.m, "u": self.u,
                           "prior": self.prior, "iterations": self.iterations, "meta": self.meta}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> FSModel:
        data = json.loads(text)
        if data.get("format") != "cdq-fs-model/1":
            raise ConfigError("not a cdq model file (expected format cdq-fs-model/1)")
        return cls(levels=data["levels"], m=data["m"], u=data["u"], prior=data["prior"],
                   iterations=data.get("iterations", 0), meta=data.get("meta", {}))

    def save(self, path: str | Path, settings: Settings | None = None) -> Path:
        """Write the model as JSON; :func:`load_model` reads it back equal. With ``settings``, the resolved
        settings it was trained under go with it (:func:`model_settings` reads them back)."""
        if settings is not None:
            from cdq.linkage.settings import settings_to_dict

            self.meta[RESOLVED_SETTINGS] = settings_to_dict(settings)
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path


#: The key of a model file's ``meta`` that holds the resolved settings it was trained under.
RESOLVED_SETTINGS = "resolved_settings"


def model_settings(model: FSModel) -> Settings | None:
    """The resolved settings saved with ``model`` (None for a model saved without them); checked against it."""
    data = model.meta.get(RESOLVED_SETTINGS)
    if data is None:
        return None
    from cdq.linkage.settings import settings_from_dict

    settings = settings_from_dict(data)
    check_model(model, settings)
    return settings


def load_model(path: str | Path) -> FSModel:
    """Read a model saved with :meth:`FSModel.save`."""
    try:
        return FSModel.from_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"{path}: cannot read the linkage model ({e})") from e


def level_distribution(vectors: pd.DataFrame, n_levels: dict[str, int], weights: np.ndarray | None = None,
                       smoothing: float = 0.5) -> dict[str, list[float]]:
    """Share of each level among non-missing values, per comparison (additive smoothing).

    Examples:
        >>> level_distribution(pd.DataFrame({"a": [1, 1, 0, -1]}), {"a": 2}, smoothing=0)
        {'a': [0.3333333333333333, 0.6666666666666666]}
    """
    out = {}
    w = np.ones(len(vectors)) if weights is None else weights
    for name, k in n_levels.items():
        col = vectors[name].to_numpy()
        ok = col >= 0
        counts = np.bincount(col[ok], weights=w[ok], minlength=k)[:k] + smoothing
        out[name] = (counts / counts.sum()).tolist()
    return out


def _initial_m(k: int) -> list[float]:
    """Start of EM: most matches agree exactly, a few are close, very few disagree."""
    raw = np.array([0.5 ** (k - 1 - i) for i in range(k)])
    raw[-1] *= 8
    return (raw / raw.sum()).tolist()


def prior_model(settings, population: int, u: dict[str, list[float]] | None = None) -> FSModel:
    """The rules' own model: m and u from each comparison's ``m_prior`` / ``u_prior`` (a default
    shape where a comparison has none), prior 1 / ``population`` (a record has about one true match among
    ``population`` records). Used to score one record against candidates and as EM's fallback.

    Examples:
        >>> from cdq.linkage.settings import load_settings
        >>> m = prior_model(load_settings(), 1000)
        >>> m.prior, bool(m.weights("surname")[-1] > 5)
        (0.001, True)
    """
    levels = {c: settings.levels(c) for c in settings.all_comparisons}
    m_table, u_table = dict(settings.m_prior), dict(settings.u_prior)
    m = {c: _normalised(m_table.get(c)) or _initial_m(len(lv)) for c, lv in levels.items()}
    if u is None:
        u = {c: _normalised(u_table.get(c)) or _initial_u(len(lv)) for c, lv in levels.items()}
    return FSModel(levels=levels, m=m, u={c: list(u[c]) for c in levels}, prior=1.0 / max(population, 2),
                   meta={"trained": "prior (rules)"})


def _normalised(values) -> list[float] | None:
    if not values:
        return None
    arr = np.asarray(values, dtype=float)
    return (arr / arr.sum()).tolist()


def _initial_u(k: int) -> list[float]:
    """Default u: random pairs almost always disagree; each better level is ten times rarer."""
    raw = np.array([10.0 ** -(2 * i) for i in range(k)])
    return (raw / raw.sum()).tolist()


def _patterns(vectors: pd.DataFrame, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct comparison vectors (in lexicographic order) of the pairs where ``rows`` (default: all) and how
    often each occurs (EM runs on these, not on pairs)."""
    # one mixed-radix integer per pair (levels are small ints >= -1), then a hash factorize: far cheaper
    # than a multi-column value_counts on tens of millions of pairs. The radix comes from all pairs, so the
    # mask is applied to the integers only (masking a frame of 19M pairs costs seconds); any radix above
    # every level decodes to the same patterns in the same order.
    code = np.zeros(len(vectors), dtype=np.int64)
    columns = [vectors[name].to_numpy() for name in vectors.columns]
    radix = [int(col.max()) + 2 if len(col) else 1 for col in columns]
    # in place and in blocks of pairs that stay in the cache (tens of millions of pairs: a temporary per
    # operation, or a pass over the whole array per operation, costs more than the arithmetic)
    for start in range(0, len(code), _PATTERN_BLOCK):
        block = code[start:start + _PATTERN_BLOCK]
        for col, base in zip(columns, radix):
            block *= base
            block += col[start:start + _PATTERN_BLOCK]
            block += 1
    if rows is not None:
        code = code[rows]
    if len(code) == 0 or np.prod(np.array(radix, dtype=float)) >= 2.0 ** 62:
        vectors = vectors if rows is None else vectors[rows]
        grouped = vectors.value_counts(sort=False, dropna=False).reset_index().sort_values(list(vectors.columns))
        return grouped[list(vectors.columns)].to_numpy(dtype=np.int64), grouped["count"].to_numpy(dtype=float)
    # sorted: patterns in lexicographic order of their levels, so any engine that counts the same vectors
    # (cdq.engines.spark counts them in a cluster) sums EM's expectations in the same order, to the bit
    codes, uniques = pd.factorize(code, sort=True)
    counts = np.bincount(codes, minlength=len(uniques)).astype(float)
    patterns = np.empty((len(uniques), len(radix)), dtype=np.int64)
    rest = uniques.astype(np.int64)
    for j in range(len(radix) - 1, -1, -1):
        patterns[:, j] = rest % radix[j] - 1
        rest //= radix[j]
    return patterns, counts


#: Pairs whose pattern codes :func:`_patterns` computes at a time.
_PATTERN_BLOCK = 1 << 16


def _patterns_of(vectors: pd.DataFrame, counts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if counts is None:
        return _patterns(vectors)
    return vectors.to_numpy(dtype=np.int64), np.asarray(counts, dtype=float)


def pattern_counts(vectors: pd.DataFrame, rows: np.ndarray | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct comparison vectors as a frame (lexicographic order) and how often each occurs: what EM,
    u and the prior need of the pairs, so an engine that cannot hold the pairs hands over only these.
    ``rows``: a boolean mask of the pairs to count (default: all), as ``pattern_counts(vectors[rows])``.

    Examples:
        >>> p, c = pattern_counts(pd.DataFrame({"a": [1, 0, 1, -1], "b": [0, 0, 0, 2]}))
        >>> p.values.tolist(), c.tolist()
        ([[-1, 2], [0, 0], [1, 0]], [1.0, 1.0, 2.0])
    """
    patterns, counts = _patterns(vectors, rows)
    return pd.DataFrame(patterns, columns=list(vectors.columns)), counts


def _pattern_weights(patterns: np.ndarray, names: list[str], m: dict, u: dict) -> np.ndarray:
    total = np.zeros(len(patterns))
    for j, name in enumerate(names):
        w = np.log2(np.maximum(m[name], _EPS) / np.maximum(u[name], _EPS))
        col = patterns[:, j]
        total += np.where(col >= 0, w[np.maximum(col, 0)], 0.0)
    return total


def _with_prior(m: dict[str, list[float]], matches: float, m0: dict[str, list[float]], strength: float):
    """Blend EM's m with the default m0 as ``strength`` pseudo-matches (a Dirichlet prior).

    With few matches (tiny inputs, a field that is rarely filled) EM's m is noise; the prior keeps it sane.
    """
    return {n: ((np.asarray(m[n]) * matches + strength * np.asarray(m0[n])) / (matches + strength)).tolist()
            for n in m}


def _monotone(m: np.ndarray, u: np.ndarray) -> list[float]:
    """m with weights that never fall from a worse level to a better one (levels are ordered worst first).

    EM on blocked pairs can learn that an e-mail "similar local part" says more than "same local part"
    (fathers and sons have similar addresses); a better agreement must never count less. Capped mass goes
    to the exact level.

    Examples:
        >>> [round(x, 2) for x in _monotone(np.array([0.1, 0.5, 0.4]), np.array([0.8, 0.1, 0.1]))]
        [0.1, 0.4, 0.5]
    """
    m = m.astype(float).copy()
    u = np.maximum(u, _EPS)
    for i in range(len(m) - 2, -1, -1):
        cap = u[i] * m[i + 1] / u[i + 1]
        if m[i] > cap:
            m[-1] += m[i] - cap
            m[i] = cap
    return (m / m.sum()).tolist()


def train_em(vectors: pd.DataFrame, u: dict[str, list[float]], levels: dict[str, list[str]], *,
             max_iterations: int = 40, prior: float = 0.1, tolerance: float = 1e-5, fix_u: bool = False,
             m_prior_strength: float = 0.0, all_pairs: float | None = None,
             counts: np.ndarray | None = None) -> FSModel:
    """Estimate m, u and the prior by EM on candidate pairs, starting u from random pairs.

    With ``fix_u`` the u probabilities stay those of random pairs (the classic Fellegi-Sunter setting;
    the caller excludes known non-matches from ``vectors``); otherwise u is re-estimated on the candidates.
    ``m_prior_strength`` pseudo-matches pull m toward the default shape (most matches agree exactly).
    ``all_pairs`` (with ``fix_u``): the vectors are the candidate pairs out of that many record pairs, and
    the prior is the match share among ALL of them (pairs never compared are non-matches): with u from
    random pairs, a prior among candidates calls nearly every candidate a match (same-name strangers
    included) and m becomes the candidates' distribution instead of the matches'.
    ``counts``: ``vectors`` are already the distinct patterns (:func:`pattern_counts`) and these their counts.
    """
    names = list(vectors.columns)
    patterns, counts = _patterns_of(vectors, counts)
    m0 = {n: _initial_m(len(levels[n])) for n in names}
    m = dict(m0)
    n_levels = {n: len(levels[n]) for n in names}
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - the count is reported after the loop
        log_odds = np.log2(prior / (1 - prior)) + _pattern_weights(patterns, names, m, u)
        posterior = 1 / (1 + np.exp2(-np.clip(log_odds, -60, 60)))
        new_m = level_distribution(pd.DataFrame(patterns, columns=names), n_levels, posterior * counts, 0.01)
        if m_prior_strength:
            present = {n: float((posterior * counts)[patterns[:, j] >= 0].sum()) for j, n in enumerate(names)}
            new_m = {n: _with_prior({n: new_m[n]}, present[n], m0, m_prior_strength)[n] for n in names}
        if not fix_u:
            u = level_distribution(pd.DataFrame(patterns, columns=names), n_levels, (1 - posterior) * counts, 0.01)
        if all_pairs:
            new_prior = float(np.clip((posterior * counts).sum() / all_pairs, 1e-12, 0.5))
        elif counts.sum() > 0:
            new_prior = float(np.clip((posterior * counts).sum() / counts.sum(), 1e-6, 1 - 1e-6))
        else:  # no candidate pairs at all (a file of one or two records): nothing to learn
            new_prior = prior
        change = max(abs(new_prior - prior) / (prior if all_pairs else 1.0), *(np.abs(np.subtract(new_m[n], m[n])).max() for n in names))
        m, prior = new_m, new_prior
        if change < tolerance:
            break
    logger.info("EM converged after %d iterations (prior %.4f)", iteration, prior)
    m = {n: _monotone(np.maximum(m[n], MIN_M) / np.maximum(m[n], MIN_M).sum(), np.asarray(u[n])) for n in names}
    return FSModel(levels=levels, m=m, u=u, prior=prior, iterations=iteration)


def prior_over_all_pairs(model: FSModel, vectors: pd.DataFrame, all_pairs: float, start: float,
                         iterations: int = 100, counts: np.ndarray | None = None) -> float:
    """The match share among ALL record pairs, consistent with the model: lambda = sum of posteriors / pairs.

    EM on candidate pairs (which blocking chose because they agree) calls most of them matches; dividing
    that count by all pairs overstates lambda by the share of candidates that are not matches, and more so
    the larger the file. The fixed point ``lambda = sum_i P(match | pair i, lambda) / all_pairs`` (pairs
    blocking never formed have posterior ~0) counts a pair only as far as its evidence beats the odds of
    one random pair being a match, so a common name agreeing means less in 1M records than in 10k.
    Iterates down from ``start`` (an upper bound), so it finds the largest fixed point.

    Examples:
        >>> m = FSModel(levels={"a": ["d", "e"]}, m={"a": [0.1, 0.9]}, u={"a": [0.99, 0.01]}, prior=0.5)
        >>> v = pd.DataFrame({"a": [1] * 10 + [0] * 90})
        >>> 0 < prior_over_all_pairs(m, v, 1000.0, 0.1) < 0.01
        True
    """
    names = list(vectors.columns)
    patterns, counts = _patterns_of(vectors, counts)
    weights = _pattern_weights(patterns, names, model.m, model.u)
    lam = float(start)
    for _ in range(iterations):
        log_odds = np.log2(lam / (1 - lam)) + weights
        posterior = 1 / (1 + np.exp2(-np.clip(log_odds, -60, 60)))
        new = float(np.clip((posterior * counts).sum() / all_pairs, 1e-12, 0.5))
        done = abs(new - lam) <= 1e-4 * lam
        lam = new
        if done:
            break
    logger.info("prior over all pairs: %.3g (from %.3g)", lam, start)
    return lam


def tf_adjustments(model: FSModel, comparison: str, levels: np.ndarray, codes: np.ndarray, left: np.ndarray,
                   bounds: tuple[float, float]) -> np.ndarray:
    """Extra bits where a pair agrees exactly on a value: log2(u_exact / frequency(value)), bounded.

    ``codes``: the compared value of each record, factorized (-1 = missing). The bits are computed once per
    distinct value and taken by the exact pairs' left records (:func:`tf_weights` computes them per pair:
    at 1M records millions of exact pairs share a few hundred thousand values).
    """
    present = codes >= 0
    share = np.bincount(codes[present]) / max(int(present.sum()), 1)  # share of each value among records
    top = len(model.levels[comparison]) - 1
    # a pair can agree exactly without the left record holding the value (a lone name in the first-name field
    # is the other's surname): no frequency to adjust by (code -1 takes the last slot, 0 bits), rather than
    # share[-1], some other value's
    bits = np.r_[_tf_bits(model.u[comparison][top], share, bounds), 0.0]
    adj = np.zeros(len(levels), dtype=np.float32)
    exact = np.flatnonzero(levels == top)
    adj[exact] = bits[codes[left[exact]]]
    return adj


def _tf_bits(u_exact: float, share: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """log2(u_exact / share), bounded (float64): the term-frequency bits of a value held by ``share`` of records."""
    return np.clip(np.log2(u_exact / np.maximum(share, _EPS)), *bounds)


def tf_weights(model: FSModel, comparison: str, levels: np.ndarray, left_share, bounds: tuple[float, float]) -> np.ndarray:
    """The term-frequency bits of :func:`tf_adjustments` from ``left_share(exact)``: the share among records of
    the left record's value, for the pairs where ``exact`` (an engine that counts values elsewhere gives it);
    NaN where it has none: no adjustment."""
    top = len(model.levels[comparison]) - 1
    exact = levels == top
    adj = np.zeros(len(levels), dtype=np.float32)
    if exact.any():
        f = np.asarray(left_share(exact), dtype=float)
        known = ~np.isnan(f)
        bits = _tf_bits(model.u[comparison][top], np.where(known, f, 1.0), bounds)
        adj[exact] = np.where(known, bits, 0.0)
    return adj


def score(model: FSModel, vectors: pd.DataFrame, tf: dict[str, np.ndarray] | None = None, *,
          fields: bool = True) -> pd.DataFrame:
    """Per-field weights (unless ``fields`` is False: saves memory at scale), ``match_weight`` (bits) and
    ``match_probability`` for every pair: a frame of :func:`score_levels`."""
    return pd.DataFrame(score_levels(model, vectors, tf, fields=fields), copy=False)


def score_levels(model: FSModel, vectors: pd.DataFrame | Mapping[str, np.ndarray],
                 tf: dict[str, np.ndarray] | None = None, *, fields: bool = True) -> dict[str, np.ndarray]:
    """:func:`score`'s columns as arrays: ``<comparison>_weight`` (unless ``fields`` is False),
    ``match_weight`` and ``match_probability``. ``vectors``: a frame of levels or arrays per comparison
    (:func:`~cdq.linkage.compare.compare_levels`), at least one."""
    names = list(vectors.columns) if isinstance(vectors, pd.DataFrame) else list(vectors)
    n = len(vectors) if isinstance(vectors, pd.DataFrame) else len(vectors[names[0]])
    # one lookup per pair: level -1 ("missing", no evidence) takes the last slot, 0
    tables = {name: np.r_[model.weights(name).astype(np.float32), np.float32(0)] for name in names}
    levels = {name: np.asarray(vectors[name]) for name in names}
    out = {f"{name}_weight": np.empty(n, dtype=np.result_type(np.float32, tf[name]) if tf and name in tf else np.float32)
           for name in names} if fields else {}
    total = np.full(n, np.log2(model.prior / (1 - model.prior)), dtype=np.float32)
    # in blocks of pairs: each block's weights stay in the cache while they are added up (the same additions
    # in the same order per pair as over whole arrays)
    for start in range(0, n, SCORE_BLOCK):
        block = slice(start, start + SCORE_BLOCK)
        sums = total[block]
        for name in names:
            at = levels[name][block]
            w = tables[name][at if at.dtype.kind == "i" else at.astype(np.intp)]
            if tf and name in tf:
                w = w + tf[name][block]
            if fields:
                out[f"{name}_weight"][block] = w
            sums += w
    out["match_weight"] = total
    out["match_probability"] = 1 / (1 + np.exp2(-np.clip(total, -60, 60)))
    return out


#: Pairs scored at a time by :func:`score_levels`.
SCORE_BLOCK = 1 << 16


def settings_fingerprint(settings: Settings) -> dict:
    """What a model file records about the settings it was trained under (checked when it is loaded)."""
    levels = {c: settings.levels(c) for c in settings.all_comparisons}
    digest = hashlib.sha256(repr(sorted(levels.items())).encode()).hexdigest()[:16]
    return {"comparisons": list(settings.all_comparisons), "levels_sha": digest, "source": settings.source,
            "auto_match": settings.auto_match, "review": settings.review}


def check_model(model: FSModel, settings: Settings) -> None:
    """Raise ConfigError when a loaded model does not fit the settings' comparisons and levels."""
    wanted = {c: settings.levels(c) for c in settings.all_comparisons}
    missing = [c for c in wanted if c not in model.levels]
    differ = [c for c in wanted if c in model.levels and list(model.levels[c]) != list(wanted[c])]
    if missing or differ:
        raise ConfigError("the linkage model does not fit rules/matching.yaml: "
                          + "; ".join(filter(None, [f"no weights for {', '.join(missing)}" if missing else "",
                                                    f"other levels for {', '.join(differ)}" if differ else ""])),
                          hint="train it again with `cdq model train` under these rules")
