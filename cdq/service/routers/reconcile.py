"""``/reconcile``: the W3C Entity Reconciliation API v0.2 (what OpenRefine 3.x speaks) over the golden store.

- ``GET /reconcile``: the service manifest (JSONP with ``?callback=``);
- ``GET|POST /reconcile`` with ``queries`` (form field or query parameter, a JSON batch ``{"q0": {"query":
  "Jan de Vries", "properties": [{"pid": "postcode", "v": "1234 AB"}, ...], "limit": 3}}``): candidates per
  query with ``score`` (0-100, the match probability), ``match`` (the batch auto-match decision, only for
  the best candidate) and ``features`` (the per-field weights);
- ``GET /reconcile/preview?id=G0000001``: a small HTML card of the golden record.

Properties (``pid``): ``postcode``, ``house_number``, ``email``, ``phone``, ``birth_date``, ``city``,
``street``, ``first_name``, ``last_name``, ``company_name``. Needs a ``read`` key unless the settings open
it (``reconcile_public: true``), read-only either way.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cdq.service.auth import require, state_of

router = APIRouter(tags=["reconcile"])
PROPERTIES = ("postcode", "house_number", "email", "phone", "birth_date", "city", "street", "first_name",
              "last_name", "company_name")
TYPE = {"id": "customer", "name": "Customer (golden record)"}
_CALLBACK = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$")


def _public(request: Request) -> bool:
    return state_of(request).settings.reconcile_public


def _base(request: Request) -> str:
    return (state_of(request).settings.public_url or str(request.base_url)).rstrip("/")


def manifest(request: Request) -> dict[str, Any]:
    """The service manifest (validates against the v0.2 ``manifest.json`` schema)."""
    base = _base(request)
    return {"versions": ["0.2"], "name": "cdq golden customers", "identifierSpace": f"{base}/golden/",
            "schemaSpace": f"{base}/schema/", "documentation": f"{base}/docs", "defaultTypes": [TYPE],
            "view": {"url": f"{base}/reconcile/preview?id={{{{id}}}}"},
            "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}", "width": 400, "height": 200},
            "suggest": {}}


def _record(query: dict[str, Any]) -> dict[str, Any]:
    """A reconciliation query as a customer record: the name split Dutch-style, properties by pid."""
    from cdq.normalize.name_parsing import split_name

    record: dict[str, Any] = {}
    text = str(query.get("query") or "").strip()
    if text:
        parts = split_name(text)
        record.update({k: v for k, v in vars(parts).items() if v and k != "gender"})
    for prop in query.get("properties") or []:
        pid, value = prop.get("pid"), prop.get("v")
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("name") or value.get("id")
        if pid in PROPERTIES and value not in (None, ""):
            record[pid] = str(value)
    return record


def _name(values: dict[str, Any]) -> str:
    name = " ".join(filter(None, [values.get("first_name") or values.get("initials"), values.get("infix"),
                                  values.get("last_name")]))
    return name or values.get("company_name") or "(no name)"


def reconcile_batch(request: Request, queries: dict[str, Any]) -> dict[str, Any]:
    """Results per query key (validates against ``reconciliation-result-batch.json``)."""
    from cdq.leads.index import match_one
    from cdq.service.routers.records import golden_summaries

    state = state_of(request)
    out: dict[str, Any] = {}
    for qid, query in queries.items():
        if not isinstance(query, dict):
            raise HTTPException(422, f"query {qid!r} is not an object")
        limit = max(1, min(int(query.get("limit") or 3), state.settings.match_limit))
        found = match_one(_record(query), state.index, limit=limit)
        names = golden_summaries(request, [c.golden_id for c in found]) if found else {}
        out[qid] = {"result": [{
            "id": c.golden_id, "name": _name(names.get(c.golden_id, {})), "score": round(100 * c.match_probability, 2),
            "match": bool(i == 0 and c.decision == "match"), "type": [TYPE],
            "description": ", ".join(filter(None, [names.get(c.golden_id, {}).get("postcode"),
                                                   names.get(c.golden_id, {}).get("city")])),
            "features": [{"id": f, "value": e["weight"]} for f, e in c.explanation.items()],
        } for i, c in enumerate(found)]}
    return out


def _parse_queries(text: str) -> dict[str, Any]:
    try:
        queries = json.loads(text)
    except json.JSONDecodeError as e:
        raise HTTPException(422, f"queries: not valid JSON ({e.msg} at position {e.pos})") from None
    if not isinstance(queries, dict):
        raise HTTPException(422, "queries: must be an object of query id -> query")
    return queries


def _answer(body: Any, callback: str | None) -> Response:
    if callback:
        if not _CALLBACK.match(callback):
            raise HTTPException(422, "callback: not a JavaScript identifier")
        return Response(f"{callback}({json.dumps(body)})", media_type="application/javascript")
    return JSONResponse(body)


@router.get("/reconcile", dependencies=[Depends(require("read", public_if=_public))])
def reconcile_get(request: Request, queries: str | None = None, callback: str | None = None) -> Response:
    """The manifest, or (with ``queries``) a batch of reconciliation queries."""
    if queries is None:
        return _answer(manifest(request), callback)
    return _answer(reconcile_batch(request, _parse_queries(queries)), callback)


@router.post("/reconcile", dependencies=[Depends(require("read", public_if=_public))])
async def reconcile_post(request: Request) -> Response:
    """A batch of queries as the form field ``queries`` (what OpenRefine sends) or as a JSON body."""
    from starlette.concurrency import run_in_threadpool

    raw = (await request.body()).decode("utf-8", "replace")
    if request.headers.get("content-type", "").startswith("application/json"):
        text = raw
    else:
        text = (parse_qs(raw).get("queries") or [""])[0]
        if not text:
            raise HTTPException(422, "queries: missing (send the form field queries=<JSON batch>)")
    queries = _parse_queries(text)
    return JSONResponse(await run_in_threadpool(reconcile_batch, request, queries))


@router.get("/reconcile/preview", response_class=HTMLResponse,
            dependencies=[Depends(require("read", public_if=_public))])
def preview(request: Request, id: str) -> HTMLResponse:
    """A small HTML card of one golden record (OpenRefine shows it in a pop-up)."""
    from cdq.service.routers.records import golden_summaries

    found = golden_summaries(request, [id]).get(id)
    if found is None:
        raise HTTPException(404, "no such golden record")
    number = "".join(filter(None, [found.get("house_number"), found.get("house_letter")]))
    if found.get("house_number_addition"):
        number += "-" + found["house_number_addition"]
    lines = [_name(found), " ".join(filter(None, [found.get("street"), number])),
             " ".join(filter(None, [found.get("postcode"), found.get("city")]))]
    body = "".join(f"<div>{html.escape(line)}</div>" for line in lines if line.strip())
    return HTMLResponse(f"<html><body style='font-family:sans-serif;margin:8px'><b>{html.escape(id)}</b> "
                        f"({html.escape(str(found.get('status')))}){body}</body></html>")
