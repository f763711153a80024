"""The steward review loop: export the uncertain pairs to a workbook, import the decisions, respect them.

1. :func:`export_review` writes the review band (pairs whose ``decision`` is ``review``) to an ``.xlsx``
   workbook: one row per pair, records side by side, differences highlighted, a decision drop-down.
2. A steward decides in Excel or LibreOffice and saves (``.xlsx`` or ``.ods``).
3. :func:`apply_review` applies the decisions to the golden store at once (:mod:`cdq.review.steward`:
   matches join golden records unless a cannot-link rule refuses, no-matches split them) and stores them
   (table ``review_decisions``, with the steward's note).
4. Every later run calls :func:`apply_decisions` (decided pairs leave the review band, the model never
   overrides them) and :func:`steward_clusters` (steward matches link, steward non-matches split, on top
   of the linkage's own guarded clusters); undecided pairs are stored and exported again every run.
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cdq.review.decisions import apply_decisions, load_decisions, recluster, steward_clusters
from cdq.review.workbook import read_decisions, review_rows, write_workbook
from cdq.survivorship import Rules

__all__ = ["DecisionResult", "apply_decisions", "apply_review", "export_review", "load_decisions", "recluster",
           "steward_clusters"]

logger = logging.getLogger(__name__)


def export_review(pairs: pd.DataFrame, records: pd.DataFrame, path: str | Path,
                  decisions: pd.DataFrame | None = None) -> Path:
    """Write the review workbook for the pairs still in the review band; returns its path.

    Args:
        pairs: linkage pairs (``record_id_l, record_id_r, match_probability, match_weight, decision`` and
            the per-field ``<name>_level``/``<name>_weight`` columns).
        records: the records the pairs refer to (``record_id`` and canonical columns).
        path: the ``.xlsx`` to write.
        decisions: stored decisions (:func:`load_decisions`); pairs already decided are left out.
    """
    if decisions is not None and len(decisions):
        pairs = apply_decisions(pairs, decisions, records)
    rows = review_rows(pairs, records)
    logger.info("review: %d pairs exported", len(rows))
    return write_workbook(rows, path)


@dataclass
class DecisionResult:
    """What an import of a review workbook did."""

    workbook: Path
    decisions: pd.DataFrame
    stored: int
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def counts(self) -> dict[str, int]:
        counted = self.decisions["decision"].value_counts()
        return {"match": int(counted.get("match", 0)), "non_match": int(counted.get("non_match", 0))}

    def line(self) -> str:
        c = self.counts
        refused = int(self.outcomes["action"].eq("refused").sum()) if len(self.outcomes) else 0
        return (f"review: {c['match']} match, {c['non_match']} no match from {self.workbook.name}; "
                f"{self.stored} stored, {refused} refused")


def apply_review(workbook: str | Path, store_url: str, decided_by: str | None = None,
                 rules: Rules | None = None) -> DecisionResult:
    """Read the decisions of a (re-saved) review workbook, apply them to the golden store now, store them.

    See :mod:`cdq.review.steward`: matches join golden records (a cannot-link rule refuses, unless
    ``force match``), no-matches split them; ``outcomes`` says per pair what happened.
    """
    from cdq.review.steward import decide
    from cdq.store import GoldenStore
    from cdq.survivorship import load_rules

    workbook = Path(workbook)
    decided = read_decisions(workbook)
    store = GoldenStore(store_url)
    outcomes = decide(store, decided, rules or load_rules(), decided_by=decided_by or _user(),
                      workbook=workbook.name)
    return DecisionResult(workbook, decided, int(outcomes["action"].ne("refused").sum()), outcomes)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): still record that a steward decided
        return "steward"
