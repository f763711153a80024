"""Find a data subject's golden records, and export everything held about one (AVG art. 15).

:func:`find_subjects` cleans the query like any input record and matches it against the stored source
records with the linkage model, so "J. de Vries, 1234AB" finds every record the pipeline would link;
exact e-mail and phone hits are added. :func:`export_subject` writes ``subject_<id>.json`` (every golden
value with lineage, every source record with its source, file and dates, versions, merge history, review
decisions, steward overrides, CRM ids and load history) and ``subject_<id>.html`` (the same as a letter
in Dutch), both readable by the owner only.
"""

from __future__ import annotations

import html
import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from cdq.columns import CANONICAL
from cdq.errors import UsageError
from cdq.privacy.erase import subject_tree
from cdq.privacy.keys import initial_of, surname_key
from cdq.store import GoldenStore, chunks
from cdq.store.schema import events, golden_records, golden_versions, overrides, runs, source_records, xref

__all__ = ["find_subjects", "export_subject", "subject_report"]

logger = logging.getLogger(__name__)
QUERY_FIELDS = ("name", "first_name", "last_name", "birth_date", "postcode", "house_number", "email", "phone", "company_name")


def _query_frame(query: dict) -> pd.DataFrame:
    from cdq.normalize import normalize

    raw = {k: v for k, v in query.items() if v}
    if raw.get("name"):  # "J. de Vries", "Jan de Vries", "Vries, J. de": split as the importers do
        from cdq.normalize.name_parsing import split_name

        parts = split_name(raw.pop("name"))
        raw.update({k: v for k, v in vars(parts).items() if v and k in ("initials", "first_name", "infix", "last_name")})
    frame = pd.DataFrame([{"record_id": "query", "source": "subject_query", **raw}]).reindex(columns=CANONICAL)
    cleaned, _ = normalize(frame)
    return cleaned


def _golden_of(conn: sa.Connection, refs: list[str]) -> dict[str, str]:
    j = source_records.join(xref, xref.c.source_record_id == source_records.c.id)
    out: dict[str, str] = {}
    for chunk in chunks(refs):
        out.update(conn.execute(sa.select(source_records.c.ref, xref.c.golden_id).select_from(j)
                                .where(source_records.c.ref.in_(chunk))).all())
    return out


def find_subjects(store: GoldenStore, *, golden_id: str | None = None, **query: str | None) -> pd.DataFrame:
    """Golden records of the person described by ``query`` (:data:`QUERY_FIELDS`), best first.

    Columns: ``golden_id, match_probability, matched_records, how``. ``golden_id`` alone just resolves
    a (possibly merged) id to the record that holds the person now.
    """
    from cdq.golden import stored_records
    from cdq.linkage import link

    unknown = set(query) - set(QUERY_FIELDS)
    if unknown:
        raise UsageError(f"unknown search field(s): {', '.join(sorted(unknown))}")
    columns = ["golden_id", "match_probability", "matched_records", "how"]
    if golden_id:
        with store.engine.connect() as conn:
            return pd.DataFrame([[subject_tree(conn, golden_id)[0], 1.0, 0, "golden id"]], columns=columns)
    if not any(query.values()):
        raise UsageError("say whom to look for: --golden-id, --email, --phone, or --name with --postcode/--birth-date")
    stored = stored_records(store)
    if stored.empty:
        return pd.DataFrame(columns=columns)
    wanted = _query_frame(query)
    hits = _exact_hits(wanted.iloc[0], stored) + _name_hits(wanted.iloc[0], stored)
    result = link(wanted, stored)
    pairs = result.pairs[result.pairs["decision"].isin(["match", "review"])]
    other = pairs["record_id_r"].where(pairs["record_id_l"] == "query", pairs["record_id_l"])
    hits += [(rid, float(p), "linkage model") for rid, p in zip(other, pairs["match_probability"])]
    if not hits:
        return pd.DataFrame(columns=columns)
    found = pd.DataFrame(hits, columns=["record_id", "match_probability", "how"])
    found["ref"] = found["record_id"].str.removeprefix("stored:")
    with store.engine.connect() as conn:
        found["golden_id"] = found["ref"].map(_golden_of(conn, found["ref"].unique().tolist()))
        found["golden_id"] = [subject_tree(conn, g)[0] for g in found["golden_id"]]
    grouped = found.groupby("golden_id").agg(
        match_probability=("match_probability", "max"), matched_records=("ref", "nunique"),
        how=("how", lambda s: ", ".join(sorted(set(s))))).reset_index()
    return grouped.sort_values(["match_probability", "golden_id"], ascending=[False, True])[columns].reset_index(drop=True)


def _exact_hits(wanted: pd.Series, stored: pd.DataFrame) -> list[tuple[str, float, str]]:
    hits = []
    email = str(wanted.get("email") or "").strip().lower()
    if email:
        same = stored["email"].fillna("").str.strip().str.lower() == email
        hits += [(rid, 1.0, "same e-mail") for rid in stored.loc[same, "record_id"]]
    for column in ("phone", "mobile"):
        value = wanted.get(column)
        if isinstance(value, str) and value:
            same = stored["phone"].eq(value) | stored["mobile"].eq(value)
            hits += [(rid, 1.0, "same phone") for rid in stored.loc[same, "record_id"]]
    return hits


def _name_hits(wanted: pd.Series, stored: pd.DataFrame) -> list[tuple[str, float, str]]:
    """Same surname (without particles) and initial, plus the same postcode, house number or birth date.

    A search gives two or three fields where the linkage model was trained on whole records, so records
    that agree on every field the query has are found here even when the model would want more evidence.
    """
    surname = surname_key(wanted.get("last_name"), wanted.get("infix"))
    if not surname:
        return []
    keys = stored["last_name"].combine(stored["infix"], surname_key)
    initial = initial_of(wanted)
    theirs = stored["first_name"].fillna(stored["initials"]).fillna("").map(lambda v: initial_of({"first_name": v}))
    same = (keys == surname) & ((theirs == "") | (initial == "") | (theirs == initial))
    evidence = pd.Series(False, index=stored.index)
    labels = []
    for column, label in (("postcode", "postcode"), ("birth_date", "birth date")):
        value = wanted.get(column)
        if isinstance(value, str) and value:
            agrees = stored[column].fillna("").str.replace(" ", "") == value.replace(" ", "")
            number = wanted.get("house_number")
            if column == "postcode" and isinstance(number, str) and number:
                agrees &= stored["house_number"].fillna("").astype(str) == number
            evidence |= agrees
            labels.append(label)
    if not labels:
        return []
    how = "same name and " + " or ".join(labels)
    return [(rid, 0.9, how) for rid in stored.loc[same & evidence, "record_id"]]


def _rows(conn: sa.Connection, query) -> list[dict]:
    return [{k: v for k, v in dict(r).items()} for r in conn.execute(query).mappings().all()]


def _crm_history(conn: sa.Connection, ids: list[str]) -> dict[str, list[dict]]:
    """Cross-reference and change log of remote CRMs kept in the store's database (no values in them)."""
    out = {}
    for name in ("cdq_crm_xref", "cdq_crm_change"):
        if sa.inspect(conn).has_table(name):
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            out[name.removeprefix("cdq_crm_")] = _rows(conn, sa.select(table).where(table.c.golden_id.in_(ids)))
    return out


def subject_report(store: GoldenStore, golden_id: str) -> dict:
    """Everything the golden store holds about the person of ``golden_id`` (plain JSON-able data)."""
    from cdq.review.tables import review_decisions

    with store.engine.connect() as conn:
        ids = subject_tree(conn, golden_id)
        run_dates = dict(conn.execute(sa.select(runs.c.run_id, runs.c.started_at)).all())
        golden = _rows(conn, sa.select(golden_records).where(golden_records.c.golden_id.in_(ids)))
        for row in golden:
            row["data"], row["lineage"] = json.loads(row["data"] or "{}"), json.loads(row["lineage"] or "{}")
        j = source_records.join(xref, xref.c.source_record_id == source_records.c.id)
        sources = _rows(conn, sa.select(source_records, xref.c.golden_id, xref.c.match_score, xref.c.rule)
                        .select_from(j).where(xref.c.golden_id.in_(ids)))
        for row in sources:
            row["values"] = {k: v for k, v in json.loads(row.pop("payload")).items() if v is not None}
            for k in ("first_run", "last_run", "deleted_run"):
                row[k.replace("run", "seen_at")] = run_dates.get(row[k])
        refs = [r["ref"] for r in sources]
        decisions = []
        if sa.inspect(conn).has_table("review_decisions") and refs:
            t = review_decisions
            decisions = _rows(conn, sa.select(t).where(t.c.ref_a.in_(refs) | t.c.ref_b.in_(refs)))
        report: dict[str, Any] = {
            "golden_id": ids[0], "golden_ids": ids, "golden_records": golden,
            "source_records": sources,
            "versions": _rows(conn, sa.select(golden_versions).where(golden_versions.c.golden_id.in_(ids))
                              .order_by(golden_versions.c.golden_id, golden_versions.c.version)),
            "history": _rows(conn, sa.select(events).where(events.c.survivor_id.in_(ids) | events.c.retired_id.in_(ids))
                             .order_by(events.c.id)),
            "review_decisions": decisions,
            "steward_overrides": _rows(conn, sa.select(overrides).where(overrides.c.golden_id.in_(ids))),
            "crm": _crm_history(conn, ids),
        }
    for version in report["versions"]:
        version["data"] = json.loads(version["data"] or "{}")
        version.pop("lineage", None)
    for event in report["history"]:
        event["detail"] = json.loads(event["detail"] or "{}")
    report["corrections"] = [s for s in sources if s["source"] in ("customer_self_service", "adviser_verification")]
    return report


def _private_write(path: Path, text: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def export_subject(store: GoldenStore, golden_id: str, out_dir: str | Path) -> dict[str, Path]:
    """Write the right-of-access export of one golden record: JSON and a Dutch HTML letter (owner-only)."""
    report = subject_report(store, golden_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"subject_{report['golden_id']}"
    return {
        "json": _private_write(out / f"{stem}.json", json.dumps(report, indent=2, ensure_ascii=False, default=str)),
        "html": _private_write(out / f"{stem}.html", _letter(report)),
    }


_LABELS = {"title": "Titel", "initials": "Voorletters", "first_name": "Voornaam", "infix": "Tussenvoegsel",
           "last_name": "Achternaam", "gender": "Geslacht", "birth_date": "Geboortedatum", "street": "Straat",
           "house_number": "Huisnummer", "house_letter": "Huisletter", "house_number_addition": "Toevoeging",
           "postcode": "Postcode", "city": "Plaats", "country": "Land", "email": "E-mail", "phone": "Telefoon",
           "mobile": "Mobiel", "company_name": "Bedrijfsnaam", "adviser": "Adviseur"}


def _table(rows: list[tuple[str, object]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _letter(report: dict) -> str:
    """The export as a self-contained Dutch page (no external resources; every value escaped)."""
    current: dict[str, Any] = next((g for g in report["golden_records"] if g["golden_id"] == report["golden_id"]), {})
    values = current.get("data", {})
    parts = [
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>Inzage persoonsgegevens</title>",
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}th{text-align:left;padding-right:1em}"
        "td,th{vertical-align:top;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin-bottom:1em}</style>",
        "</head><body><h1>Inzage in uw persoonsgegevens (artikel 15 AVG)</h1>",
        f"<p>Dit overzicht bevat alle gegevens die in ons klantenbestand over u zijn vastgelegd onder klantnummer "
        f"<b>{html.escape(report['golden_id'])}</b>.</p>",
        "<h2>Uw gegevens zoals wij ze gebruiken</h2>",
        _table([(_LABELS.get(k, k), v) for k, v in values.items() if v not in (None, "", [])]),
        f"<h2>Waar deze gegevens vandaan komen ({len(report['source_records'])} bronregistraties)</h2>",
    ]
    for source in report["source_records"]:
        parts.append(f"<h3>Bron: {html.escape(str(source['source']))}</h3>")
        parts.append(_table([("Eerst gezien", source.get("first_seen_at")), ("Laatst gezien", source.get("last_seen_at")),
                             *[(_LABELS.get(k, k), v) for k, v in source["values"].items()
                               if k not in ("record_id",)]]))
    parts.append(f"<h2>Geschiedenis</h2><p>{len(report['versions'])} versies, {len(report['history'])} "
                 f"samenvoegingen of splitsingen, {len(report['review_decisions'])} beoordelingen door een medewerker, "
                 f"{len(report['steward_overrides'])} handmatige correcties.</p>")
    crm = report["crm"].get("xref", [])
    if crm:
        parts.append("<h2>Doorgegeven aan</h2>" + _table([(r["crm"], r["crm_id"]) for r in crm]))
    parts.append("<p>Kloppen uw gegevens niet, of wilt u dat wij ze verwijderen? Neem contact met ons op.</p>"
                 "</body></html>")
    return "\n".join(parts)
