"""Golden organisations: one organisation above its locations (branches) and contacts, with stable ids.

The golden records are locations: a person, or one branch of an organisation at its own address, phone and
e-mail. Linkage says which records belong to one organisation (``organisation_id`` in its clusters, see
:mod:`cdq.linkage.locations`: one name or one KvK number, whatever the address). :func:`assign` maps those
groups onto organisation ids (``O0000001``) the way :func:`cdq.golden.merge_batch` keeps golden ids: a group
and the organisations its golden records already belong to are one organisation; the oldest id survives, a
younger one is retired into it (``merged_into``); a group without one gets a new id. A nightly run never splits
an organisation. :func:`survive_organisations` builds the organisation's own values (name, legal form, KvK,
VAT: ``organisation_groups`` of ``rules/survivorship.yaml``) from the source records of its locations (of its
contacts when no location has a record) with the same strategy chains, and versions them like golden records.

Every golden record of an organisation carries ``organisation_id`` among its values, so a location or a
contact that changes organisation is a change the CRM load sees.

Examples:
    >>> from cdq.store import GoldenStore
    >>> store = GoldenStore("sqlite://")
    >>> with store.begin() as conn:
    ...     changed, retired, touched = assign(store, conn, pd.DataFrame(
    ...         {"golden_id": ["G0000001", "G0000002"], "group": ["a", "a"]}), run_id=1)
    >>> changed, retired, sorted(touched)
    ({'G0000001': 'O0000001', 'G0000002': 'O0000001'}, {}, ['O0000001'])
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import pandas as pd
import sqlalchemy as sa

from cdq.store import GoldenStore, chunks, write_versioned
from cdq.store.schema import organisation_members, organisation_versions, organisations

__all__ = ["assign", "survive_organisations", "memberships", "organisation_frame", "organisation_of_members",
           "is_organisation_id"]

logger = logging.getLogger(__name__)
COLUMNS = [c.name for c in organisations.c]


def is_organisation_id(value: str) -> bool:
    """``O`` and seven digits.

    Examples:
        >>> is_organisation_id("O0000012"), is_organisation_id("G0000012")
        (True, False)
    """
    return len(value) == 8 and value[0] == "O" and value[1:].isdigit()


def _number(organisation_id: str) -> int:
    return int(organisation_id[1:])


def memberships(conn: sa.Connection, golden_ids: Iterable[str]) -> dict[str, str]:
    """golden id → organisation id, for the golden ids that belong to one."""
    out: dict[str, str] = {}
    t = organisation_members
    if conn.execute(sa.select(t.c.golden_id).limit(1)).first() is None:
        return out  # a store of persons only: no query per chunk of a million golden ids
    for chunk in chunks(sorted(set(golden_ids))):
        out.update(conn.execute(sa.select(t.c.golden_id, t.c.organisation_id).where(t.c.golden_id.in_(chunk))).all())
    return out


def members_of(conn: sa.Connection, organisation_ids: Iterable[str]) -> pd.DataFrame:
    """``golden_id, organisation_id`` of every golden record in the organisations."""
    t = organisation_members
    rows = [r for chunk in chunks(sorted(set(organisation_ids)))
            for r in conn.execute(sa.select(t.c.golden_id, t.c.organisation_id)
                                  .where(t.c.organisation_id.in_(chunk))).all()]
    return pd.DataFrame([tuple(r) for r in rows], columns=["golden_id", "organisation_id"])


def _allocate(store: GoldenStore, conn: sa.Connection, n: int) -> list[str]:
    first = store._allocate(conn, "organisation", n) if n else 0
    return [f"O{i:07d}" for i in range(first, first + n)]


def _components(links: pd.DataFrame, current: dict[str, str]) -> dict[tuple, tuple]:
    """Union-find over linkage groups, golden ids and their current organisations: node → root."""
    parent: dict[tuple, tuple] = {}

    def find(x: tuple) -> tuple:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: tuple, b: tuple) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    for golden_id, group in zip(links["golden_id"], links["group"]):
        union(("group", group), ("golden", golden_id))
    for golden_id, organisation_id in current.items():
        union(("golden", golden_id), ("org", organisation_id))
    return {node: find(node) for node in list(parent)}


def assign(store: GoldenStore, conn: sa.Connection, links: pd.DataFrame,
           run_id: int) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Map linkage's organisation groups onto organisation ids (see module doc) and store the memberships.

    Args:
        links: ``golden_id, group``: the golden record of each clustered record and its linkage organisation
            (None: no organisation).

    Returns:
        golden id → organisation id where it changed; retired organisation id → survivor; the organisation
        ids whose members or values may have changed.
    """
    links = links.dropna(subset=["group"]).drop_duplicates()
    if links.empty:
        return {}, {}, set()
    current = memberships(conn, links["golden_id"])
    roots = _components(links, current)
    found: dict[tuple, list[str]] = {}
    for node, root in roots.items():
        if node[0] == "org":
            found.setdefault(root, []).append(node[1])
    fresh = sorted({r for n, r in roots.items() if n[0] == "group"} - set(found), key=str)
    for root, organisation_id in zip(fresh, _allocate(store, conn, len(fresh))):
        found[root] = [organisation_id]
    retired: dict[str, str] = {}
    for ids in found.values():
        ids.sort(key=_number)
        retired.update({o: ids[0] for o in ids[1:]})
    wanted = {n[1]: found[r][0] for n, r in roots.items() if n[0] == "golden"}
    if retired:  # the other members of a retired organisation move to its survivor
        wanted.update({g: retired[o] for g, o in members_of(conn, retired).itertuples(index=False, name=None)})
        current.update(memberships(conn, set(wanted) - set(current)))
    changed = {g: o for g, o in sorted(wanted.items()) if current.get(g) != o}
    t = organisation_members
    for chunk in chunks(sorted(changed)):
        conn.execute(t.delete().where(t.c.golden_id.in_(chunk)))
    if changed:
        conn.execute(t.insert(), [{"golden_id": g, "organisation_id": o, "run_id": run_id} for g, o in changed.items()])
    touched = set(wanted.values()) | set(retired) | {current[g] for g in changed if g in current}
    return changed, retired, touched


def _member_records(store: GoldenStore, conn: sa.Connection, organisation_ids: set[str]) -> pd.DataFrame:
    """Live source records of the active golden records of the organisations, with ``organisation_id``.

    An organisation's values come from its locations' records; only one without any location record takes
    them from its contacts' (a person's company field names the employer, often less fully).
    """
    from cdq.golden_values import PAYLOAD_COLUMNS

    members = members_of(conn, organisation_ids)
    golden = store.golden(conn, members["golden_id"])
    golden = golden[golden["status"] == "active"]
    kind = {g: (json.loads(d or "{}") or {}).get("party_type") for g, d in zip(golden["golden_id"], golden["data"])}
    records = store.members(conn, list(kind))
    records = records[records["deleted_run"].isna()]
    frame = pd.DataFrame([json.loads(p) for p in records["payload"]], columns=PAYLOAD_COLUMNS)
    frame["record_id"] = records["ref"].to_numpy()
    frame["organisation_id"] = records["golden_id"].map(dict(zip(members["golden_id"], members["organisation_id"])))
    frame["branch"] = records["golden_id"].map(kind).eq("organisation").to_numpy()
    has_branch = frame.groupby("organisation_id")["branch"].transform("any")
    return frame[frame["branch"] | ~has_branch]


def survive_organisations(store: GoldenStore, conn: sa.Connection, organisation_ids: set[str],
                          retired: dict[str, str], rules, run_id: int) -> pd.DataFrame:
    """Re-survive the organisations from their members' records; write the rows that changed (versioned).

    An organisation without an active member keeps its last values with status ``deleted``; a retired one
    points to its survivor. Returns the written rows (``organisation_id, version, status, merged_into, data``).
    """
    from cdq import golden_values
    from cdq.survivorship import survive

    ids = set(organisation_ids) | set(retired)
    if not ids:
        return pd.DataFrame(columns=["organisation_id", "version", "status", "merged_into", "data"])
    org_rules = rules.for_organisations()
    frame = _member_records(store, conn, ids - set(retired))
    clusters = frame[["record_id", "organisation_id"]].rename(columns={"organisation_id": "cluster_id"})
    golden, lineage = survive(frame, clusters, org_rules)
    built = golden_values.golden_rows(golden, lineage, org_rules)
    existing = _rows(conn, ids).set_index("organisation_id")
    rows = golden_values.versioned_rows(ids, existing, retired, built, "organisation_id")
    if rows:
        seq = store.next_seq(conn)
        write_versioned(conn, organisations, organisation_versions, "organisation_id",
                        [{**r, "seq": seq} for r in rows], set(existing.index), run_id)
    return pd.DataFrame(rows, columns=["organisation_id", "version", "status", "merged_into", "data"])


def _rows(conn: sa.Connection, ids: Iterable[str]) -> pd.DataFrame:
    rows = [r for chunk in chunks(sorted(set(ids)))
            for r in conn.execute(sa.select(organisations).where(organisations.c.organisation_id.in_(chunk))).all()]
    return pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)


def organisation_of_members(store: GoldenStore, golden_ids: Iterable[str]) -> dict[str, str]:
    """golden id → organisation id (read only; :func:`memberships` inside a transaction)."""
    with store.engine.connect() as conn:
        return memberships(conn, golden_ids)


def organisation_frame(store: GoldenStore, *, since: int = 0, full: bool = True,
                       ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Golden organisations as a frame (one column per value), with ``locations`` and ``contacts``: the golden
    ids of its active members, ';'-joined. ``full=False``: only those changed after change sequence ``since``."""
    q = sa.select(organisations).order_by(organisations.c.organisation_id)
    if not full:
        q = q.where(organisations.c.seq > since)
    if ids is not None:
        q = q.where(organisations.c.organisation_id.in_(sorted(set(ids))))
    with store.engine.connect() as conn:
        rows = pd.DataFrame([tuple(r) for r in conn.execute(q).all()], columns=COLUMNS)
        members = members_of(conn, rows["organisation_id"])
        golden = store.golden(conn, members["golden_id"])
    values = pd.DataFrame([json.loads(d) if d else {} for d in rows["data"]], index=rows.index)
    out = pd.concat([rows.drop(columns=["data", "lineage", "data_hash", "created_run", "updated_run"]), values], axis=1)
    kind = {g: (json.loads(d or "{}") or {}).get("party_type") for g, d, s in
            zip(golden["golden_id"], golden["data"], golden["status"]) if s == "active"}
    members = members[members["golden_id"].isin(set(kind))].sort_values("golden_id")
    members = members.assign(role=members["golden_id"].map(kind).map(
        lambda p: "locations" if p == "organisation" else "contacts"))
    for role in ("locations", "contacts"):
        mine = members[members["role"] == role].groupby("organisation_id")["golden_id"].agg(";".join)
        out[role] = out["organisation_id"].map(mine)
    return out
