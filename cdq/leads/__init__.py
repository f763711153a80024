"""Data quality at the point of entry: one record validated, one web lead taken in.

:func:`validate_record` cleans one customer record with the batch stages (normalize, address completion,
name plausibility) and explains every reason code in English and Dutch; nothing is stored.

:func:`intake` takes one web lead: validates it, matches it against the golden store
(:func:`cdq.leads.index.match_one`, the batch model and thresholds), and in ONE short transaction
(:func:`cdq.leads.lock.lead_transaction`) stores it as a source record (``source`` = ``lead:<source_code>``)
attached to the matched golden record (``matched``, probability ≥ auto-match) or as a new golden record
(``created``; ``review`` when the best candidate is in the review band, exactly as a batch pair would be
kept apart and queued for a steward), through :func:`cdq.golden.merge_batch` like a nightly batch of one.
While a nightly run holds the store the lead is queued instead (``queued``); :func:`drain` takes the queue
in after the run. An ``idempotency_key`` makes a retry return the first answer and store nothing twice.
After the commit the lead is pushed to the CRM (:mod:`cdq.leads.crm`) and audited (ids and outcome only).
"""

from __future__ import annotations

import json
import logging
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa

from cdq.golden import PAYLOAD_COLUMNS, merge_batch
from cdq.leads.index import Candidate, MatchIndex, match_one
from cdq.leads.lock import lead_transaction
from cdq.store import GoldenStore
from cdq.store.online import audit_log, leads
from cdq.store.schema import now, runs, source_records

__all__ = ["LeadAnswer", "Validation", "drain", "intake", "validate_record", "SOURCE_CODES", "QUALIFICATIONS"]

logger = logging.getLogger(__name__)

SOURCE_CODES = ("website", "phone", "letter", "fair", "email", "campaign", "referral", "other")
QUALIFICATIONS = ("warm", "cold")
#: The fields a form or API client may send (canonical staging names).
RECORD_FIELDS = ("title", "initials", "first_name", "infix", "last_name", "gender", "birth_date", "company_name",
                 "kvk_number", "street", "house_number", "house_letter", "house_number_addition", "postcode", "city",
                 "country", "email", "phone", "mobile")


@dataclass
class Validation:
    """One record cleaned: the normalized values, every reason code explained, verdicts per field."""

    record: dict[str, Any]
    issues: list[dict[str, str]] = field(default_factory=list)
    name: dict[str, Any] = field(default_factory=dict)
    email: str = "missing"
    phone: str = "missing"
    address_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _texts(code: str) -> tuple[str, str]:
    from cdq.printouts.dutch import issue_texts
    from cdq.reasons import REASONS

    english = REASONS.get(code, {}).get("description", code)
    dutch = issue_texts().get(code)
    return english, dutch.text if dutch is not None else english


def _verdict(value: Any, codes: list[tuple[str, str]], prefix: str) -> str:
    """``missing``, ``invalid`` (an error-level finding), ``corrected`` (rewritten) or ``valid``."""
    mine = [(c, sev) for c, sev in codes if c.startswith(prefix)]
    if any(sev == "error" for _, sev in mine):
        return "invalid"
    if value is None or value == "":
        return "missing"
    return "corrected" if mine else "valid"


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return value.item() if hasattr(value, "item") else value


def validate_record(record: dict[str, Any], *, reference: Any = None) -> Validation:
    """Normalize one record, complete its address (when a reference store is given), check the name.

    Args:
        record: canonical field names (:data:`RECORD_FIELDS`); unknown keys are ignored.
        reference: an open :class:`cdq.address.AddressStore`, or ``None`` to skip address completion.

    Examples:
        >>> v = validate_record({"first_name": "Asdfgh", "last_name": "Qwerty", "phone": "06-12345678"})
        >>> v.record["mobile"], v.name["plausible"], v.phone
        ('+31612345678', False, 'corrected')
    """
    from cdq.names import check
    from cdq.normalize import normalize

    frame = pd.DataFrame([{"record_id": "r", **{k: record.get(k) for k in RECORD_FIELDS}}])
    frame, findings = normalize(frame)
    parts = [findings]
    if reference is not None:
        from cdq.address import complete

        frame, found = complete(frame, reference)
        parts.append(found)
    frame, found = check(frame)
    parts.append(found)
    allf = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else findings
    row = {k: _clean(v) for k, v in frame.iloc[0].items()}
    codes = list(zip(allf["reason_code"].astype(str), allf["severity"].astype(str))) if len(allf) else []
    issues = []
    for (code, severity), column in zip(codes, allf["column"] if len(allf) else []):
        english, dutch = _texts(code)
        issues.append({"code": code, "severity": severity, "field": _clean(column), "en": english, "nl": dutch})
    name = {"plausibility": row.get("name_plausibility"), "plausible": row.get("name_plausible"),
            "reasons": [c for c in str(row.get("name_issues") or "").split(";") if c]}
    values = {k: row.get(k) for k in PAYLOAD_COLUMNS if k not in ("source", "source_file", "source_row")}
    phone_value = row.get("phone") or row.get("mobile")
    return Validation(values, issues, name, _verdict(row.get("email"), codes, "EMAIL"),
                      _verdict(phone_value, codes, "PHONE"), row.get("address_status"))


@dataclass
class LeadAnswer:
    """What ``POST /v1/leads`` answers (and answers again for a retry with the same key)."""

    lead_id: str
    outcome: str
    golden_id: str | None
    match_probability: float | None = None
    review_with: str | None = None
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _BoundStore:
    """The store with ``begin()`` bound to an open transaction: :func:`merge_batch` then runs inside the
    lead's transaction (the one holding the lock row) instead of opening a second one."""

    def __init__(self, store: GoldenStore, conn: sa.Connection):
        self._store, self._conn = store, conn

    @contextmanager
    def begin(self):
        yield self._conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def _existing(conn: sa.Connection, idempotency_key: str | None) -> LeadAnswer | None:
    if not idempotency_key:
        return None
    row = conn.execute(sa.select(leads.c.answer).where(leads.c.idempotency_key == idempotency_key)).first()
    return LeadAnswer(**{**json.loads(row[0]), "replayed": True}) if row and row[0] else None


def audit(conn: sa.Connection, kind: str, **values: Any) -> None:
    """One audit row: ids, outcome, status and codes only (never names, e-mails, phones or addresses)."""
    conn.execute(audit_log.insert().values(at=now(), kind=kind, **values))


def _merge_lead(conn: sa.Connection, store: GoldenStore, index: MatchIndex, lead_id: str, source_code: str,
                record: dict[str, Any]) -> LeadAnswer:
    """Match and store one lead inside ``conn`` (the lead transaction); index its record.

    The index is brought up to date first, inside the transaction that holds the writer lock: whatever
    committed before (a nightly run that released the store a moment ago, another service process's lead)
    is matched against, so the lead cannot become a second golden record for a person already stored.
    """
    from cdq.survivorship import load_rules

    index.refresh(conn, settled=False)
    candidates: list[Candidate] = match_one(record, index, conn=conn, limit=1)
    best = candidates[0] if candidates else None
    row = {**{c: record.get(c) for c in PAYLOAD_COLUMNS}, "record_id": lead_id, "source": f"lead:{source_code}",
           "source_key": lead_id, "source_file": None, "source_row": None}
    staging, cluster = [row], [(lead_id, lead_id)]
    pairs = pd.DataFrame(columns=["record_id_l", "record_id_r", "match_probability"])
    if best is not None and best.decision == "match":
        payload = conn.execute(sa.select(source_records.c.payload).where(source_records.c.ref == best.source_ref)
                               ).scalar_one()
        stored = {**json.loads(payload), "record_id": "stored:" + best.source_ref}
        staging.append(stored)
        cluster.append((stored["record_id"], lead_id))
        pairs = pd.DataFrame([{"record_id_l": lead_id, "record_id_r": stored["record_id"],
                               "match_probability": best.match_probability}])
    run_id = conn.execute(runs.insert().values(kind="lead", started_at=now(), status="running")
                          .returning(runs.c.run_id)).scalar_one()
    result = merge_batch(pd.DataFrame(staging), pd.DataFrame(cluster, columns=["record_id", "cluster_id"]),
                         cast(GoldenStore, _BoundStore(store, conn)), load_rules(), run_id, pairs=pairs)
    conn.execute(runs.update().where(runs.c.run_id == run_id).values(
        finished_at=now(), status="ok", counts=json.dumps(result.counts, sort_keys=True)))
    golden_id = str(result.xref.set_index("record_id").at[lead_id, "golden_id"])
    index.refresh(conn)  # the lead's own record (and anything the merge rewrote), before the commit
    if best is not None and best.decision == "match":
        return LeadAnswer(lead_id, "matched", golden_id, best.match_probability)
    if best is not None and best.decision == "review":
        return LeadAnswer(lead_id, "review", golden_id, best.match_probability, review_with=best.golden_id)
    return LeadAnswer(lead_id, "created", golden_id, best.match_probability if best else None)


def intake(lead: dict[str, Any], store: GoldenStore, index: MatchIndex, *, idempotency_key: str | None = None,
           key_id: str | None = None, reference: Any = None, crm_url: str | None = None) -> LeadAnswer:
    """Take in one web lead (see module doc). ``lead``: record fields + ``source_code``, ``qualification``,
    optional ``campaign``. Returns the answer; a retry with the same ``idempotency_key`` returns the first."""
    with store.engine.connect() as conn:
        first = _existing(conn, idempotency_key)
    if first is not None:
        return first
    validation = validate_record(lead, reference=reference)
    record = {k: v for k, v in validation.record.items() if v is not None}
    lead_id = "L" + uuid.uuid4().hex[:16]
    source_code = str(lead.get("source_code") or "website")
    with lead_transaction(store) as (conn, free):
        first = _existing(conn, idempotency_key)  # authoritative: leads are serialised by the lock row
        if first is not None:
            return first
        answer = (_merge_lead(conn, store, index, lead_id, source_code, record) if free
                  else LeadAnswer(lead_id, "queued", None))
        conn.execute(leads.insert().values(
            lead_id=lead_id, idempotency_key=idempotency_key, key_id=key_id, received_at=now(),
            processed_at=None if not free else now(), status=answer.outcome, source_code=source_code,
            qualification=lead.get("qualification"), campaign=lead.get("campaign"), golden_id=answer.golden_id,
            match_probability=answer.match_probability, record=json.dumps(record, sort_keys=True, default=str),
            answer=json.dumps(answer.as_dict())))
        audit(conn, "lead", key_id=key_id, lead_id=lead_id, golden_id=answer.golden_id, outcome=answer.outcome)
    logger.info("lead %s: %s %s", lead_id, answer.outcome, answer.golden_id or "")
    if free and crm_url:
        push(store, lead_id, crm_url)
    return answer


def push(store: GoldenStore, lead_id: str, crm_url: str) -> str:
    """Push a stored lead to the CRM and record the result on the lead (and in the audit log)."""
    from cdq.errors import CdqError
    from cdq.leads.crm import push_lead

    with store.engine.connect() as conn:
        row = conn.execute(sa.select(leads).where(leads.c.lead_id == lead_id)).mappings().one()
    values = {**json.loads(row["record"]), **{k: row[k] for k in ("lead_id", "golden_id", "source_code",
                                                                  "qualification", "campaign")},
              "outcome": row["status"], "received_at": row["received_at"]}
    detail: str | None = None
    try:
        status, crm_id = push_lead(crm_url, values)
    except CdqError as e:
        status, crm_id = "failed", None
        logger.warning("lead %s: CRM push failed (%s)", lead_id, type(e).__name__)
        detail = str(getattr(e, "status", "") or type(e).__name__)
    with store.begin(advance=False) as conn:  # the CRM's answer: nothing a run's matching reads
        conn.execute(leads.update().where(leads.c.lead_id == lead_id).values(crm_status=status, crm_id=crm_id))
        audit(conn, "lead_crm", lead_id=lead_id, golden_id=row["golden_id"], outcome=status, detail=detail)
    return status


def drain(store: GoldenStore, index: MatchIndex, *, crm_url: str | None = None, limit: int = 500) -> int:
    """Take in the leads queued while a run held the store (oldest first); returns how many were merged.

    Each lead is matched against the store as it is in its own transaction (the run's records included,
    see :func:`_merge_lead`). Stops when a run holds the store again.
    """
    with store.engine.connect() as conn:
        queued = conn.execute(sa.select(leads.c.lead_id, leads.c.source_code, leads.c.record)
                              .where(leads.c.status == "queued").order_by(leads.c.received_at, leads.c.lead_id)
                              .limit(limit)).all()
    if not queued:
        return 0
    done = 0
    for lead_id, source_code, record in queued:
        with lead_transaction(store) as (conn, free):
            if not free:
                break
            status = conn.execute(sa.select(leads.c.status).where(leads.c.lead_id == lead_id)).scalar()
            if status != "queued":
                continue
            answer = _merge_lead(conn, store, index, lead_id, source_code or "website", json.loads(record))
            conn.execute(leads.update().where(leads.c.lead_id == lead_id).values(
                status=answer.outcome, processed_at=now(), golden_id=answer.golden_id,
                match_probability=answer.match_probability, answer=json.dumps(answer.as_dict())))
            audit(conn, "lead_drained", lead_id=lead_id, golden_id=answer.golden_id, outcome=answer.outcome)
        done += 1
        if crm_url:
            push(store, lead_id, crm_url)
    logger.info("lead queue: %d leads taken in", done)
    return done
