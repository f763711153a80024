"""Retention (AVG art. 5(1)(e)): purge what ``rules/retention.yaml`` says is kept long enough.

:func:`apply_retention` returns one row per thing it purges (``kind, target, age_days``) — the same rows
with ``dry_run`` (nothing changed) as without. Kinds: ``soft_deleted_record`` (a source record deleted at
its source; ``target`` is its golden id, never its ref, which may hold an e-mail address),
``emptied_golden`` (a golden record left without source records), ``inactive_prospect``,
``golden_version`` and ``run_artefact`` (a file path). Ages count from the runs that recorded the data
(``runs.started_at``) and, for files, from their modification time.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from cdq.config import load_model
from cdq.privacy.erase import ARTEFACTS, erase_golden
from cdq.resources import resource
from cdq.store import GoldenStore, chunks
from cdq.store.schema import golden_records, golden_versions, runs, source_records, xref

__all__ = ["RetentionRules", "load_retention", "apply_retention", "ARTEFACTS"]

logger = logging.getLogger(__name__)
COLUMNS = ["kind", "target", "age_days"]


class ProspectRule(BaseModel):
    """Golden records fed only by ``sources``, not seen for ``months``."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str]
    months: int


class RetentionRules(BaseModel):
    """The authoring model of ``rules/retention.yaml`` (every rule optional: absent = keep)."""

    model_config = ConfigDict(extra="forbid")
    soft_deleted_records_days: int | None = None
    inactive_prospects: ProspectRule | None = None
    golden_versions_days: int | None = None
    run_artefacts_days: int | None = None


def load_retention(path: str | Path | None = None) -> RetentionRules:
    """Read and validate a retention YAML (default: the bundled ``rules/retention.yaml``)."""
    return load_model(path or resource("rules", "retention.yaml"), RetentionRules)


def _age_days(when: str | None, now: dt.datetime) -> float | None:
    if not when:
        return None
    stamp = dt.datetime.fromisoformat(when)
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
    return (now - stamp).total_seconds() / 86400


def _run_ages(conn: sa.Connection, now: dt.datetime) -> dict[int, float | None]:
    return {rid: _age_days(at, now) for rid, at in conn.execute(sa.select(runs.c.run_id, runs.c.started_at)).all()}


def _soft_deleted(conn: sa.Connection, days: int, ages: dict) -> pd.DataFrame:
    j = source_records.join(xref, xref.c.source_record_id == source_records.c.id)
    rows = conn.execute(sa.select(source_records.c.id, source_records.c.deleted_run, xref.c.golden_id)
                        .select_from(j).where(source_records.c.deleted_run.is_not(None))).all()
    old = [(sid, gid, ages.get(run)) for sid, run, gid in rows if (ages.get(run) or 0) > days]
    return pd.DataFrame(old, columns=["source_record_id", "golden_id", "age_days"])


def _emptied(conn: sa.Connection, golden_ids: set[str], purged: set[int]) -> list[str]:
    """Golden ids among ``golden_ids`` whose every source record is about to be purged."""
    left = set()
    for chunk in chunks(sorted(golden_ids)):
        for gid, sid in conn.execute(sa.select(xref.c.golden_id, xref.c.source_record_id)
                                     .where(xref.c.golden_id.in_(chunk))).all():
            if sid not in purged:
                left.add(gid)
    return sorted(golden_ids - left)


def _prospects(conn: sa.Connection, rule: ProspectRule, ages: dict) -> pd.DataFrame:
    j = source_records.join(xref, xref.c.source_record_id == source_records.c.id).join(
        golden_records, golden_records.c.golden_id == xref.c.golden_id)
    rows = conn.execute(sa.select(xref.c.golden_id, source_records.c.source, source_records.c.last_run)
                        .select_from(j).where(golden_records.c.status == "active",
                                              source_records.c.deleted_run.is_(None))).all()
    frame = pd.DataFrame(rows, columns=["golden_id", "source", "last_run"])
    if frame.empty:
        return pd.DataFrame(columns=["golden_id", "age_days"])
    frame["age"] = frame["last_run"].map(ages).astype(float)
    per = frame.groupby("golden_id").agg(only=("source", lambda s: set(s) <= set(rule.sources)),
                                         age_days=("age", "min"))
    limit = rule.months * 365.25 / 12
    return per[per["only"] & (per["age_days"] > limit)].reset_index()[["golden_id", "age_days"]]


def _old_versions(conn: sa.Connection, days: int, ages: dict) -> pd.DataFrame:
    j = golden_versions.join(golden_records, golden_records.c.golden_id == golden_versions.c.golden_id)
    rows = conn.execute(sa.select(golden_versions.c.golden_id, golden_versions.c.version, golden_versions.c.run_id)
                        .select_from(j).where(golden_versions.c.version < golden_records.c.version)).all()
    old = [(gid, v, ages.get(run)) for gid, v, run in rows if (ages.get(run) or 0) > days]
    return pd.DataFrame(old, columns=["golden_id", "version", "age_days"])


def _artefacts(workdir: Path, days: int, now: dt.datetime) -> list[tuple[Path, float]]:
    found = []
    for name in ARTEFACTS:
        top = workdir / name
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for path in files:
            age = (now.timestamp() - path.stat().st_mtime) / 86400
            if age > days:
                found.append((path, age))
    return found


def apply_retention(store: GoldenStore, rules: RetentionRules, *, workdir: str | Path | None = None,
                    now: dt.datetime | None = None, dry_run: bool = False) -> pd.DataFrame:
    """Purge what the rules say has been kept long enough; return what was (or, dry, would be) purged."""
    now = now or dt.datetime.now(dt.UTC)
    out: list[tuple[str, str, float]] = []
    with store.engine.connect() if dry_run else store.begin() as conn:  # a dry run only reads
        ages = _run_ages(conn, now)
        if rules.soft_deleted_records_days is not None:
            old = _soft_deleted(conn, rules.soft_deleted_records_days, ages)
            emptied = _emptied(conn, set(old["golden_id"]), set(old["source_record_id"]))
            out += [("soft_deleted_record", g, a) for g, a in zip(old["golden_id"], old["age_days"])]
            out += [("emptied_golden", g, float(old.loc[old["golden_id"] == g, "age_days"].min())) for g in emptied]
            if not dry_run:
                _purge_sources(conn, old["source_record_id"].astype(int).tolist())
                if emptied:
                    erase_golden(store, conn, emptied, tombstone=False)
        if rules.inactive_prospects is not None:
            prospects = _prospects(conn, rules.inactive_prospects, ages)
            out += [("inactive_prospect", g, a) for g, a in zip(prospects["golden_id"], prospects["age_days"])]
            for golden_id in [] if dry_run else prospects["golden_id"]:
                erase_golden(store, conn, [golden_id], tombstone=False)
        if rules.golden_versions_days is not None:
            versions = _old_versions(conn, rules.golden_versions_days, ages)
            out += [("golden_version", f"{g} v{v}", a) for g, v, a in versions.itertuples(index=False)]
            for g, v, _ in [] if dry_run else versions.itertuples(index=False):
                conn.execute(golden_versions.delete().where(golden_versions.c.golden_id == g,
                                                            golden_versions.c.version == v))
        if not dry_run and out:
            counts = pd.Series([k for k, _, _ in out]).value_counts().to_dict()
            conn.execute(runs.insert().values(kind="retention", started_at=now.isoformat(timespec="seconds"),
                                              finished_at=now.isoformat(timespec="seconds"), status="ok",
                                              counts=json.dumps(counts, sort_keys=True)))
    if workdir is not None and rules.run_artefacts_days is not None:
        for path, age in _artefacts(Path(workdir), rules.run_artefacts_days, now):
            out.append(("run_artefact", str(path), age))
            if not dry_run:
                path.unlink()
    logger.info("retention%s: %d item(s)", " (dry run)" if dry_run else "", len(out))
    return pd.DataFrame(out, columns=COLUMNS).assign(age_days=lambda f: f["age_days"].astype(float).round(1))


def _purge_sources(conn: sa.Connection, ids: list[int]) -> None:
    from cdq.privacy.erase import _delete_decisions

    for chunk in chunks(ids):
        refs = list(conn.execute(sa.select(source_records.c.ref).where(source_records.c.id.in_(chunk))).scalars())
        _delete_decisions(conn, refs)
        conn.execute(xref.delete().where(xref.c.source_record_id.in_(chunk)))
        conn.execute(source_records.delete().where(source_records.c.id.in_(chunk)))
