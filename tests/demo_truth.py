"""The demo's golden store scored against its own truth (``fixtures/truth.csv``, ``truth_entities.csv``).

Each stored source record is mapped to its true entity by where it came from: file, sheet/table and row
(the row a person sees, as ``truth.csv`` counts it); mail correspondents (one record per address, however
many messages) by their e-mail address. Junk records (``JUNK*``) are nobody and are left out of the pairs.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

NAME_PARTS = ["title", "initials", "first_name", "infix", "last_name"]


def _truth_key(file: str, table: str, row: str) -> str:
    return f"{Path(file).name}|{table}|{int(float(row))}"


def stored_records(store: Path) -> pd.DataFrame:
    """``ref, golden_id`` and the payload's columns of every stored source record."""
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select s.ref, x.golden_id, s.payload from source_records s join xref x on x.source_record_id = s.id"
        )).all()
    engine.dispose()
    payload = pd.DataFrame([json.loads(p) for _, _, p in rows])
    return payload.assign(ref=[r for r, _, _ in rows], golden_id=[g for _, g, _ in rows])


def entity_of(records: pd.DataFrame, fixtures: Path) -> pd.Series:
    """The true entity id of each stored record (None where the truth has no row for it)."""
    truth = pd.read_csv(fixtures / "truth.csv", dtype=str, keep_default_na=False)
    by_row = {_truth_key(f, t, r): e for f, t, r, e in zip(truth["file"], truth["table"], truth["row"],
                                                             truth["entity_id"])}
    mail = truth[truth["file"].str.startswith(("mail/", "mailbox"))]
    by_mail = {(f.split("/")[0].split(".")[0], m.lower()): e for f, m, e in zip(mail["file"], mail["email"],
                                                                             mail["entity_id"])}
    out = []
    for rec in records.to_dict("records"):
        file = str(rec.get("source_file") or "")
        name = Path(file.split("?")[0]).name
        if name in ("mail", "mailbox.mbox"):
            out.append(by_mail.get((name.split(".")[0], str(rec.get("email") or "").lower())))
            continue
        table = str(rec.get("source") or "").split(":")[1] if ":" in str(rec.get("source")) else ""
        row = rec.get("source_row") or 0
        if name == "erp.sqlite":  # an SQL table has no rows a person sees: the truth counts its key
            table, row = "klanten", rec.get("source_key") or 0
        out.append(by_row.get(_truth_key(name, table, row)))
    return pd.Series(out, index=records.index, dtype=object)


def _pairs(groups: pd.Series) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for members in groups.groupby(groups).groups.values():
        pairs.update(itertools.combinations(sorted(members), 2))
    return pairs


@dataclass
class DemoScore:
    """Pairwise precision/recall of the golden records, households merged, names less complete."""

    precision: float
    recall: float
    true_pairs: int
    found_pairs: int
    false_pairs: list[tuple[str, str]]
    missed_pairs: list[tuple[str, str]]
    households_merged: list[str]
    less_complete_names: list[str]
    unmapped: list[str]


def score(store: Path, fixtures: Path) -> DemoScore:
    """Score the demo's golden store against the fixtures' truth."""
    records = stored_records(store)
    records["entity"] = entity_of(records, fixtures)
    unmapped = records.loc[records["entity"].isna(), "ref"].tolist()
    people = records[records["entity"].notna() & ~records["entity"].astype(str).str.startswith("JUNK")]
    refs = people.set_index("ref")
    truth_pairs = _pairs(refs["entity"])
    found = _pairs(refs["golden_id"])
    hit = truth_pairs & found
    entities = pd.read_csv(fixtures / "truth_entities.csv", dtype=str, keep_default_na=False).set_index("entity_id")
    household = people["entity"].map(entities["household_id"])
    merged = [g for g, grp in people.assign(h=household).groupby("golden_id")
              if grp["entity"].nunique() > 1 and grp["h"].nunique() == 1 and grp["h"].iloc[0]]
    return DemoScore(
        precision=len(hit) / len(found) if found else 1.0, recall=len(hit) / len(truth_pairs) if truth_pairs else 1.0,
        true_pairs=len(truth_pairs), found_pairs=len(found), false_pairs=sorted(found - truth_pairs),
        missed_pairs=sorted(truth_pairs - found), households_merged=merged,
        less_complete_names=_less_complete(store, records), unmapped=unmapped)


def _less_complete(store: Path, records: pd.DataFrame) -> list[str]:
    """Golden ids whose name has fewer filled parts than one of its live source records' names."""
    engine = sa.create_engine(f"sqlite:///{store}")
    with engine.connect() as conn:
        golden = conn.execute(sa.text("select golden_id, data from golden_records where status = 'active'")).all()
    engine.dispose()
    filled = {g: sum(bool((json.loads(d) or {}).get(c)) for c in NAME_PARTS) for g, d in golden}
    parts = records.reindex(columns=NAME_PARTS).notna() & records.reindex(columns=NAME_PARTS).astype(str).ne("")
    best = parts.sum(axis=1).groupby(records["golden_id"]).max()
    return sorted(g for g, n in best.items() if g in filled and filled[g] < n)
