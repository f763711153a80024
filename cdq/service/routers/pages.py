"""Example pages: ``/examples/lead-form.html`` (a landing page using ``/static/cdq-form.js``)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["examples"])
EXAMPLES = ("lead-form.html",)


@router.get("/examples/{name}", response_class=HTMLResponse, include_in_schema=False)
def example(name: str) -> HTMLResponse:
    """A bundled example page (no personal data; the API key is read from the URL fragment by the page)."""
    if name not in EXAMPLES:
        raise HTTPException(404, "no such example")
    return HTMLResponse((resources.files("cdq.service") / "examples" / name).read_text(encoding="utf-8"))
