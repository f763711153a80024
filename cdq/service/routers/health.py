"""``GET /health``: liveness and what is loaded (no auth, no personal data)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from cdq.service.auth import state_of

router = APIRouter(tags=["health"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness, the store (URL without credentials) and the address reference loaded."""
    from cdq.crm.registry import safe_url
    from cdq.leads.lock import held_by

    state = state_of(request)
    with state.store.engine.connect() as conn:
        conn.execute(sa.text("select 1"))
    meta = state.reference.status()
    return {"status": "ok", "store": safe_url(state.settings.store), "run_in_progress": held_by(state.store) is not None,
            "reference": {"path": str(state.reference_path), "addresses": meta.get("rows"),
                          "source": meta.get("source"), "loaded_at": meta.get("loaded_at")}}
