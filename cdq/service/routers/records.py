"""``POST /v1/validate`` (:func:`cdq.leads.validate_record`) and ``POST /v1/match`` (:func:`cdq.leads.index.match_many`:
requests arriving together are scored in one call, :mod:`cdq.service.batching`)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request

from cdq.service.auth import require, state_of
from cdq.service.models import CustomerRecord

router = APIRouter(prefix="/v1", tags=["records"])
#: Golden values a match answer shows (enough to recognise the customer on screen).
SUMMARY = ("initials", "first_name", "infix", "last_name", "company_name", "street", "house_number", "house_letter",
           "house_number_addition", "postcode", "city")


@router.post("/validate", dependencies=[Depends(require("read"))])
def validate(request: Request, record: CustomerRecord) -> dict[str, Any]:
    """The normalized record, reason codes with English and Dutch texts, name plausibility with reasons,
    e-mail and phone verdicts and the address status. Nothing is stored."""
    from cdq.leads import validate_record

    return validate_record(record.values(), reference=state_of(request).reference).as_dict()


def golden_summaries(request: Request, golden_ids: list[str]) -> dict[str, dict[str, Any]]:
    """golden id → the recognisable values of its current golden record."""
    from cdq.store.schema import golden_records as g

    with state_of(request).store.engine.connect() as conn:
        rows = conn.execute(sa.select(g.c.golden_id, g.c.data, g.c.status).where(g.c.golden_id.in_(golden_ids))).all()
    out = {}
    for gid, data, status in rows:
        values = json.loads(data) if data else {}
        out[gid] = {"status": status, **{k: values.get(k) for k in SUMMARY}}
    return out


@router.post("/match", dependencies=[Depends(require("match"))])
def match(request: Request, record: CustomerRecord, limit: int = Query(5, ge=1, le=100)) -> dict[str, Any]:
    """Ranked candidate golden records with match probability, the batch decision (``match`` / ``review``
    / ``non_match``) and the per-field explanation (level and weight), as batch linkage gives them."""
    state = state_of(request)
    found = state.matcher((record.values(), min(limit, state.settings.match_limit)))
    summaries = golden_summaries(request, [c.golden_id for c in found]) if found else {}
    return {"candidates": [{**c.as_dict(), "golden": summaries.get(c.golden_id, {})} for c in found]}
