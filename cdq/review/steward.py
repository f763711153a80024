"""Steward decisions applied to the golden store at once, and the open review pairs kept between runs.

:func:`apply_to_store` (``cdq review apply``) acts on each decided pair now, not on some later run:

- ``match``: the two records' golden records are joined into the older one (:func:`cdq.golden.join_golden`,
  undoable with ``cdq unmerge``), unless a cannot-link rule keeps a record of one apart from a record of
  the other (a different gender, birth date, first name, a person against an organisation): then the
  match is refused with the rule's name and not stored, unless the steward chose ``force match``.
- ``no match``: two records in one golden record are split even when other records link them: the newer
  of the two (the later one in the store) is taken out into a golden record of its own and pinned there
  (:func:`cdq.golden.split_record`); every other record stays with the golden id. Later runs keep them apart.

The review band of every run is stored (table ``review_pairs``) and :func:`export_open` writes every pair
still undecided, with each record's current golden record, so an undecided pair is asked again each run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.review.decisions import load_decisions, pair_key, save_decisions
from cdq.review.tables import review_pairs
from cdq.store import GoldenStore
from cdq.survivorship import Rules

logger = logging.getLogger(__name__)

OUTCOME_COLUMNS = ["ref_a", "ref_b", "decision", "golden_a", "golden_b", "action", "golden_after", "reason"]


def _records(store: GoldenStore, refs: list[str]) -> pd.DataFrame:
    """Stored source records by ref: ``record_id`` (= ref), payload columns, ``golden_id``, ``id``."""
    from cdq.golden import PAYLOAD_COLUMNS

    with store.engine.connect() as conn:
        found = store.lookup_sources(conn, refs)
        payload = _payloads(store, conn, found["id"].astype(int).tolist())
    frame = pd.DataFrame([json.loads(payload[int(i)]) for i in found["id"]], columns=PAYLOAD_COLUMNS)
    frame.insert(0, "record_id", found["ref"].to_numpy())
    frame["ref"] = found["ref"].to_numpy()
    frame["golden_id"] = [store.resolve(g) if isinstance(g, str) else None for g in found["golden_id"]]
    frame["id"] = found["id"].astype(int).to_numpy()
    return frame


def _payloads(store: GoldenStore, conn: sa.Connection, ids: list[int]) -> dict[int, str]:
    from cdq.store.schema import source_records

    rows = conn.execute(sa.select(source_records.c.id, source_records.c.payload)
                        .where(source_records.c.id.in_(ids or [-1]))).all()
    return {int(i): p for i, p in rows}


def _members(store: GoldenStore, golden_id: str) -> pd.DataFrame:
    with store.engine.connect() as conn:
        refs = store.members(conn, [golden_id])
    live = refs[refs["deleted_run"].isna()]
    return _records(store, live["ref"].tolist())


def _apply_match(store: GoldenStore, row, rules: Rules, run_id: int) -> tuple[str, str | None, str]:
    from cdq.golden import join_golden
    from cdq.linkage import cannot_links

    a, b = _members(store, row.golden_a), _members(store, row.golden_b)
    conflicts = cannot_links(a, b)
    if len(conflicts) and not row.force:
        first = conflicts.iloc[0]
        reason = (f"refused: a cannot-link rule keeps them apart ({first['reason']}: {first['record_id_l']} vs "
                  f"{first['record_id_r']}"
                  + (f", and {len(conflicts) - 1} more record pair(s)" if len(conflicts) > 1 else "")
                  + "); choose 'force match' to join them anyway")
        return "refused", None, reason
    result = join_golden(store, [row.golden_a, row.golden_b], rules, run_id=run_id)
    survivor = result.merges["survivor_id"].iloc[0]
    forced = f" (forced over: {', '.join(sorted(set(conflicts['reason'])))})" if len(conflicts) else ""
    return "joined", survivor, f"{result.merges['retired_id'].iloc[0]} merged into {survivor}{forced}"


def _apply_no_match(store: GoldenStore, row, records: pd.DataFrame, rules: Rules,
                    run_id: int) -> tuple[str, str | None, str]:
    from cdq.golden import split_record

    ids = records.set_index("record_id")["id"]
    newer = row.ref_a if ids[row.ref_a] > ids[row.ref_b] else row.ref_b
    result = split_record(store, newer, rules, run_id=run_id)
    new = result.xref["golden_id"].iloc[0]
    return "split", new, f"{newer} taken out of {row.golden_a} into {new} (pinned); the other records stay"


def apply_to_store(store: GoldenStore, decisions: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Act on decided pairs now (see module doc); returns one outcome row per pair (:data:`OUTCOME_COLUMNS`).

    ``decisions``: ``ref_a, ref_b, decision`` (match / non_match) and optionally ``force`` (bool).
    Refused matches are not stored as decisions (the pair stays open); every other decision is.
    """
    rows = []
    for decided in decisions.assign(force=decisions.get("force", False)).itertuples(index=False):
        records = _records(store, [decided.ref_a, decided.ref_b])
        known = dict(zip(records["record_id"], records["golden_id"]))
        row = pd.Series({**decided._asdict(), "golden_a": known.get(decided.ref_a),
                         "golden_b": known.get(decided.ref_b)})
        if row.golden_a is None or row.golden_b is None:
            action, after, reason = "stored", None, "not in the golden store yet: applied when it arrives"
        elif decided.decision == "match" and row.golden_a == row.golden_b:
            action, after, reason = "stored", row.golden_a, "already one golden record"
        elif decided.decision == "non_match" and row.golden_a != row.golden_b:
            action, after, reason = "stored", None, "already apart; kept apart in later runs"
        else:
            run_id = store.start_run("review")
            if decided.decision == "match":
                action, after, reason = _apply_match(store, row, rules, run_id)
            else:
                action, after, reason = _apply_no_match(store, row, records, rules, run_id)
            store.finish_run(run_id, status="ok" if action != "refused" else "refused", counts={"review": action})
        rows.append({**{c: row.get(c) for c in ("ref_a", "ref_b", "decision", "golden_a", "golden_b")},
                     "action": action, "golden_after": after, "reason": reason})
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS)


def save_open_pairs(store: GoldenStore, pairs: pd.DataFrame, records: pd.DataFrame) -> int:
    """Remember this run's review band (by stable refs); returns how many pairs are stored."""
    from cdq.golden import record_refs
    from cdq.review.workbook import explanation

    band = pairs[pairs["decision"].astype(str).eq("review")]
    if band.empty:
        return 0
    refs = pd.Series(record_refs(records).to_numpy(), index=records["record_id"].astype(str).to_numpy())
    refs = refs[~refs.index.duplicated()]
    a, b = pair_key(band["record_id_l"].astype(str).map(refs), band["record_id_r"].astype(str).map(refs))
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = pd.DataFrame({"ref_a": a.to_numpy(), "ref_b": b.to_numpy(),
                         "match_probability": pd.to_numeric(band["match_probability"], errors="coerce").to_numpy(),
                         "match_weight": pd.to_numeric(band["match_weight"], errors="coerce").to_numpy(),
                         "explanation": explanation(band).to_numpy(), "last_seen": now}).dropna(subset=["ref_a", "ref_b"])
    with store.begin() as conn:
        seen = {tuple(r) for r in conn.execute(sa.select(review_pairs.c.ref_a, review_pairs.c.ref_b)).all()}
        for row in rows.to_dict("records"):
            key = (row["ref_a"], row["ref_b"])
            if key in seen:
                conn.execute(review_pairs.update().where(review_pairs.c.ref_a == key[0], review_pairs.c.ref_b == key[1])
                             .values(**{k: v for k, v in row.items() if k not in ("ref_a", "ref_b")}))
            else:
                conn.execute(review_pairs.insert().values(**row, first_seen=now))
    return len(rows)


def open_pairs(store: GoldenStore) -> pd.DataFrame:
    """Stored review pairs no steward has decided, whose two records are both still live."""
    decided = load_decisions(store.url)
    with store.engine.connect() as conn:
        pairs = pd.DataFrame([tuple(r) for r in conn.execute(sa.select(review_pairs)).all()],
                             columns=[c.name for c in review_pairs.c])
    if pairs.empty:
        return pairs
    done = set(zip(decided["ref_a"], decided["ref_b"]))
    return pairs[[(a, b) not in done for a, b in zip(pairs["ref_a"], pairs["ref_b"])]].reset_index(drop=True)


def export_open(store: GoldenStore, path: str | Path) -> tuple[Path | None, int]:
    """Write every open pair to the review workbook, with each record's current golden record."""
    from cdq.review.workbook import review_rows, write_workbook

    pairs = open_pairs(store)
    if pairs.empty:
        return None, 0
    records = _records(store, sorted(set(pairs["ref_a"]) | set(pairs["ref_b"])))
    live = set(records["record_id"])
    pairs = pairs[pairs["ref_a"].isin(live) & pairs["ref_b"].isin(live)]
    band = pairs.rename(columns={"ref_a": "record_id_l", "ref_b": "record_id_r"}).assign(decision="review")
    rows = review_rows(band, records.drop(columns=["id"]))
    logger.info("review: %d open pairs exported", len(rows))
    return write_workbook(rows, path), len(rows)


def decide(store: GoldenStore, decisions: pd.DataFrame, rules: Rules, *, decided_by: str,
           workbook: str = "") -> pd.DataFrame:
    """Apply decisions to the store now and remember them (except refused matches); returns the outcomes."""
    outcomes = apply_to_store(store, decisions, rules)
    keep = decisions.reset_index(drop=True)[outcomes["action"].ne("refused").to_numpy()]
    if len(keep):
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        save_decisions(store.url, keep.assign(decided_by=decided_by, decided_at=now, workbook=workbook))
    return outcomes
