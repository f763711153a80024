"""Explain a golden record and a pair: ``cdq explain GOLDEN_ID`` and ``cdq why REF_A REF_B``.

``cdq explain O0000005`` (:func:`explain_organisation`) shows a golden organisation: its values with source and
rule, its locations (one golden record per branch) and its contacts.

:func:`explain_golden` gives every golden value with the source record and the survivorship rule that
produced it (the stored lineage), the member records (with the rule that linked each: ``linkage``,
``steward_match``, ``steward_split``, ...) and, for the members, why they matched: each pair's match
probability and per-field evidence. :func:`why` scores one pair of stored records field by field and says
whether a cannot-link rule keeps them apart.

Pairs are scored with the linkage model of the last pipeline run (``linkage_model.json`` in its work
directory, beside a SQLite store), or a model given explicitly; without one, a model is trained on a sample
of the stored records.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.errors import UsageError
from cdq.linkage import FSModel
from cdq.store import GoldenStore

logger = logging.getLogger(__name__)
MODEL_FILE = "linkage_model.json"
#: Records sampled from the store to train a model when no saved one is found.
TRAIN_SAMPLE = 20_000


@dataclass
class GoldenExplanation:
    """Everything about one golden record: ``values`` (column, value, record, rule), ``members``, ``pairs``."""

    golden_id: str
    asked: str
    status: str
    version: int
    values: pd.DataFrame
    members: pd.DataFrame
    pairs: pd.DataFrame
    #: the golden organisation of a location or contact (``O0000005 Handel Enschede, 3 locations``), else None
    organisation: str | None = None


@dataclass
class OrganisationExplanation:
    """A golden organisation: ``values`` (column, value, source, record, rule), its ``locations`` (one golden
    record per branch: address, phone, e-mail) and its ``contacts`` (persons)."""

    organisation_id: str
    asked: str
    status: str
    version: int
    values: pd.DataFrame
    locations: pd.DataFrame
    contacts: pd.DataFrame


def find_model(store: GoldenStore, model: str | Path | None = None) -> FSModel:
    """The given model file, the last run's (beside a SQLite store), or one trained on stored records."""
    from cdq.linkage import dedupe
    from cdq.linkage.model import load_model

    if model is not None:
        return load_model(model)
    database = store.engine.url.database
    if store.engine.url.get_backend_name() == "sqlite" and database:
        saved = Path(database).parent / MODEL_FILE
        if saved.is_file():
            return load_model(saved)
    from cdq.golden import stored_records

    records = stored_records(store)
    if len(records) < 2:
        raise UsageError("the golden store has too few records to explain a match", hint="give --model FILE")
    logger.info("no saved linkage model: training one on %d stored records", min(len(records), TRAIN_SAMPLE))
    return dedupe(records.sample(min(len(records), TRAIN_SAMPLE), random_state=0)).model


def _records(store: GoldenStore, refs: list[str]) -> pd.DataFrame:
    from cdq.review.steward import _records as stored

    frame = stored(store, refs)
    missing = sorted(set(refs) - set(frame["record_id"]))
    if missing:
        raise UsageError(f"no stored source record {missing[0]!r}",
                         hint="a ref is SOURCE|KEY as in the store's source_records table, e.g. erp|K1042")
    return frame


def _evidence(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per pair: refs, probability, weight, decision, cannot-link, and the per-field explanation text."""
    from cdq.review.workbook import explanation

    out = pairs[["record_id_l", "record_id_r", "match_probability", "match_weight", "decision", "cannot_link"]]
    out = out.rename(columns={"record_id_l": "ref_a", "record_id_r": "ref_b"})
    return out.assign(match_probability=out["match_probability"].round(4), match_weight=out["match_weight"].round(2),
                      explanation=explanation(pairs).to_numpy()).reset_index(drop=True)


def why(store: GoldenStore, ref_a: str, ref_b: str, *, model: str | Path | None = None) -> pd.DataFrame:
    """One row per comparison of the pair: ``field, level, weight`` (strongest evidence first), then totals.

    The last rows are ``total`` (match weight, probability in ``level``) and ``decision`` (match / review /
    non_match, and ``cannot-link`` when a rule keeps the two apart).
    """
    from cdq.linkage import compare_pairs

    records = _records(store, [ref_a, ref_b])
    a, b = records[records["record_id"] == ref_a], records[records["record_id"] == ref_b]
    pair = compare_pairs(a.drop(columns=["id"]), b.drop(columns=["id"]), find_model(store, model)).iloc[0]
    names = [c[: -len("_level")] for c in pair.index if c.endswith("_level")]
    rows = [{"field": n, "level": str(pair[f"{n}_level"]), "weight": round(float(pair[f"{n}_weight"]), 2)}
            for n in names if str(pair[f"{n}_level"]) != "missing"]
    rows.sort(key=lambda r: -abs(r["weight"]))
    rows.append({"field": "total", "level": f"probability {pair['match_probability']:.4f}",
                 "weight": round(float(pair["match_weight"]), 2)})
    rows.append({"field": "decision", "level": str(pair["decision"]) + (" (cannot-link)" if pair["cannot_link"] else ""),
                 "weight": None})
    golden = dict(zip(records["record_id"], records["golden_id"]))
    rows.append({"field": "golden records", "level": f"{golden[ref_a]} / {golden[ref_b]}", "weight": None})
    return pd.DataFrame(rows, columns=["field", "level", "weight"])


def explain_golden(store: GoldenStore, golden_id: str, *, model: str | Path | None = None,
                   max_pairs: int = 50) -> GoldenExplanation:
    """Values with their source and rule, the member records, and why the members matched."""
    from cdq.linkage import compare_pairs

    resolved = store.resolve(golden_id)
    with store.engine.connect() as conn:
        row = store.golden(conn, [resolved])
        members = store.members(conn, [resolved])
    if row.empty:
        raise UsageError(f"no golden record {golden_id!r}", hint="golden ids look like G0000042")
    row = row.iloc[0]
    lineage = pd.DataFrame(json.loads(row["lineage"] or "[]"), columns=["column", "value", "record", "rule"])
    source = members.set_index("ref")["payload"].map(lambda p: json.loads(p).get("source"))
    lineage["source"] = lineage["record"].map(
        lambda r: ";".join(sorted({str(source.get(x, "steward" if str(x).startswith("steward:") else ""))
                                   for x in str(r).split(";")})))
    shown = members.assign(source=members["ref"].map(source), live=members["deleted_run"].isna())
    shown = shown[["ref", "source", "rule", "match_score", "pinned", "live"]].reset_index(drop=True)
    live = shown.loc[shown["live"], "ref"].tolist()
    pairs = pd.DataFrame(columns=["ref_a", "ref_b", "match_probability", "match_weight", "decision",
                                  "cannot_link", "explanation"])
    if len(live) > 1:
        records = _records(store, live).drop(columns=["id"])
        scored = compare_pairs(records, records, find_model(store, model))
        scored = scored[scored["record_id_l"].astype(str) < scored["record_id_r"].astype(str)]
        pairs = _evidence(scored.sort_values("match_weight", ascending=False).head(max_pairs))
    return GoldenExplanation(resolved, golden_id, str(row["status"]), int(row["version"]),
                             lineage[["column", "value", "source", "record", "rule"]], shown, pairs,
                             _organisation_line(store, resolved))


def _organisation_line(store: GoldenStore, golden_id: str) -> str | None:
    from cdq.organisations import organisation_frame, organisation_of_members

    organisation = organisation_of_members(store, [golden_id]).get(golden_id)
    if organisation is None:
        return None
    row = organisation_frame(store, ids=[organisation]).iloc[0]
    count = len(str(row["locations"]).split(";")) if isinstance(row["locations"], str) else 0
    return f"{organisation} {row.get('company_name') or ''}, {count} location(s)"


#: What a location or a contact is shown with under its organisation.
LOCATION_COLUMNS = ["golden_id", "street", "house_number", "house_letter", "house_number_addition", "postcode",
                    "city", "phone", "email"]
CONTACT_COLUMNS = ["golden_id", "initials", "first_name", "infix", "last_name", "email", "phone", "mobile"]


def _resolve_organisation(store: GoldenStore, organisation_id: str) -> str:
    from cdq.organisations import organisation_frame

    seen: set[str] = set()
    while organisation_id not in seen:
        seen.add(organisation_id)
        found = organisation_frame(store, ids=[organisation_id])
        if found.empty or not isinstance(found.iloc[0]["merged_into"], str):
            return organisation_id
        organisation_id = found.iloc[0]["merged_into"]
    return organisation_id


def explain_organisation(store: GoldenStore, organisation_id: str) -> OrganisationExplanation:
    """A golden organisation's values with their source record and rule, its locations and its contacts."""
    from cdq.golden import golden_frame
    from cdq.organisations import organisation_frame

    resolved = _resolve_organisation(store, organisation_id)
    found = organisation_frame(store, ids=[resolved])
    if found.empty:
        raise UsageError(f"no golden organisation {organisation_id!r}", hint="organisation ids look like O0000005")
    row = found.iloc[0]
    with store.engine.connect() as conn:
        from cdq.store.schema import organisations

        lineage_text = conn.execute(sa.select(organisations.c.lineage)
                                    .where(organisations.c.organisation_id == resolved)).scalar()
        ids = [g for role in ("locations", "contacts") if isinstance(row[role], str) for g in row[role].split(";")]
        golden = golden_frame(store.golden(conn, ids).drop(columns=["seq"])) if ids else pd.DataFrame()
        members = store.members(conn, ids)
    lineage = pd.DataFrame(json.loads(lineage_text or "[]"), columns=["column", "value", "record", "rule"])
    source = members.set_index("ref")["payload"].map(lambda p: json.loads(p).get("source"))
    lineage["source"] = lineage["record"].map(lambda r: source.get(r, ""))

    def part(role: str, columns: list[str]) -> pd.DataFrame:
        wanted = str(row[role]).split(";") if isinstance(row[role], str) else []
        return golden[golden["golden_id"].isin(wanted)].reindex(columns=columns).reset_index(drop=True) \
            if len(golden) else pd.DataFrame(columns=columns)

    return OrganisationExplanation(resolved, organisation_id, str(row["status"]), int(row["version"]),
                                   lineage[["column", "value", "source", "record", "rule"]],
                                   part("locations", LOCATION_COLUMNS), part("contacts", CONTACT_COLUMNS))
