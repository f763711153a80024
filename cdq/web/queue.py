"""The review queue of the steward console: the open pairs of the clerical band, kept in the golden store.

Each run that exports ``review.xlsx`` also replaces the open queue (:func:`save_queue`): record refs,
probability, weight and the per-field explanation. The values shown are read from ``source_records`` when
the page is drawn, so the queue holds no copy of anyone's data. A console decision is stored exactly as
``cdq review apply`` stores a workbook's (:func:`cdq.review.decisions.save_decisions`, with who and when);
decided pairs leave the queue and every later run respects them.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from cdq.review.decisions import pair_key, review_decisions, save_decisions
from cdq.store import GoldenStore, chunks
from cdq.store.schema import now, source_records
from cdq.store.web import review_queue

__all__ = ["save_queue", "open_pairs", "decide", "records_of"]


def save_queue(store: GoldenStore, rows: pd.DataFrame) -> int:
    """Replace the open queue with the review rows of this run (:func:`cdq.review.workbook.review_rows`)."""
    a, b = pair_key(rows["ref A"].astype(str), rows["ref B"].astype(str)) if len(rows) else ([], [])
    items = [{"ref_a": x, "ref_b": y, "match_probability": float(p), "match_weight": float(w), "explanation": e,
              "queued_at": now()}
             for x, y, p, w, e in zip(a, b, rows.get("match probability", []), rows.get("match weight", []),
                                      rows.get("explanation", []))]
    items = list({(i["ref_a"], i["ref_b"]): i for i in items}.values())
    with store.begin() as conn:
        conn.execute(review_queue.delete())
        if items:
            conn.execute(review_queue.insert(), items)
    return len(items)


def open_pairs(store: GoldenStore) -> pd.DataFrame:
    """Queued pairs nobody decided yet, strongest first."""
    decided = sa.select(review_decisions.c.ref_a).where(review_decisions.c.ref_a == review_queue.c.ref_a,
                                                        review_decisions.c.ref_b == review_queue.c.ref_b)
    with store.engine.connect() as conn:
        review_decisions.create(conn, checkfirst=True)
        conn.commit()
        rows = conn.execute(sa.select(review_queue).where(~decided.exists())
                            .order_by(review_queue.c.match_probability.desc(), review_queue.c.ref_a)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=[c.name for c in review_queue.c])


def records_of(store: GoldenStore, refs: list[str]) -> dict[str, dict]:
    """ref → the stored canonical values of that source record."""
    out: dict[str, dict] = {}
    with store.engine.connect() as conn:
        for chunk in chunks(refs):
            q = sa.select(source_records.c.ref, source_records.c.payload).where(source_records.c.ref.in_(chunk))
            out.update({ref: json.loads(payload) for ref, payload in conn.execute(q).all()})
    return out


def decide(store: GoldenStore, ref_a: str, ref_b: str, decision: str, decided_by: str) -> int:
    """Store one decision (``match`` / ``non_match``) as the review workbook's are stored."""
    frame = pd.DataFrame([{"ref_a": ref_a, "ref_b": ref_b, "decision": decision, "decided_by": decided_by,
                           "decided_at": now(), "workbook": "steward console"}])
    return save_decisions(str(store.engine.url.render_as_string(hide_password=False)), frame)
