"""The golden store's review tables (``review_decisions``, ``review_pairs``) and their migration.

Apart from :mod:`cdq.review.decisions` so the store's migrations (:mod:`cdq.store.schema`) can create them
without importing the review logic, which builds on the store (an import cycle otherwise).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["DECISIONS", "DECISION_COLUMNS", "metadata", "migrate_review_tables", "review_decisions", "review_pairs"]

metadata = sa.MetaData()
review_decisions = sa.Table(
    "review_decisions", metadata,
    sa.Column("ref_a", sa.String(500), primary_key=True), sa.Column("ref_b", sa.String(500), primary_key=True),
    sa.Column("decision", sa.String(10), nullable=False), sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_at", sa.String(40)), sa.Column("workbook", sa.String(500)), sa.Column("note", sa.Text),
)
#: Pairs the model left in the review band and no steward has decided yet: exported again every run.
review_pairs = sa.Table(
    "review_pairs", metadata,
    sa.Column("ref_a", sa.String(500), primary_key=True), sa.Column("ref_b", sa.String(500), primary_key=True),
    sa.Column("match_probability", sa.Float), sa.Column("match_weight", sa.Float),
    sa.Column("explanation", sa.Text), sa.Column("first_seen", sa.String(40)), sa.Column("last_seen", sa.String(40)),
)
DECISION_COLUMNS = ["ref_a", "ref_b", "decision", "decided_by", "decided_at", "workbook", "note"]
DECISIONS = ("match", "non_match")


def migrate_review_tables(conn: sa.Connection) -> None:
    """Store migration: the decisions table (with its ``note`` column) and the open review pairs."""
    metadata.create_all(conn, checkfirst=True)
    columns = {c["name"] for c in sa.inspect(conn).get_columns("review_decisions")}
    if "note" not in columns:
        conn.execute(sa.text("alter table review_decisions add column note text"))
