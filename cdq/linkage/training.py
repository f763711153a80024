"""Learning from stewards: re-estimate the model's m-probabilities from stored review decisions.

A steward's decision on a pair (``cdq review apply``) is a label. :func:`train_from_decisions` compares the
labelled pairs, re-estimates m from the labelled matches (supervised where labels exist; the starting
model's m, from EM or a model file, as a prior elsewhere and for comparisons the labels never fill), keeps
u (random pairs say more about non-matches than the hard cases a steward sees) and the prior, and reports
before/after on the labelled pairs. It never touches a production model: the result is a new model file
(``FSModel.save``, with the settings it was trained under) that ``cdq dedupe --model FILE`` loads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cdq.errors import UsageError
from cdq.linkage.compare import compare
from cdq.linkage.model import RESOLVED_SETTINGS, FSModel, check_model, score, settings_fingerprint
from cdq.linkage.prepare import prepare
from cdq.linkage.settings import Settings, load_settings, settings_to_dict
from cdq.linkage.vetoes import vetoes

logger = logging.getLogger(__name__)

#: The starting model's m counts as this many labelled matches (a handful of decisions cannot swing it).
LABEL_PRIOR_STRENGTH = 10.0


@dataclass
class TrainingResult:
    """The re-estimated model and a before/after table on the labelled pairs."""

    model: FSModel
    report: pd.DataFrame
    labelled: int


def _labelled_pairs(records: pd.DataFrame, decisions: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions (left, right) and is-match of the decided pairs whose two records are both present."""
    from cdq.golden import record_refs

    refs = record_refs(records).astype(str).to_numpy()
    stored = records["record_id"].astype(str).str.removeprefix("stored:").to_numpy()
    position: dict[str, int] = {}
    for i, (ref, own) in enumerate(zip(refs, stored)):
        position.setdefault(own, i)
        position.setdefault(ref, i)
    l, r, y = [], [], []
    for a, b, decision in zip(decisions["ref_a"], decisions["ref_b"], decisions["decision"]):
        if a in position and b in position and position[a] != position[b]:
            l.append(min(position[a], position[b]))
            r.append(max(position[a], position[b]))
            y.append(decision == "match")
    return np.asarray(l, dtype=np.int64), np.asarray(r, dtype=np.int64), np.asarray(y, dtype=bool)


def _scores(model: FSModel, vectors: pd.DataFrame, is_match: np.ndarray, veto: np.ndarray,
            settings: Settings) -> dict:
    p = score(model, vectors[list(model.m)], fields=False)["match_probability"].to_numpy()
    predicted = (p >= settings.auto_match) & ~veto
    tp = int((predicted & is_match).sum())
    precision = tp / max(int(predicted.sum()), 1)
    recall = tp / max(int(is_match.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"correct": int((predicted == is_match).sum()), "precision": precision, "recall": recall, "f1": f1,
            "mean_p_match": float(p[is_match].mean()) if is_match.any() else float("nan"),
            "mean_p_non_match": float(p[~is_match].mean()) if (~is_match).any() else float("nan")}


def train_from_decisions(records: pd.DataFrame, decisions: pd.DataFrame, settings: Settings | None = None,
                         model: FSModel | None = None) -> TrainingResult:
    """Re-estimate m from the stewards' decisions on pairs of ``records``.

    Args:
        records: the records the decisions refer to (e.g. ``cdq.golden.stored_records``): ``record_id`` and
            the lineage columns ``record_refs`` needs.
        decisions: ``ref_a, ref_b, decision`` (``cdq.review.load_decisions``).
        settings: linkage settings (default ``rules/matching.yaml``).
        model: the model to start from (a model file); default: the model a run trains on ``records`` by EM.

    Raises:
        UsageError: no decided pair has both its records in ``records``.
    """
    from cdq.linkage import dedupe

    s = settings or load_settings()
    l, r, is_match = _labelled_pairs(records.reset_index(drop=True), decisions)
    if not len(l):
        raise UsageError(f"none of the {len(decisions)} stored decisions is about two records in the store",
                         hint="decide pairs in a review workbook first (`cdq review apply`)")
    before = model or dedupe(records, s).model
    check_model(before, s)
    prepared = prepare(records.reset_index(drop=True), s.extras)
    vectors = compare(prepared, l, r, s)
    veto = vetoes(vectors, s, prepared, l, r)
    m = {}
    for c in before.m:  # labelled matches' level counts plus the starting m as LABEL_PRIOR_STRENGTH matches
        col = vectors.loc[is_match, c].to_numpy() if c in vectors.columns else np.empty(0, dtype=np.int8)
        counts = np.bincount(col[col >= 0].astype(np.int64), minlength=len(before.levels[c]))
        m[c] = ((counts + LABEL_PRIOR_STRENGTH * np.asarray(before.m[c])) / (counts.sum() + LABEL_PRIOR_STRENGTH)).tolist()
    after = FSModel(levels=dict(before.levels), m=m, u=dict(before.u), prior=before.prior, iterations=0,
                    meta={"trained": "steward decisions", "labelled_pairs": int(len(l)),
                          "labelled_matches": int(is_match.sum()), "started_from": before.meta.get("trained", "EM"),
                          "settings": settings_fingerprint(s), RESOLVED_SETTINGS: settings_to_dict(s)})
    rows = [{"model": name, "labelled_pairs": len(l), **_scores(x, vectors, is_match, veto, s)}
            for name, x in (("before", before), ("after", after))]
    logger.info("model train: %d labelled pairs (%d matches)", len(l), int(is_match.sum()))
    return TrainingResult(model=after, report=pd.DataFrame(rows), labelled=int(len(l)))


def save_trained(result: TrainingResult, path: str | Path) -> Path:
    """Write the trained model file (0600: it is derived from customer records)."""
    path = Path(path)
    path.write_text(result.model.to_json(), encoding="utf-8")
    path.chmod(0o600)
    return path
