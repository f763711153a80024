"""Nightly merge orchestration: staging batch + clusters → golden store, with stable golden ids.

:func:`merge_batch` (one transaction):

1. Upserts the batch's source records by ``ref`` (``source|source_key``, else ``source|source_file#row``)
   with a content hash over the canonical values (``record_id``, ``source_file`` and ``source_row`` left
   out, so a re-export of the same record is unchanged).
2. Maps clusters onto golden ids: clusters and the golden ids their records are already linked to form
   connected components; a component keeps its OLDEST golden id (lowest number), every other golden id in
   it is retired into that one (a ``merge`` event holding the prior state, ``merged_into`` on the retired
   row). A component without golden ids gets a new one. Existing golden records are never split by a
   nightly run (only :func:`unmerge` splits); records pinned by a steward keep their golden id.
3. Re-survives only touched golden records (new or changed member, new link, merge, deletion) from ALL
   their live source records in the store, and writes a new version only when values or lineage changed.

Incremental matching: the caller runs linkage over the new/changed records PLUS the stored source records
of candidate golden records (``GoldenStore.members(conn, ids)`` gives their payloads; put them in the
staging frame as they are: their hash is unchanged, so they only carry their golden id into the cluster).
Running the same batch twice changes nothing.

Deleted source records (policy): a record is deleted when its ref is passed in ``deleted``, or when its
source is listed in ``full_sources`` (a full extract) and the ref is absent from the batch. It is
soft-deleted (``deleted_run``), stops contributing values, and its golden record is re-survived; a golden
record left without live source records keeps its last values with status ``deleted`` (its id is never
reused, and the CRM record is left alone). A deleted record that comes back is live again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from cdq import golden_values
from cdq.errors import UsageError
from cdq.golden_values import PAYLOAD_COLUMNS
from cdq.log import Progress, ProgressLog
from cdq.store import GoldenStore, golden_number
from cdq.survivorship import Rules, survive

__all__ = ["merge_batch", "unmerge", "split_record", "join_golden", "MergeResult", "record_refs"]

logger = logging.getLogger(__name__)
#: merge_batch's steps (progress): upsert sources, assign golden ids, merges and xref, re-survive, checks
_MERGE_STEPS = 5
_HASH_SKIP = {"record_id", "source_file", "source_row"}


@dataclass
class MergeResult:
    """What a batch did. ``golden``: the golden rows written (one per golden id, values as columns)."""

    run_id: int
    counts: dict = field(default_factory=dict)
    golden: pd.DataFrame = field(default_factory=pd.DataFrame)
    merges: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["retired_id", "survivor_id"]))
    xref: pd.DataFrame = field(default_factory=pd.DataFrame)


#: Fields whose values identify a record that has no key of its own (a vCard, a mail correspondent).
IDENTITY_FIELDS = ["first_name", "initials", "infix", "last_name", "company_name", "birth_date", "postcode",
                   "house_number", "house_letter", "house_number_addition", "phone", "mobile"]


def record_refs(staging: pd.DataFrame) -> pd.Series:
    """Stable source-record refs, independent of row positions and file locations.

    ``source|<source_key>`` where the record has its own key; otherwise ``source|@<e-mail>`` or, without
    an e-mail, ``source|#<hash of the identifying fields>``. A row position would hand a golden id to
    another customer as soon as a contacts export gains or loses a row. A ref that repeats within the
    batch (a customer number typed twice) gets ``~2``, ``~3`` in order of appearance, so no row is lost.

    Examples:
        >>> record_refs(pd.DataFrame({"source": ["erp", "vcf", "vcf", "erp"], "source_key": ["K1", None, None, "K1"],
        ...     "email": [None, "A@x.nl", None, None], "last_name": ["Jansen", "Bos", "Smit", "Jansen"]})).tolist()
        ['erp|K1', 'vcf|@a@x.nl', 'vcf|#2a48d00ac72b25af', 'erp|K1~2']
    """
    frame = staging.reindex(columns=["source", "source_key", "email", *IDENTITY_FIELDS]).astype("object")
    key = frame["source_key"].where(frame["source_key"].notna() & (frame["source_key"].astype(str) != ""), None)
    email = frame["email"].where(frame["email"].notna(), None).map(lambda v: v and "@" + str(v).strip().lower())
    identity = frame[IDENTITY_FIELDS].where(frame[IDENTITY_FIELDS].notna(), "").astype(str)
    digest = identity.apply(lambda col: col.str.strip().str.lower()).agg("|".join, axis=1).map(
        lambda text: "#" + hashlib.sha1(text.encode()).hexdigest()[:16])
    own = key.astype("object").where(key.notna(), email).where(key.notna() | email.notna(), digest)
    refs = frame["source"].astype(str) + "|" + own.astype(str)
    repeat = refs.groupby(refs).cumcount()
    return refs.where(repeat == 0, refs + "~" + (repeat + 1).astype(str)).astype(str)


def _payloads(staging: pd.DataFrame) -> tuple[list[str], list[str]]:
    """JSON payload and content hash per row (canonical values as text)."""
    frame = staging.reindex(columns=PAYLOAD_COLUMNS).astype("object")
    frame = frame.where(frame.notna(), None)
    payloads, hashes = [], []
    for row in frame.itertuples(index=False, name=None):
        values = {c: (v if v is None else str(v)) for c, v in zip(PAYLOAD_COLUMNS, row)}
        text = json.dumps(values, sort_keys=True, ensure_ascii=False)
        payloads.append(text)
        hashable = json.dumps({k: v for k, v in values.items() if k not in _HASH_SKIP}, sort_keys=True)
        hashes.append(hashlib.sha1(hashable.encode()).hexdigest())
    return payloads, hashes


def _upsert_sources(store: GoldenStore, conn: sa.Connection, batch: pd.DataFrame, run_id: int) -> pd.DataFrame:
    """Insert new refs, update changed ones; return the batch with ``id, status, golden_id, pinned``."""
    known = store.lookup_sources(conn, batch["ref"]).drop_duplicates("ref").set_index("ref")
    old_hash = batch["ref"].map(known["content_hash"])
    revived = batch["ref"].map(known["deleted_run"]).notna()
    status = pd.Series("same", index=batch.index)
    status[old_hash.isna()] = "new"
    status[old_hash.notna() & ((old_hash != batch["hash"]) | revived)] = "changed"
    new = batch[status == "new"]
    store.insert_sources(conn, [
        {"ref": r, "source": s, "content_hash": h, "payload": p, "first_run": run_id, "last_run": run_id}
        for r, s, h, p in zip(new["ref"], new["source"], new["hash"], new["payload"])])
    changed = batch[status == "changed"]
    store.update_sources(conn, [
        {"b_id": int(known.at[r, "id"]), "content_hash": h, "payload": p, "last_run": run_id, "deleted_run": None}
        for r, h, p in zip(changed["ref"], changed["hash"], changed["payload"])])
    if len(new):
        known = store.lookup_sources(conn, batch["ref"]).drop_duplicates("ref").set_index("ref")
    out = batch.assign(status=status, id=batch["ref"].map(known["id"]).astype(int),
                       golden_id=batch["ref"].map(known["golden_id"]),
                       pinned=batch["ref"].map(known["pinned"]).eq(True))
    return out


def _components(cl: pd.DataFrame) -> dict:
    """Union-find over cluster ids and the golden ids their records link to; node → component root."""
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cluster, golden in zip(cl["cluster_id"], cl["golden_id"]):
        a = find(("c", cluster))
        if isinstance(golden, str):
            b = find(("g", golden))
            if a != b:
                parent[b] = a
    return {node: find(node) for node in list(parent)}


def _assign(store: GoldenStore, conn: sa.Connection, cl: pd.DataFrame) -> tuple[pd.Series, dict[str, str]]:
    """Target golden id per clustered row, and retired → survivor for the merges this implies."""
    roots = _components(cl)
    comp_golden: dict = {}
    for node, root in roots.items():
        if node[0] == "g":
            comp_golden.setdefault(root, []).append(node[1])
    comp = cl["cluster_id"].map(lambda c: roots[("c", c)])
    fresh = sorted(set(comp) - set(comp_golden), key=str)
    for root, gid in zip(fresh, store.allocate_golden_ids(conn, len(fresh))):
        comp_golden[root] = [gid]
    retired = {}
    for ids in comp_golden.values():
        ids.sort(key=golden_number)
        retired.update({g: ids[0] for g in ids[1:]})
    return comp.map(lambda r: comp_golden[r][0]), retired


def _scores(pairs: pd.DataFrame | None, cl: pd.DataFrame) -> pd.Series:
    """Best match probability of each record with a record of its own cluster."""
    if pairs is None or pairs.empty:
        return pd.Series(float("nan"), index=cl.index)
    cid = dict(zip(cl["record_id"].astype(str), cl["cluster_id"]))
    p = pairs.assign(l=pairs["record_id_l"].astype(str), r=pairs["record_id_r"].astype(str))
    p = p[p["l"].map(cid).eq(p["r"].map(cid))]
    both = pd.concat([p[["l", "match_probability"]].set_axis(["rid", "p"], axis=1),
                      p[["r", "match_probability"]].set_axis(["rid", "p"], axis=1)])
    return cl["record_id"].astype(str).map(both.groupby("rid")["p"].max()).astype(float)


def _snapshot(store: GoldenStore, conn: sa.Connection, ids: list[str]) -> dict:
    """Prior state of golden records (row, xref of members, overrides) for an event, to undo it exactly."""
    golden = store.golden(conn, ids).drop(columns=["seq"]).to_dict("records")
    members = store.members(conn, ids)[["golden_id", "source_record_id", "match_score", "rule", "pinned"]]
    ov = store.overrides_for(conn, ids)
    return {"golden": golden, "members": members.astype(object).where(members.notna(), None).to_dict("records"),
            "overrides": ov.to_dict("records")}


def _resurvive(store: GoldenStore, conn: sa.Connection, touched: set[str], retired: dict[str, str],
               rules: Rules, run_id: int, organisations_touched: Iterable[str] = (),
               organisations_retired: dict[str, str] | None = None) -> pd.DataFrame:
    """Re-survive the touched golden ids from their live members; write the rows that changed.

    Then the golden organisations of those records (and ``organisations_touched``) are re-survived too.
    """
    from cdq import organisations

    members = store.members(conn, touched)
    live = members[members["deleted_run"].isna()]
    frame = pd.DataFrame([json.loads(p) for p in live["payload"]], columns=PAYLOAD_COLUMNS)
    frame["record_id"] = live["ref"].to_numpy()
    clusters = pd.DataFrame({"record_id": live["ref"].to_numpy(), "cluster_id": live["golden_id"].to_numpy()})
    golden, lineage = survive(frame, clusters, rules, store.overrides_for(conn, touched))
    member_of = organisations.memberships(conn, touched | set(retired))
    built = golden_values.golden_rows(golden, lineage, rules, member_of)
    existing = store.golden(conn, touched | set(retired)).set_index("golden_id")
    # a retired golden id is always a stored one
    rows = golden_values.versioned_rows(touched | set(retired), existing, retired, built, "golden_id")
    if rows:
        seq = store.next_seq(conn)
        store.write_golden(conn, [{**r, "seq": seq} for r in rows], set(existing.index), run_id)
    organisations.survive_organisations(store, conn, set(member_of.values()) | set(organisations_touched),
                                        organisations_retired or {}, rules, run_id)
    return golden_frame(pd.DataFrame(rows, columns=["golden_id", "version", "status", "merged_into", "data"]))


def golden_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Expand stored golden rows (``data`` JSON) into one column per value."""
    values = pd.DataFrame([json.loads(d) if d else {} for d in rows["data"]], index=rows.index)
    return pd.concat([rows.drop(columns=["data"]), values], axis=1).drop(
        columns=[c for c in ("lineage", "data_hash") if c in rows], errors="ignore")


def active_golden(store: GoldenStore) -> pd.DataFrame:
    """Every active golden record in the store, one column per value."""
    rows = store.changes_since(0, full=True)
    if rows.empty:
        return pd.DataFrame(columns=["golden_id"])
    golden = golden_frame(rows.drop(columns=["seq"]))
    return golden[golden["status"] == "active"].reset_index(drop=True)


def _batch(staging: pd.DataFrame) -> pd.DataFrame:
    batch = pd.DataFrame({"record_id": staging["record_id"].astype(str).to_numpy(),
                          "source": staging["source"].astype(str).to_numpy(),
                          "ref": record_refs(staging).to_numpy()})
    batch["payload"], batch["hash"] = _payloads(staging)
    if batch["ref"].duplicated().any():
        # record_refs makes refs unique within a frame; two frames stacked (batch + stored) may still meet.
        logger.warning("batch: %d rows repeat a source record ref; the last one counts",
                       int(batch["ref"].duplicated().sum()))
        batch = batch.drop_duplicates("ref", keep="last")
    return batch


def _deletions(store: GoldenStore, conn: sa.Connection, batch: pd.DataFrame, full_sources, deleted,
               run_id: int) -> set[str]:
    """Soft-delete per the policy; return the golden ids that lost a record."""
    refs = set(deleted)
    if full_sources:
        live = store.live_refs(conn, full_sources)
        refs |= set(live["ref"]) - set(batch["ref"])
    refs -= set(batch["ref"])
    if not refs:
        return set()
    known = store.lookup_sources(conn, refs)
    known = known[known["deleted_run"].isna()]
    store.mark_deleted(conn, [int(i) for i in known["id"]], run_id)
    return set(known["golden_id"].dropna())


def _organisations(store: GoldenStore, conn: sa.Connection, cl: pd.DataFrame, free: pd.DataFrame,
                   run_id: int) -> tuple[set[str], dict[str, str], set[str]]:
    """Map linkage's organisations onto golden organisations (:func:`cdq.organisations.assign`).

    Returns the active golden ids whose organisation changed (their ``organisation_id`` value changes), the
    retired organisations and the organisations to re-survive.
    """
    from cdq import organisations

    target = free["target"].reindex(cl.index).fillna(cl["golden_id"])
    links = pd.DataFrame({"golden_id": target, "group": cl["organisation_id"]})
    changed, retired, touched = organisations.assign(store, conn, links, run_id)
    status = store.golden(conn, changed).set_index("golden_id")["status"]
    return {g for g in changed if status.get(g, "active") == "active"}, retired, touched


def merge_batch(staging: pd.DataFrame, clusters: pd.DataFrame, store: GoldenStore, rules: Rules, run_id: int,
                pairs: pd.DataFrame | None = None, *, full_sources=(), deleted=(),
                check: Callable[[MergeResult], None] | None = None, progress: Progress | None = None) -> MergeResult:
    """Upsert a batch, map its clusters onto stable golden ids, re-survive touched records (see module doc).

    Args:
        staging: the batch's staging frame (canonical columns).
        clusters: ``record_id, cluster_id`` from linkage; batch records missing from it are singletons.
        store: the golden store. rules: compiled survivorship rules. run_id: ``store.start_run(...)``.
        pairs: optional linkage pairs (``record_id_l, record_id_r, match_probability``) for xref scores.
        full_sources: sources delivered as full extracts (absent records are deleted).
        deleted: refs of records deleted at the source.
        check: called with the result before the transaction commits (the quality gates); an exception it
            raises rolls the whole batch back, so a run that stops leaves the store as it was.
        progress: optional ``(done, total)`` callback, called after each of the merge's steps.
    """
    step = ProgressLog(logger, f"golden merge of {len(staging)} records: step", _MERGE_STEPS, progress=progress)
    batch = _batch(staging)
    with store.begin() as conn:
        up = _upsert_sources(store, conn, batch, run_id)
        step(1)
        cl = up.merge(clusters.reindex(columns=["record_id", "cluster_id", "organisation_id"])
                      .astype({"record_id": str}), on="record_id", how="left")
        cl["cluster_id"] = cl["cluster_id"].where(cl["cluster_id"].notna(), "_single:" + cl["record_id"])
        cl["score"] = _scores(pairs, cl)
        free = cl[~cl["pinned"]].copy()
        target, retired = _assign(store, conn, free)
        free["target"] = target
        moved = free[free["golden_id"].ne(free["target"])]
        touched = set(free.loc[free["status"].ne("same"), "target"]) | set(moved["target"]) | set(retired.values())
        touched |= set(cl.loc[cl["pinned"] & cl["status"].ne("same"), "golden_id"])
        step(2)
        for old, survivor in sorted(retired.items()):
            snap = _snapshot(store, conn, [survivor, old])
            store.add_event(conn, run_id, "merge", survivor, old, snap)
            store.move_overrides(conn, old, survivor)
        absorbed = store.members(conn, list(retired))
        absorbed = absorbed[~absorbed["source_record_id"].isin(moved["id"])]
        size = free.groupby("cluster_id")["record_id"].transform("size")
        rule = pd.Series("linkage", index=free.index).where(size > 1, "singleton")
        store.set_xref(conn, [
            {"source_record_id": int(i), "golden_id": retired[g], "match_score": s, "rule": r, "pinned": bool(p),
             "run_id": run_id}
            for i, g, s, r, p in absorbed[["source_record_id", "golden_id", "match_score", "rule", "pinned"]]
            .itertuples(index=False, name=None)
        ] + [
            {"source_record_id": int(i), "golden_id": t, "match_score": None if pd.isna(s) else float(s),
             "rule": r, "pinned": False, "run_id": run_id}
            for i, t, s, r in zip(moved["id"], moved["target"], moved["score"], rule[moved.index])
        ])
        touched |= _deletions(store, conn, batch, full_sources, deleted, run_id)
        in_org, org_retired, org_touched = _organisations(store, conn, cl, free, run_id)
        touched |= in_org
        step(3)
        written = _resurvive(store, conn, touched, retired, rules, run_id, org_touched, org_retired)
        step(4)
        counts = {"records_new": int((up["status"] == "new").sum()),
                  "records_changed": int((up["status"] == "changed").sum()),
                  "records_unchanged": int((up["status"] == "same").sum()),
                  "golden_touched": len(touched), "golden_written": len(written), "merges": len(retired)}
        merges = pd.DataFrame(sorted(retired.items()), columns=["retired_id", "survivor_id"])
        xref_out = cl[["record_id", "ref"]].assign(
            golden_id=free["target"].reindex(cl.index).fillna(cl["golden_id"]))
        result = MergeResult(run_id, counts, written, merges, xref_out)
        if check is not None:
            check(result)
    step(5)
    logger.info("merge batch: %s", counts)
    return result


def unmerge(store: GoldenStore, retired_id: str, rules: Rules, *, run_id: int | None = None) -> MergeResult:
    """Undo the last merge that retired ``retired_id``: its records, steward values and golden values return.

    The split-out records are pinned, so a later nightly run does not merge them back. Records that
    arrived after the merge stay with the survivor. Raises UsageError when no such merge exists.
    """
    run_id = run_id or store.start_run("unmerge")
    with store.begin() as conn:
        event = store.last_merge_of(conn, retired_id)
        if event is None:
            raise UsageError(f"{retired_id} was not merged into another golden record (or is already unmerged)",
                             hint="list merges with the store's events table")
        detail, survivor = json.loads(event["detail"]), event["survivor_id"]
        back = [m for m in detail["members"] if m["golden_id"] == retired_id]
        store.set_xref(conn, [{**m, "pinned": True, "run_id": run_id} for m in back])
        moved = {o["column"] for o in detail["overrides"] if o["cluster_id"] == retired_id}
        kept = {o["column"] for o in detail["overrides"] if o["cluster_id"] == survivor}
        for column in moved - kept:
            store.remove_override(conn, survivor, column)
        for o in detail["overrides"]:
            if o["cluster_id"] == retired_id:
                store.set_override(conn, retired_id, o["column"], o["value"], o["set_by"])
        event_id = store.add_event(conn, run_id, "unmerge", survivor, retired_id, {"undoes": event["id"]})
        store.mark_undone(conn, event["id"], event_id)
        written = _resurvive(store, conn, {survivor, retired_id}, {}, rules, run_id)
    store.finish_run(run_id, counts={"unmerged": 1})
    return MergeResult(run_id, {"unmerged": 1, "golden_written": len(written)}, written)


def split_record(store: GoldenStore, ref: str, rules: Rules, *, run_id: int | None = None) -> MergeResult:
    """Take one source record out of its golden record into a new golden record of its own.

    A steward's "this one is someone else" for a single record, where :func:`unmerge` undoes a whole merge.
    The record is pinned to its new golden record, so a later nightly run does not merge it back; both
    golden records are re-survived. Raises UsageError for an unknown ref or a record that is alone already.
    """
    run_id = run_id or store.start_run("split")
    with store.begin() as conn:
        found = store.lookup_sources(conn, [ref])
        if found.empty or pd.isna(found.iloc[0]["golden_id"]):
            raise UsageError(f"no stored source record {ref!r}",
                             hint="a ref is SOURCE|KEY as in the store's source_records table, e.g. erp|K1042")
        record_id, old = int(found.iloc[0]["id"]), str(found.iloc[0]["golden_id"])
        members = store.members(conn, [old])
        if members["deleted_run"].isna().sum() < 2:
            raise UsageError(f"{ref} is the only live record of {old}: there is nothing to split off")
        new = store.allocate_golden_ids(conn, 1)[0]
        store.set_xref(conn, [{"source_record_id": record_id, "golden_id": new, "match_score": None,
                               "rule": "steward_split", "pinned": True, "run_id": run_id}])
        _same_organisation(store, conn, old, new, run_id)
        store.add_event(conn, run_id, "split", old, new, {"ref": ref, "source_record_id": record_id})
        written = _resurvive(store, conn, {old, new}, {}, rules, run_id)
    counts = {"split": 1, "golden_written": len(written)}
    store.finish_run(run_id, counts=counts)
    return MergeResult(run_id, counts, written, xref=pd.DataFrame({"record_id": [ref], "ref": [ref], "golden_id": [new]}))


def _same_organisation(store: GoldenStore, conn: sa.Connection, old: str, new: str, run_id: int) -> None:
    """A record split out of a location stays in that location's organisation (a steward splits people and
    branches, not companies)."""
    from cdq import organisations

    organisation = organisations.memberships(conn, [old]).get(old)
    if organisation:
        organisations.assign(store, conn, pd.DataFrame({"golden_id": [old, new], "group": [organisation] * 2}),
                             run_id)


def set_override(store: GoldenStore, golden_id: str, column: str, value: str | None, set_by: str,
                 rules: Rules) -> MergeResult:
    """A steward sets ``column`` of a golden record; it wins (chains starting with ``steward``) until removed.

    ``value=None`` removes the steward's value, and the survived value returns.
    """
    if column not in rules.outputs:
        raise UsageError(f"unknown golden column {column!r}", hint=f"valid: {', '.join(rules.outputs)}")
    golden_id = store.resolve(golden_id)
    run_id = store.start_run("steward")
    with store.begin() as conn:
        if value is None:
            store.remove_override(conn, golden_id, column)
        else:
            store.set_override(conn, golden_id, column, value, set_by)
        written = _resurvive(store, conn, {golden_id}, {}, rules, run_id)
    store.finish_run(run_id, counts={"golden_written": len(written)})
    return MergeResult(run_id, {"golden_written": len(written)}, written)


def batch_status(staging: pd.DataFrame, store: GoldenStore) -> pd.Series:
    """Per staging row: ``new``, ``changed`` or ``same`` compared with the store (by ref and content hash).

    The nightly run uses it to clean and match only what is new or changed.
    """
    batch = pd.DataFrame({"ref": record_refs(staging).to_numpy()}, index=staging.index)
    batch["payload"], batch["hash"] = _payloads(staging)
    with store.engine.connect() as conn:
        known = store.lookup_sources(conn, batch["ref"]).drop_duplicates("ref").set_index("ref")
    old_hash = batch["ref"].map(known["content_hash"]) if len(known) else pd.Series(None, index=batch.index)
    deleted = batch["ref"].map(known["deleted_run"]).notna() if len(known) else pd.Series(False, index=batch.index)
    status = pd.Series("same", index=staging.index)
    status[old_hash.isna()] = "new"
    status[old_hash.notna() & ((old_hash != batch["hash"]) | deleted)] = "changed"
    return status


def stored_records(store: GoldenStore, *, exclude_refs: set[str] | frozenset = frozenset()) -> pd.DataFrame:
    """Every live stored source record as a staging-like frame (``record_id`` = ``stored:<ref>``).

    These are the existing customers a nightly batch is matched against.
    """
    from cdq.store.schema import source_records

    query = sa.select(source_records.c.ref, source_records.c.payload).where(source_records.c.deleted_run.is_(None))
    with store.engine.connect() as conn:
        rows = [(ref, payload) for ref, payload in conn.execute(query).all() if ref not in exclude_refs]
    frame = pd.DataFrame([json.loads(p) for _, p in rows], columns=PAYLOAD_COLUMNS)
    frame.insert(0, "record_id", ["stored:" + ref for ref, _ in rows])
    return frame


def join_golden(store: GoldenStore, golden_ids: list[str], rules: Rules, *, run_id: int | None = None,
                rule: str = "steward_match") -> MergeResult:
    """Join golden records into the oldest of them now (a steward's "match"), as a nightly merge would.

    Every other id is retired into the survivor with a ``merge`` event holding the prior state (so
    :func:`unmerge` can undo it), their records move over (xref ``rule``), their steward values follow,
    and the survivor is re-survived from all its records.
    """
    ids = sorted({store.resolve(g) for g in golden_ids}, key=golden_number)
    if len(ids) < 2:
        return MergeResult(run_id or 0, {"merges": 0, "golden_written": 0})
    survivor, retired = ids[0], {g: ids[0] for g in ids[1:]}
    run_id = run_id or store.start_run("steward")
    with store.begin() as conn:
        for old in ids[1:]:
            store.add_event(conn, run_id, "merge", survivor, old, _snapshot(store, conn, [survivor, old]))
            store.move_overrides(conn, old, survivor)
        members = store.members(conn, ids[1:])
        store.set_xref(conn, [{"source_record_id": int(i), "golden_id": survivor, "match_score": s,
                               "rule": rule, "pinned": bool(p), "run_id": run_id}
                              for i, s, p in members[["source_record_id", "match_score", "pinned"]]
                              .itertuples(index=False, name=None)])
        written = _resurvive(store, conn, {survivor}, retired, rules, run_id)
    counts = {"merges": len(retired), "golden_written": len(written)}
    store.finish_run(run_id, counts=counts)
    merges = pd.DataFrame(sorted(retired.items()), columns=["retired_id", "survivor_id"])
    return MergeResult(run_id, counts, written, merges)

