"""``POST /v1/leads`` (:func:`cdq.leads.intake`) and ``GET /v1/leads/{lead_id}``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response

from cdq.service.apikeys import ApiKey
from cdq.service.auth import require, state_of
from cdq.service.models import LeadIn
from cdq.store.online import leads

router = APIRouter(prefix="/v1", tags=["leads"])


@router.post("/leads", status_code=201)
def post_lead(request: Request, response: Response, lead: LeadIn,
              idempotency_key: str | None = Header(None, max_length=200, pattern=r"^[\x21-\x7e]+$"),
              key: ApiKey = Depends(require("leads"))) -> dict[str, Any]:
    """Clean, match and store a web lead, and push it to the CRM. ``{golden_id, outcome, lead_id}``:
    outcome ``created`` | ``matched`` | ``review`` (201), or ``queued`` (202) while a nightly run holds
    the store (taken in right after it). The same ``Idempotency-Key`` again returns the first answer (200)."""
    from cdq.leads import intake

    state = state_of(request)
    values = lead.values()
    answer = intake(values, state.store, state.index, idempotency_key=idempotency_key, key_id=key.key_id,
                    reference=state.reference, crm_url=state.settings.crm)
    if answer.replayed:
        response.status_code = 200
    elif answer.outcome == "queued":
        response.status_code = 202
    return answer.as_dict()


@router.get("/leads/{lead_id}", dependencies=[Depends(require("leads"))])
def get_lead(request: Request, lead_id: str) -> dict[str, Any]:
    """A lead's status (``queued`` until taken in), golden id and CRM push result."""
    with state_of(request).store.engine.connect() as conn:
        row = conn.execute(sa.select(leads.c.lead_id, leads.c.status, leads.c.golden_id, leads.c.received_at,
                                     leads.c.processed_at, leads.c.crm_status, leads.c.crm_id)
                           .where(leads.c.lead_id == lead_id)).mappings().first()
    if row is None:
        raise HTTPException(404, "no such lead")
    return {**dict(row), "outcome": row["status"]}
