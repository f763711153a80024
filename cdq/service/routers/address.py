"""``GET /v1/address``: completion from the address reference (:func:`cdq.address.lookup`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from cdq.service.auth import require, state_of

router = APIRouter(prefix="/v1", tags=["address"])


# async: one indexed SQLite query (~0.2 ms) on the event loop beats a hop to the thread pool and back
@router.get("/address", dependencies=[Depends(require("read"))])
async def address(request: Request, postcode: str = Query(..., min_length=4, max_length=10),
            house_number: str = Query(..., min_length=1, max_length=12),
            addition: str | None = Query(None, max_length=10)) -> dict[str, Any]:
    """Street, city, municipality, BAG id and ``address_status`` for postcode + house number (+ addition),
    and ``additions``: every letter/addition the register holds at that number (for a form to offer)."""
    from cdq.address import lookup

    found = lookup(postcode, house_number, addition, store=state_of(request).reference).as_dict()
    found["address_status"] = found.pop("status")
    found["additions"] = found.pop("existing")
    return found
