"""The review queue of the steward console: the open pairs of :mod:`cdq.review.steward`, decided in the browser.

Every run stores its clerical review band in the golden store (``review_pairs``: refs, probability,
explanation; no copy of anyone's values). The console shows the undecided pairs with the two source
records' current values, and a decision goes through :func:`cdq.review.steward.decide` exactly as a
``cdq review apply`` workbook's does: applied to the store at once (a match joins the golden records unless
a cannot-link rule refuses it; a no-match splits them), stored with who and when, never asked again.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from cdq.store import GoldenStore, chunks
from cdq.store.schema import source_records

__all__ = ["open_pairs", "decide", "records_of"]


def open_pairs(store: GoldenStore) -> pd.DataFrame:
    """Undecided pairs, strongest first."""
    from cdq.review.steward import open_pairs as undecided

    pairs = undecided(store)
    if pairs.empty:
        return pairs
    return pairs.sort_values(["match_probability", "ref_a"], ascending=[False, True]).reset_index(drop=True)


def records_of(store: GoldenStore, refs: list[str]) -> dict[str, dict]:
    """ref → the stored canonical values of that source record."""
    out: dict[str, dict] = {}
    with store.engine.connect() as conn:
        for chunk in chunks(refs):
            q = sa.select(source_records.c.ref, source_records.c.payload).where(source_records.c.ref.in_(chunk))
            out.update({ref: json.loads(payload) for ref, payload in conn.execute(q).all()})
    return out


def decide(store: GoldenStore, ref_a: str, ref_b: str, decision: str, decided_by: str, *,
           force: bool = False) -> dict:
    """Apply and store one decision; the outcome row (``action``: joined / split / stored / refused, ``reason``)."""
    from cdq.review.steward import decide as apply_and_store
    from cdq.survivorship import load_rules

    frame = pd.DataFrame([{"ref_a": ref_a, "ref_b": ref_b, "decision": decision, "force": force}])
    outcome = apply_and_store(store, frame, load_rules(), decided_by=decided_by, workbook="steward console")
    return outcome.iloc[0].to_dict()
