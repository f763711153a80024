"""``POST /v1/validate`` (:func:`cdq.leads.validate_record`) and ``POST /v1/match`` (:func:`cdq.leads.index.match_many`:
requests arriving together are scored in one call, :mod:`cdq.service.batching`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cdq.service.auth import require, state_of
from cdq.service.models import CustomerRecord
from cdq.service.state import summaries

router = APIRouter(prefix="/v1", tags=["records"])


@router.post("/validate", dependencies=[Depends(require("read"))])
def validate(request: Request, record: CustomerRecord) -> dict[str, Any]:
    """The normalized record, reason codes with English and Dutch texts, name plausibility with reasons,
    e-mail and phone verdicts and the address status. Nothing is stored."""
    from cdq.leads import validate_record

    return validate_record(record.values(), reference=state_of(request).reference).as_dict()


def golden_summaries(request: Request, golden_ids: list[str]) -> dict[str, dict[str, Any]]:
    """golden id → the recognisable values of its current golden record (:func:`summaries`)."""
    with state_of(request).store.engine.connect() as conn:
        return summaries(conn, golden_ids)


# async: the scoring runs in the batcher's thread (cdq.service.batching); a sync endpoint would add two hops to
# the thread pool and back per request (the endpoint, then FastAPI's check of its answer)
@router.post("/match", dependencies=[Depends(require("match"))])
async def match(request: Request, record: CustomerRecord, limit: int = Query(5, ge=1, le=100)) -> dict[str, Any]:
    """Ranked candidate golden records with match probability, the batch decision (``match`` / ``review``
    / ``non_match``) and the per-field explanation (level and weight), as batch linkage gives them."""
    state = state_of(request)
    found, golden = await state.matcher.submit((record.values(), min(limit, state.settings.match_limit)))
    return {"candidates": [{**c.as_dict(), "golden": golden.get(c.golden_id, {})} for c in found]}
