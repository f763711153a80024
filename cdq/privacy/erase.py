"""Erasure of one data subject (AVG/GDPR art. 17) from the golden store and the CRM, with a tombstone.

:func:`erase_subject` works in two steps, each safe to repeat:

1. **The store, in one transaction**: the golden record and every golden id merged into it (the subject's
   *tree*) lose their values, lineage and versions (status ``erased``, a new change sequence so the CRM
   load sees them); their source records, cross-references, steward overrides and review decisions are
   deleted; events that name them, and old versions of *other* golden records that held the subject's
   e-mail, phone or record refs, are scrubbed. What stays: the golden ids (never reused), an ``erasures``
   row (date, reason, who, counts) and keyed hashes of the identifying keys (:mod:`cdq.privacy.keys`).
2. **The CRM**: a load of just those golden records deletes them through the adapter (``erase``).

A run killed during step 1 rolled back; killed during step 2, the rerun skips step 1 (the store already
holds the erasure) and finishes step 2. The next nightly run holds back records of the same person from
old exports (:func:`hold_erased`, reason ``SUBJECT_ERASED``) until a steward lifts the erasure.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from cdq.columns import QUARANTINE, empty_quarantine
from cdq.errors import UsageError
from cdq.privacy.keys import hash_key, hashed, identifying_keys
from cdq.store import GoldenStore, chunks
from cdq.store.schema import (
    erasure_keys,
    erasures,
    events,
    golden_records,
    golden_versions,
    now,
    overrides,
    runs,
    source_records,
    xref,
)

__all__ = ["EraseResult", "erase_subject", "hold_erased", "lift_erasure", "subject_tree", "erase_golden"]

logger = logging.getLogger(__name__)
SCRUBBED = json.dumps({"erased": True})
#: What a run writes into its work directory that retention may delete (never the stores); here, not in
#: retention, because retention builds on this module (an import cycle otherwise).
ARTEFACTS = ("run_report.html", "review.xlsx", "golden_records.xlsx", "xref.csv", "quarantine.csv",
             "data_docs", "printouts", "intermediates", "subjects")


@dataclass
class EraseResult:
    """What an erasure did: the golden ids erased, counts per kind of row, and the CRM load (if any)."""

    golden_id: str
    golden_ids: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    already: bool = False
    crm_line: str | None = None
    #: Work-directory files that quoted the subject and were deleted; PDFs that must be regenerated.
    files_removed: list[str] = field(default_factory=list)
    files_to_regenerate: list[str] = field(default_factory=list)


def subject_tree(conn: sa.Connection, golden_id: str) -> list[str]:
    """The golden id a (possibly retired) id survives in now, followed by every id merged into it."""
    known = dict(conn.execute(sa.select(golden_records.c.golden_id, golden_records.c.merged_into)).all())
    if golden_id not in known:
        raise UsageError(f"no golden record {golden_id} in the store", hint="find it with `cdq subject find`")
    root, seen = golden_id, set()
    while known.get(root) and root not in seen:
        seen.add(root)
        root = known[root]
    tree, frontier = [root], [root]
    while frontier:
        frontier = sorted(g for g, into in known.items() if into in frontier and g not in tree)
        tree += frontier
    return tree


def _member_rows(conn: sa.Connection, ids: list[str]) -> pd.DataFrame:
    """Every source record (live or soft-deleted) linked to the golden ids: ``id, ref, payload``."""
    j = source_records.join(xref, xref.c.source_record_id == source_records.c.id)
    rows = [r for chunk in chunks(ids) for r in conn.execute(
        sa.select(source_records.c.id, source_records.c.ref, source_records.c.payload).select_from(j)
        .where(xref.c.golden_id.in_(chunk))).all()]
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", "ref", "payload"])


def _needles(members: pd.DataFrame) -> set[str]:
    """Strings that identify the subject wherever they appear: record refs, e-mails, phone numbers."""
    found = set(members["ref"].astype(str))
    for payload in members["payload"]:
        values = json.loads(payload)
        found |= {str(values[c]) for c in ("email", "phone", "mobile") if values.get(c)}
    return {n for n in found if len(n) >= 6}


def _scrub_elsewhere(conn: sa.Connection, needles: set[str], ids: list[str]) -> int:
    """Old versions of other golden records and events that quote the subject (a past wrong merge)."""
    scrubbed = 0
    for needle in sorted(needles):
        pattern = f"%{needle}%"
        scrubbed += conn.execute(golden_versions.update().where(
            golden_versions.c.data.like(pattern) | golden_versions.c.lineage.like(pattern),
            golden_versions.c.golden_id.not_in(ids)).values(data=SCRUBBED, lineage=SCRUBBED)).rowcount
        scrubbed += conn.execute(events.update().where(events.c.detail.like(pattern)).values(detail=SCRUBBED)).rowcount
    return scrubbed


#: Rows of other parts of cdq that belong to a golden id or a source record: ``table: (column, keyed by)``.
LINKED_ROWS = {
    "leads": ("golden_id", "golden"),  # web leads (the lead's form values)
    "portal_tokens": ("golden_id", "golden"),
    "portal_corrections": ("golden_id", "golden"),
    "match_keys": ("source_record_id", "member"),  # the service's blocking index
    "match_prepared": ("source_record_id", "member"),  # its prepared values and ref of each record
    "review_pairs": ("ref_a", "ref"),  # open review pairs (refs may hold an e-mail address)
}


def _delete_linked(conn: sa.Connection, ids: list[str], member_ids: list[int], refs: list[str]) -> int:
    """Delete what the online service, the portal and the console keep of the subject (tables that exist)."""
    inspector = sa.inspect(conn)
    deleted = 0
    for name, (column, kind) in LINKED_ROWS.items():
        if not inspector.has_table(name):
            continue
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        by_kind: dict[str, list[str] | list[int]] = {"golden": ids, "member": member_ids, "ref": refs}
        values = by_kind[kind]
        for chunk in chunks(values):
            where: sa.ColumnElement[bool] = table.c[column].in_(chunk)
            if kind == "ref":
                where = sa.or_(where, table.c.ref_b.in_(chunk))
            deleted += conn.execute(table.delete().where(where)).rowcount
    return deleted


def _delete_decisions(conn: sa.Connection, refs: list[str]) -> int:
    if not refs or not sa.inspect(conn).has_table("review_decisions"):
        return 0
    table = sa.Table("review_decisions", sa.MetaData(), autoload_with=conn)
    return sum(conn.execute(table.delete().where(table.c.ref_a.in_(c) | table.c.ref_b.in_(c))).rowcount
               for c in chunks(refs))


def erase_golden(store: GoldenStore, conn: sa.Connection, ids: list[str], *, tombstone: bool) -> dict[str, int]:
    """Remove the personal data of the golden ids (one tree) inside ``conn``'s transaction; return counts.

    With ``tombstone`` the identifying keys of their source records are kept as keyed hashes (an erasure
    on request); without (a retention purge), a person who comes back later is simply new again.
    """
    members = _member_rows(conn, ids)
    refs = members["ref"].astype(str).tolist()
    counts = {"source_records": len(members)}
    if tombstone:
        secret = hash_key(conn)
        keys = set()
        for ref, payload in zip(refs, members["payload"]):
            keys |= identifying_keys({**json.loads(payload), "ref": ref})
        have = set(conn.execute(sa.select(erasure_keys.c.key_hash)).scalars())
        new = sorted(hashed(keys, secret) - have)
        if new:
            conn.execute(erasure_keys.insert(), [{"key_hash": h, "golden_id": ids[0]} for h in new])
        counts["tombstone_keys"] = len(new)
    counts["elsewhere_scrubbed"] = _scrub_elsewhere(conn, _needles(members), ids)
    counts["review_decisions"] = _delete_decisions(conn, refs)
    member_ids = members["id"].astype(int).tolist()
    counts["linked_rows"] = _delete_linked(conn, ids, member_ids, refs)
    for chunk in chunks(member_ids):
        conn.execute(xref.delete().where(xref.c.source_record_id.in_(chunk)))
        conn.execute(source_records.delete().where(source_records.c.id.in_(chunk)))
    for chunk in chunks(ids):
        counts["overrides"] = counts.get("overrides", 0) + conn.execute(
            overrides.delete().where(overrides.c.golden_id.in_(chunk))).rowcount
        counts["golden_versions"] = counts.get("golden_versions", 0) + conn.execute(
            golden_versions.delete().where(golden_versions.c.golden_id.in_(chunk))).rowcount
        conn.execute(events.update().where(events.c.survivor_id.in_(chunk) | events.c.retired_id.in_(chunk))
                     .values(detail=SCRUBBED))
    for golden_id in ids:
        conn.execute(golden_records.update().where(golden_records.c.golden_id == golden_id).values(
            status="erased", data="{}", lineage="{}", data_hash=None, seq=store.next_seq(conn),
            version=golden_records.c.version + 1))
    return counts


def erase_subject(store: GoldenStore, golden_id: str, *, reason: str, erased_by: str, crm=None,
                  workdir: str | Path | None = None) -> EraseResult:
    """Erase a data subject from the store and (given a :class:`~cdq.crm.CrmTarget`) the CRM.

    With ``workdir`` (a pipeline's work directory) the run artefacts there that quote the subject (review
    workbook, exports, intermediates, reports) are deleted too; they are rebuilt by the next run.
    """
    if not reason.strip():
        raise UsageError("an erasure needs a reason (--reason), kept in the erasure record")
    needles: set[str] = set()
    with store.begin() as conn:
        ids = subject_tree(conn, golden_id)
        done = conn.execute(sa.select(erasures.c.counts).where(erasures.c.golden_id == ids[0])).scalar()
        if done is None:
            needles = _file_needles(_member_rows(conn, ids))
            counts = erase_golden(store, conn, ids, tombstone=True)
            counts["golden_ids"] = len(ids)
            conn.execute(erasures.insert().values(golden_id=ids[0], erased_at=now(), reason=reason,
                                                  erased_by=erased_by, counts=json.dumps(counts, sort_keys=True)))
            conn.execute(runs.insert().values(kind="erase", started_at=now(), finished_at=now(), status="ok",
                                              counts=json.dumps(counts, sort_keys=True)))
    result = EraseResult(ids[0], ids, json.loads(done) if done else counts, already=done is not None)
    logger.info("erased golden record %s (%d golden ids)%s", ids[0], len(ids), " (already)" if done else "")
    if workdir is not None and needles:
        result.files_removed, result.files_to_regenerate = scrub_workdir(Path(workdir), needles)
    if crm is not None:
        result.crm_line = _erase_in_crm(store, crm, ids)
    return result


def _file_needles(members: pd.DataFrame) -> set[str]:
    """What marks a file as quoting the subject: refs, e-mails, phones, and surnames (a false hit only
    deletes an artefact the next run writes again)."""
    found = _needles(members)
    for payload in members["payload"]:
        last = json.loads(payload).get("last_name")
        if last and len(str(last)) >= 4:
            found.add(str(last))
    return found


def _file_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        try:
            return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                             for v in row if v is not None)
        finally:
            book.close()
    if suffix == ".parquet":
        return pd.read_parquet(path).to_csv()
    return path.read_bytes().decode("utf-8", "replace")


def scrub_workdir(workdir: Path, needles: set[str]) -> tuple[list[str], list[str]]:
    """Delete the run artefacts in ``workdir`` that quote the subject; list PDFs (which cannot be searched
    once compressed) for regeneration. The stores in the folder are never touched."""

    removed, regenerate = [], []
    lowered = {n.lower() for n in needles}
    for name in ARTEFACTS:
        top = workdir / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for path in files:
            if path.suffix.lower() == ".pdf":
                regenerate.append(str(path))
                continue
            text = _file_text(path).lower()
            if any(n in text for n in lowered):
                path.unlink()
                removed.append(str(path))
    logger.info("erasure: %d work-directory file(s) removed, %d PDF(s) to regenerate", len(removed), len(regenerate))
    return removed, regenerate


def _erase_in_crm(store: GoldenStore, crm, ids: list[str]) -> str:
    """Load just the erased golden rows: the adapter deletes what the CRM still holds of them."""
    from cdq.golden import golden_frame

    with store.engine.connect() as conn:
        rows = store.golden(conn, ids)
    load, plan = crm.load(golden_frame(rows.drop(columns=["seq"])), watermark=None)
    if plan.rejected:
        reasons = "; ".join(sorted({r["reason"] for r in plan.rejected}))
        raise UsageError(f"the CRM refused to delete {len(plan.rejected)} record(s): {reasons}",
                         hint="the store is erased; rerun the same `cdq subject erase` to retry the CRM")
    return f"erased: {load.erased} CRM record(s) deleted"


def lift_erasure(store: GoldenStore, golden_id: str, *, lifted_by: str) -> int:
    """A steward lets the person be imported again: the tombstone hashes go, the erasure record stays."""
    with store.begin() as conn:
        found = conn.execute(sa.select(erasures.c.golden_id).where(erasures.c.golden_id == golden_id)).scalar()
        if found is None:
            raise UsageError(f"{golden_id} has no erasure to lift")
        n = conn.execute(erasure_keys.delete().where(erasure_keys.c.golden_id == golden_id)).rowcount
        conn.execute(erasures.update().where(erasures.c.golden_id == golden_id).values(
            lifted_at=now(), lifted_by=lifted_by))
    return n


def hold_erased(frame: pd.DataFrame, store: GoldenStore, refs: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a cleaned batch into (records to process, quarantine rows of erased subjects).

    ``refs`` are the batch's source-record refs (:func:`cdq.golden.record_refs`). The quarantine rows carry
    no values: the person asked to be forgotten, so only where the row was and why it is held.
    """
    with store.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(erasure_keys)).scalar() == 0:
            return frame, empty_quarantine()
        secret = hash_key(conn)
        tomb = set(conn.execute(sa.select(erasure_keys.c.key_hash)).scalars())
    columns = [c for c in frame.columns if not str(c).startswith("src:")]
    records = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    held = pd.Series([bool(hashed(identifying_keys({**r, "ref": ref}), secret) & tomb)
                      for r, ref in zip(records, refs)], index=frame.index)
    if not held.any():
        return frame, empty_quarantine()
    out = frame[held].reindex(columns=["source", "source_file", "source_row"]).assign(
        column=None, reason_code="SUBJECT_ERASED", raw=None,
        detail="the person was erased on request (AVG art. 17); a steward may lift it (cdq subject lift)")
    logger.info("held %d record(s) of erased data subjects", int(held.sum()))
    return frame[~held], out[QUARANTINE].reset_index(drop=True)
