"""The steward console (``/steward/``): review queue, customer search and detail with actions, runs.

Anonymous visitors are sent to the login page; viewers see everything and change nothing (403 on every
action); stewards and admins decide pairs, unmerge, split and override. Every form carries the session's
CSRF token; every action is audited (:func:`cdq.web.users.audit`) and goes through the same library call
the CLI uses (``save_decisions``, ``cdq.golden.unmerge``, ``split_record``, ``set_override``).
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cdq.store import GoldenStore
from cdq.store.schema import events, golden_records, runs
from cdq.web import users
from cdq.web.pages import SECURITY_HEADERS, render, require_csrf

router = APIRouter(prefix="/steward", include_in_schema=False)
COOKIE = "cdq_console"
LOGIN_COOKIE = "cdq_login_csrf"
SHOWN = ["title", "initials", "first_name", "infix", "last_name", "gender", "birth_date", "company_name", "street",
         "house_number", "house_letter", "house_number_addition", "postcode", "city", "country", "email", "phone",
         "mobile"]
OVERRIDABLE = [c for c in SHOWN if c != "country"] + ["country"]


def _store(request: Request) -> GoldenStore:
    return request.app.state.cdq.store


class LoginRequired(Exception):
    """No (live) session: the page sends the visitor to the login form."""


def session(request: Request) -> users.Session:
    """The visitor's session, or a redirect to the login page."""
    found = users.user_of(_store(request), request.cookies.get(COOKIE))
    if found is None:
        raise HTTPException(303, "log in first", headers={"Location": "/steward/login"})
    return found


def steward(request: Request, current: users.Session = Depends(session)) -> users.Session:
    """A session that may change things (403 for viewers)."""
    if not current.user.may("change"):
        raise HTTPException(403, "viewers may look but not change anything")
    return current


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, failed: int = 0) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", csrf=token, failed=bool(failed))
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/steward")
    return response


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form("")) -> Response:
    require_csrf(request.cookies.get(LOGIN_COOKIE), csrf)
    found = users.login(_store(request), name, password)
    if found is None:
        return _redirect("/steward/login?failed=1")
    response = _redirect("/steward/review")
    response.set_cookie(COOKIE, found.session_id, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=users.SESSION_HOURS * 3600)
    response.delete_cookie(LOGIN_COOKIE, path="/steward")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), current: users.Session = Depends(session)) -> Response:
    require_csrf(current.csrf, csrf)
    users.logout(_store(request), current.session_id)
    response = _redirect("/steward/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def home(current: users.Session = Depends(session)) -> Response:
    return _redirect("/steward/review")


# -- review queue --------------------------------------------------------------------------------------
def _pair_fields(a: dict, b: dict) -> list[dict[str, Any]]:
    rows = []
    for column in SHOWN:
        left, right = a.get(column), b.get(column)
        if left in (None, "") and right in (None, ""):
            continue
        rows.append({"column": column, "a": left, "b": right,
                     "differs": str(left or "").strip().lower() != str(right or "").strip().lower()})
    return rows


@router.get("/review", response_class=HTMLResponse)
def review(request: Request, skip: int = 0, done: int = 0, current: users.Session = Depends(session)) -> HTMLResponse:
    return _review_page(request, current, skip, done)


def _review_page(request: Request, current: users.Session, skip: int = 0, done: int = 0,
                 refused: str = "", refs: tuple[str, str] | None = None) -> HTMLResponse:
    from cdq.web.queue import open_pairs, records_of

    pairs = open_pairs(_store(request))
    if refs is not None:  # the refused pair itself, whatever its place in the queue
        pairs = pairs[(pairs["ref_a"] == refs[0]) & (pairs["ref_b"] == refs[1])] if len(pairs) else pairs
    pair = None
    if len(pairs):
        row = pairs.iloc[skip % len(pairs)]
        values = records_of(_store(request), [row["ref_a"], row["ref_b"]])
        pair = {"ref_a": row["ref_a"], "ref_b": row["ref_b"], "probability": f"{row['match_probability']:.3f}",
                "weight": f"{row['match_weight']:+.1f}",
                "explanation": [part.strip() for part in str(row["explanation"] or "").split(";") if part.strip()],
                "fields": _pair_fields(values.get(row["ref_a"], {}), values.get(row["ref_b"], {})),
                "source_a": row["ref_a"].split("|")[0], "source_b": row["ref_b"].split("|")[0]}
    return render(request, "review.html", session=current, pair=pair, open=len(pairs), skip=skip + 1, done=done,
                  refused=refused[:500], page="review")


@router.post("/review/decide")
def decide(request: Request, ref_a: str = Form(...), ref_b: str = Form(...), decision: str = Form(...),
           force: str = Form(""), csrf: str = Form(""), current: users.Session = Depends(steward)) -> Response:
    """Apply the decision now, as ``cdq review apply`` does; a match a cannot-link rule refuses comes back
    with the rule's reason (and the pair stays open) unless the steward forces it."""
    from cdq.web.queue import decide as apply_decision

    require_csrf(current.csrf, csrf)
    if decision not in ("match", "non_match"):
        raise HTTPException(422, "decision must be match or non_match")
    outcome = apply_decision(_store(request), ref_a, ref_b, decision, current.user.name, force=force == "1")
    with _store(request).begin() as conn:
        users.audit(conn, current.user.name, f"review_{decision}", str(outcome.get("golden_after") or "pair"),
                    str(outcome["action"]))
    if outcome["action"] == "refused":  # shown at once: the reason names records, it does not go in a URL
        return _review_page(request, current, refused=str(outcome["reason"]), refs=(min(ref_a, ref_b), max(ref_a, ref_b)))
    return _redirect("/steward/review?done=1")


# -- customers -------------------------------------------------------------------------------------------
_POSTCODE_NUMBER = re.compile(r"^\s*([1-9]\d{3}\s?[A-Za-z]{2})\s*(\d{1,5})?\s*$")


def _search(store: GoldenStore, q: str) -> pd.DataFrame:
    """Golden records for a search text (golden id, e-mail, phone, postcode + number, else a name)."""
    from cdq.privacy.subjects import find_subjects

    q = q.strip()
    if re.fullmatch(r"[Gg]\d{1,9}", q):
        golden_id = f"G{int(q[1:]):07d}"
        try:
            return find_subjects(store, golden_id=golden_id)
        except Exception:  # noqa: BLE001 - an unknown id is simply "nothing found"
            return pd.DataFrame(columns=["golden_id"])
    if "@" in q:
        return find_subjects(store, email=q)
    if re.fullmatch(r"[+\d\s()-]{8,}", q):
        return find_subjects(store, phone=q)
    m = _POSTCODE_NUMBER.match(q)
    if m:
        return _by_address(store, m.group(1), m.group(2))
    return find_subjects(store, name=q)


def _by_address(store: GoldenStore, postcode: str, number: str | None) -> pd.DataFrame:
    wanted = re.sub(r"\s", "", postcode).upper()
    rows = []
    for golden_id, data in _active(store):
        if re.sub(r"\s", "", str(data.get("postcode") or "")).upper() == wanted and (
                number is None or str(data.get("house_number") or "") == number):
            rows.append(golden_id)
    return pd.DataFrame({"golden_id": rows})


def _active(store: GoldenStore):
    with store.engine.connect() as conn:
        for golden_id, data in conn.execute(sa.select(golden_records.c.golden_id, golden_records.c.data)
                                            .where(golden_records.c.status == "active")):
            yield golden_id, json.loads(data or "{}")


def _summaries(store: GoldenStore, ids: list[str]) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = store.golden(conn, ids)
    out = []
    for golden_id, data, status in zip(rows["golden_id"], rows["data"], rows["status"]):
        values = json.loads(data or "{}")
        name = " ".join(str(values[c]) for c in ("initials", "first_name", "infix", "last_name") if values.get(c))
        out.append({"golden_id": golden_id, "status": status, "name": values.get("company_name") or name,
                    "address": " ".join(str(values[c]) for c in ("street", "house_number", "postcode", "city")
                                        if values.get(c)), "email": values.get("email")})
    return sorted(out, key=lambda r: r["golden_id"])


@router.get("/customers", response_class=HTMLResponse)
def customers(request: Request, q: str = "", current: users.Session = Depends(session)) -> HTMLResponse:
    found = _search(_store(request), q) if q.strip() else pd.DataFrame(columns=["golden_id"])
    results = _summaries(_store(request), found["golden_id"].tolist()) if len(found) else []
    return render(request, "customers.html", session=current, q=q, results=results, searched=bool(q.strip()),
                  page="customers")


def _detail(store: GoldenStore, golden_id: str) -> dict[str, Any]:
    from cdq.privacy.subjects import subject_report

    report = subject_report(store, golden_id)
    if report["golden_id"] != golden_id:
        raise HTTPException(303, "merged", headers={"Location": f"/steward/customers/{report['golden_id']}"})
    current = next(g for g in report["golden_records"] if g["golden_id"] == golden_id)
    lineage = {item[0]: item for item in current["lineage"]} if isinstance(current["lineage"], list) else {}
    values = [{"column": c, "value": current["data"].get(c), "source": (lineage.get(c) or [None] * 4)[2],
               "rule": (lineage.get(c) or [None] * 4)[3]} for c in SHOWN if current["data"].get(c) not in (None, "")]
    members = [{"ref": s["ref"], "source": s["source"], "golden_id": s["golden_id"], "score": None if s.get("match_score") is None else round(float(s["match_score"]), 3),
                "rule": s.get("rule"), "deleted": bool(s.get("deleted_run")), "first_seen": s.get("first_seen_at"),
                "values": ", ".join(str(s["values"][c]) for c in SHOWN if s["values"].get(c))}
               for s in report["source_records"]]
    retired = [g["golden_id"] for g in report["golden_records"] if g["golden_id"] != golden_id]
    return {"golden_id": golden_id, "status": current["status"], "values": values, "members": members,
            "history": report["history"], "retired": retired, "overrides": report["steward_overrides"],
            "corrections": len(report["corrections"])}


@router.get("/customers/{golden_id}", response_class=HTMLResponse)
def customer(request: Request, golden_id: str, current: users.Session = Depends(session)) -> HTMLResponse:
    from cdq.errors import UsageError

    try:
        detail = _detail(_store(request), golden_id)
    except UsageError as e:
        raise HTTPException(404, "no such golden record") from e
    return render(request, "customer.html", session=current, c=detail, columns=OVERRIDABLE, page="customers")


def _act(request: Request, current: users.Session, csrf: str, action: str, golden_id: str, call,
         target: str | None = None) -> Response:
    from cdq.errors import CdqError

    require_csrf(current.csrf, csrf)
    try:
        call()
    except CdqError as e:  # the message may name a record ref: the steward sees it, the audit log does not
        with _store(request).begin() as conn:
            users.audit(conn, current.user.name, f"{action}_refused", target or golden_id, type(e).__name__)
        return render(request, "error.html", status=409, session=current, message=e.message, back=golden_id)
    with _store(request).begin() as conn:
        users.audit(conn, current.user.name, action, target or golden_id, "")
    return _redirect(f"/steward/customers/{_store(request).resolve(golden_id)}")


@router.post("/customers/{golden_id}/unmerge")
def unmerge(request: Request, golden_id: str, retired_id: str = Form(...), csrf: str = Form(""),
            current: users.Session = Depends(steward)) -> Response:
    from cdq.golden import unmerge as undo
    from cdq.survivorship import load_rules

    return _act(request, current, csrf, "unmerge", golden_id,
                lambda: undo(_store(request), retired_id, load_rules()), target=retired_id)


@router.post("/customers/{golden_id}/split")
def split(request: Request, golden_id: str, ref: str = Form(...), csrf: str = Form(""),
          current: users.Session = Depends(steward)) -> Response:
    from cdq.golden import split_record
    from cdq.survivorship import load_rules

    return _act(request, current, csrf, "split", golden_id, lambda: split_record(_store(request), ref, load_rules()))


@router.post("/customers/{golden_id}/override")
def override(request: Request, golden_id: str, column: str = Form(...), value: str = Form(""),
             csrf: str = Form(""), current: users.Session = Depends(steward)) -> Response:
    from cdq.golden import set_override
    from cdq.survivorship import load_rules

    if column not in OVERRIDABLE:
        raise HTTPException(422, "unknown field")
    return _act(request, current, csrf, f"override:{column}", golden_id,
                lambda: set_override(_store(request), golden_id, column, value.strip() or None,
                                     current.user.name, load_rules()))


# -- runs -----------------------------------------------------------------------------------------------
@router.get("/runs", response_class=HTMLResponse)
def run_list(request: Request, current: users.Session = Depends(session)) -> HTMLResponse:
    with _store(request).engine.connect() as conn:
        rows = conn.execute(sa.select(runs).order_by(runs.c.run_id.desc()).limit(200)).mappings().all()
        merges: dict[int, int] = dict(conn.execute(sa.select(events.c.run_id, sa.func.count()).group_by(events.c.run_id)).all())
    items = [{**dict(r), "counts": json.loads(r["counts"] or "{}"), "events": merges.get(r["run_id"], 0)} for r in rows]
    workdir = _workdir(request)
    return render(request, "runs.html", session=current, runs=items, page="runs",
                  report=bool(workdir and (workdir / "run_report.html").is_file()),
                  data_docs=bool(workdir and (workdir / "data_docs" / "index.html").is_file()))


def _workdir(request: Request) -> Path | None:
    folder = getattr(request.app.state.cdq.settings, "workdir", None)
    return Path(folder).resolve() if folder else None


@router.get("/files/{path:path}")
def files(request: Request, path: str, current: users.Session = Depends(session)) -> FileResponse:
    """The run report and Data Docs of the work directory (nothing else, nothing outside it)."""
    workdir = _workdir(request)
    if workdir is None or ".." in Path(path).parts or "\\" in path:
        raise HTTPException(404, "not found")
    target = (workdir / path).resolve()
    docs = (workdir / "data_docs").resolve()
    allowed = target == (workdir / "run_report.html").resolve() or docs in target.parents
    if not allowed or not target.is_file():
        raise HTTPException(404, "not found")
    return FileResponse(target, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                         "Content-Security-Policy": "sandbox; default-src 'self' 'unsafe-inline'"})
