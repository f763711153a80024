"""The customer self-service portal (``/mijn-gegevens/``): a customer sees and corrects their own data.

A personal link (:mod:`cdq.web.tokens`) opens exactly one golden record; nothing in a URL or form names a
golden id, so changing one gives nothing. Corrections are checked like ``/v1/validate`` (and the address
like ``/v1/address``); a correction that fails is shown in plain Dutch and nothing is stored. A correct one
is stored as one source record of the source ``customer_self_service`` (its trust is set in
``rules/survivorship.yaml``) and merged into the customer's golden record at once, like the adviser
printouts' corrections: the next CRM load carries it, and the steward console shows it among the
record's sources. Confirming uses the link up. "Download mijn gegevens" gives everything held about the
record (:func:`cdq.privacy.subjects.subject_report`) as JSON or as a readable page.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cdq.store import GoldenStore
from cdq.store.schema import now
from cdq.store.web import portal_corrections
from cdq.web import tokens
from cdq.web.pages import SECURITY_HEADERS, render, require_csrf

router = APIRouter(prefix="/mijn-gegevens", include_in_schema=False)
SOURCE = "customer_self_service"
#: What a customer may correct, grouped as survivorship takes them (a group is stored whole).
FIELDS = {"name": ["initials", "first_name", "infix", "last_name"],
          "address": ["postcode", "house_number", "house_letter", "house_number_addition", "street", "city"],
          "email": ["email"], "phone": ["phone"], "mobile": ["mobile"]}
LABELS = {"initials": "Voorletters", "first_name": "Voornaam", "infix": "Tussenvoegsel", "last_name": "Achternaam",
          "street": "Straat", "house_number": "Huisnummer", "house_letter": "Huisletter",
          "house_number_addition": "Toevoeging", "postcode": "Postcode", "city": "Plaats", "email": "E-mailadres",
          "phone": "Telefoon", "mobile": "Mobiel"}
_REFUSED = {"address": ("not_found", "invalid", "addition_not_found", "ambiguous"), "email": ("invalid",),
            "phone": ("invalid",)}


def _store(request: Request) -> GoldenStore:
    return request.app.state.cdq.store


def _golden_id(request: Request, token: str | None) -> str:
    golden_id = tokens.check(_store(request), token)
    if golden_id is None:
        raise _Refused()
    return golden_id


class _Refused(Exception):
    """The link is unknown, tampered with, expired or used."""


def _refused(request: Request) -> HTMLResponse:
    return render(request, "portal_refused.html", status=403)


def _csrf(request: Request, token: str) -> str:
    """The form's CSRF token: a keyed hash of the link's token (the portal has no session)."""
    import hashlib
    import hmac

    return hmac.new(tokens.store_key(_store(request)), f"csrf:{token}".encode(), hashlib.sha256).hexdigest()


def _current(store: GoldenStore, golden_id: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        rows = store.golden(conn, [golden_id])
    return json.loads(rows.at[0, "data"] or "{}") if len(rows) else {}


@router.get("/", response_class=HTMLResponse)
def page(request: Request, t: str | None = None) -> HTMLResponse:
    try:
        golden_id = _golden_id(request, t)
    except _Refused:
        return _refused(request)
    values = _current(_store(request), golden_id)
    return render(request, "portal.html", values=values, token=t, csrf=_csrf(request, t or ""), groups=FIELDS,
                  labels=LABELS, errors=[])


@router.get("/adres")
def address(request: Request, t: str | None = None, postcode: str = "", house_number: str = "",
            addition: str = "") -> JSONResponse:
    """Street and city for a postcode + house number (the portal's own, token-bound ``/v1/address``)."""
    from cdq.address import lookup

    try:
        _golden_id(request, t)
    except _Refused:
        return JSONResponse({"error": "forbidden"}, status_code=403, headers=SECURITY_HEADERS)
    found = lookup(postcode, house_number, addition or None, store=request.app.state.cdq.reference)
    ok = found.status in ("verified", "completed", "corrected")
    message = "" if ok else "Dit adres staat niet in de basisregistratie adressen; controleer postcode en huisnummer."
    return JSONResponse({"street": found.street if ok else None, "city": found.city if ok else None,
                         "house_letter": found.house_letter if ok else None,
                         "house_number_addition": found.house_number_addition if ok else None,
                         "existing": found.existing, "status": found.status, "message": message},
                        headers=SECURITY_HEADERS)


def _submitted(form: dict[str, Any]) -> dict[str, str | None]:
    return {c: (str(form.get(c) or "").strip() or None) for cols in FIELDS.values() for c in cols}


def _check(request: Request, values: dict[str, str | None], current: dict[str, Any]):
    """The groups the customer changed, cleaned, and the problems in Dutch (nothing stored when any)."""
    from cdq.leads import validate_record

    changed = [g for g, cols in FIELDS.items() if any((values[c] or None) != (_text(current.get(c))) for c in cols)]
    record = {**{c: _text(current.get(c)) for cols in FIELDS.values() for c in cols}, **values}
    check = validate_record(record, reference=request.app.state.cdq.reference)
    problems = []
    if "address" in changed and (check.address_status in _REFUSED["address"] or not values.get("postcode")):
        problems.append("Het adres klopt niet: controleer postcode, huisnummer en toevoeging.")
    if "email" in changed and values.get("email") and check.email in _REFUSED["email"]:
        problems.append("Het e-mailadres is niet geldig.")
    for group in ("phone", "mobile"):
        if group in changed and values.get(group) and check.phone in _REFUSED["phone"]:
            problems.append("Het telefoonnummer is niet geldig (geef een Nederlands of internationaal nummer).")
    if "name" in changed and not values.get("last_name"):
        problems.append("Vul uw achternaam in.")
    problems += sorted({i["nl"] for i in check.issues if i.get("severity") == "error"
                        and (i.get("field") or "") in [c for g in changed for c in FIELDS[g]]})
    return changed, check.record, problems


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else (str(value).strip() or None)


@router.post("/", response_class=HTMLResponse)
async def correct(request: Request) -> Response:
    form = dict(await request.form())
    token = str(form.get("t") or "")
    try:
        golden_id = _golden_id(request, token)
    except _Refused:
        return _refused(request)
    require_csrf(_csrf(request, token), str(form.get("csrf") or ""))
    current = _current(_store(request), golden_id)
    values = _submitted(form)
    changed, cleaned, problems = _check(request, values, current)
    if problems:
        shown = {**current, **{k: v for k, v in values.items()}}
        return render(request, "portal.html", status=422, values=shown, token=token, csrf=_csrf(request, token),
                      groups=FIELDS, labels=LABELS, errors=problems)
    with _store(request).begin() as conn:  # claimed first: of two submits with one link only one goes on
        if not tokens.use(conn, token):
            return _refused(request)
    if changed:
        try:
            apply_correction(_store(request), golden_id, {c: cleaned.get(c) for g in changed for c in FIELDS[g]},
                             changed)
        except BaseException:
            with _store(request).begin() as conn:
                tokens.release(conn, token)
            raise
    return render(request, "portal_done.html", changed=bool(changed))


@router.get("/download")
def download(request: Request, t: str | None = None, format: str = "html") -> Response:
    """Everything held about this golden record (AVG right of access), as JSON or a readable page."""
    from cdq.privacy.subjects import _letter, subject_report

    try:
        golden_id = _golden_id(request, t)
    except _Refused:
        return _refused(request)
    report = own_report(subject_report(_store(request), golden_id))
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    if format == "json":
        body = json.dumps(report, indent=2, ensure_ascii=False, default=str)
        return Response(body, media_type="application/json", headers={
            **headers, "Content-Disposition": 'attachment; filename="mijn-gegevens.json"'})
    return HTMLResponse(_letter(report), headers=headers)


def own_report(report: dict[str, Any]) -> dict[str, Any]:
    """The access report as the customer may see it: their values and their own source records only.

    Merge events and old versions can hold the values of another person whose record was once wrongly
    joined with this one (and later split off again); review decisions name other records and staff. Those
    stay in the steward's full export (``cdq subject export``), never in a customer's download.
    """
    golden = [{k: g[k] for k in ("golden_id", "status", "data")} for g in report["golden_records"]
              if g["golden_id"] == report["golden_id"]]
    sources = [{k: s.get(k) for k in ("source", "values", "first_seen_at", "last_seen_at")}
               for s in report["source_records"] if not s.get("deleted_run")]
    return {"golden_id": report["golden_id"], "golden_records": golden, "source_records": sources,
            "corrections": [{k: c.get(k) for k in ("source", "values", "first_seen_at")} for c in report["corrections"]],
            "versions": [], "history": [], "review_decisions": [], "steward_overrides": [], "crm": {}}


def apply_correction(store: GoldenStore, golden_id: str, values: dict[str, Any], groups: list[str]) -> int:
    """Store a confirmed correction as the ``customer_self_service`` source record of ``golden_id`` and
    merge it into the golden record now; return the run id. The customer's earlier corrections are kept
    (one source record per golden id), the groups corrected now replace theirs."""
    from cdq.golden import PAYLOAD_COLUMNS, merge_batch
    from cdq.survivorship import load_rules

    with store.engine.connect() as conn:
        members = store.members(conn, [golden_id])
    live = members[members["deleted_run"].isna()]
    mine = live[live["ref"].str.startswith(SOURCE + "|")]
    payload = json.loads(mine["payload"].iloc[0]) if len(mine) else {}
    payload.update(values)
    if "address" in groups:
        payload["country"] = "NL"
    payload.update({"source": SOURCE, "source_key": golden_id, "source_file": "mijn-gegevens",
                    "source_row": None, "source_updated_at": dt.date.today().isoformat()})
    batch = pd.DataFrame([{c: payload.get(c) for c in PAYLOAD_COLUMNS} | {"record_id": f"{SOURCE}:{golden_id}"}])
    anchors = live[~live["ref"].str.startswith(SOURCE + "|")].head(1)
    stored = pd.DataFrame([json.loads(p) for p in anchors["payload"]], columns=PAYLOAD_COLUMNS)
    stored["record_id"] = anchors["ref"].to_numpy()
    staging = pd.concat([batch, stored], ignore_index=True)
    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": golden_id})
    run_id = store.start_run(SOURCE)
    result = merge_batch(staging, clusters, store, load_rules(), run_id)
    store.finish_run(run_id, counts=result.counts)
    with store.begin() as conn:
        conn.execute(portal_corrections.insert().values(golden_id=golden_id, submitted_at=now(),
                                                        values=json.dumps(sorted(groups)), applied_run=run_id))
    return run_id


def corrections(store: GoldenStore, golden_id: str) -> list[dict[str, Any]]:
    """The corrections a customer confirmed for ``golden_id`` (groups and dates)."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(portal_corrections).where(portal_corrections.c.golden_id == golden_id)
                            .order_by(portal_corrections.c.id)).mappings().all()
    return [dict(r) for r in rows]
