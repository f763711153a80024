"""Leads into the CRM: the SQL CRM's ``cdq_leads`` table, or BottleCRM's own lead object.

- SQL CRM (``sqlite:///crm.db``, ``postgresql://…``): one row per lead in ``cdq_leads`` (created if
  missing), keyed by ``lead_id``, so pushing a lead again changes nothing; ``golden_id`` links it to the
  customer the nightly load keeps in ``contacts``/``accounts``.
- BottleCRM (``bottlecrm+http://…``): ``POST /api/leads/`` (BottleCRM has a lead object: status, source,
  rating HOT/WARM/COLD, ``source_ref``): ``source_ref`` holds the golden id, ``description`` the lead id,
  campaign and source code. BottleCRM allows one lead per e-mail address per organisation: a second lead
  of the same person is found by its e-mail (exact) and that lead's id is returned (``exists``).
- Other CRMs: the lead stays in the golden store; its golden record reaches the CRM with the nightly load.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa

from cdq.crm.http import HttpClient
from cdq.errors import UsageError
from cdq.store.schema import now

logger = logging.getLogger(__name__)

_md = sa.MetaData()
CRM_LEADS = sa.Table(
    "cdq_leads", _md,
    sa.Column("lead_id", sa.String(40), primary_key=True),
    sa.Column("golden_id", sa.String(24), index=True), sa.Column("outcome", sa.String(20)),
    sa.Column("source_code", sa.String(40)), sa.Column("qualification", sa.String(10)),
    sa.Column("campaign", sa.String(200)),
    *[sa.Column(c, sa.String(200)) for c in ("first_name", "infix", "last_name", "company_name", "email", "phone",
                                              "street", "house_number", "postcode", "city")],
    sa.Column("received_at", sa.String(40)), sa.Column("pushed_at", sa.String(40)),
)
#: BottleCRM's lead source keys for cdq's source codes (the org's default source list).
BOTTLECRM_SOURCES = {"website": "web form", "phone": "call", "letter": "other", "fair": "walk-in",
                     "email": "email", "campaign": "campaign", "referral": "referral"}


def push_lead(crm_url: str, lead: dict[str, Any]) -> tuple[str, str | None]:
    """Push one lead (``lead_id``, ``golden_id``, ``outcome``, source/qualification/campaign, record values).

    Returns ``(status, crm_id)``: ``created``, ``exists`` (pushed before, or BottleCRM has a lead with that
    e-mail) or ``not_supported``. Raises :class:`cdq.crm.http.CrmHttpError` when the CRM refuses for good.
    """
    scheme = crm_url.split(":", 1)[0]
    if scheme.startswith("bottlecrm"):
        return _push_bottlecrm(crm_url, lead)
    if scheme.startswith(("sqlite", "postgresql", "mysql")):
        return _push_sql(crm_url, lead)
    return "not_supported", None


_ENGINES: dict[str, sa.Engine] = {}


def _engine(url: str) -> sa.Engine:
    if url not in _ENGINES:
        engine = sa.create_engine(url)
        _md.create_all(engine, checkfirst=True)
        _ENGINES[url] = engine
    return _ENGINES[url]


def _push_sql(url: str, lead: dict[str, Any]) -> tuple[str, str | None]:
    row = {c.name: (None if lead.get(c.name) is None else str(lead.get(c.name))) for c in CRM_LEADS.c}
    row["pushed_at"] = now()
    with _engine(url).begin() as conn:
        if conn.execute(sa.select(CRM_LEADS.c.lead_id).where(CRM_LEADS.c.lead_id == row["lead_id"])).first():
            return "exists", row["lead_id"]
        conn.execute(CRM_LEADS.insert().values(**row))
    return "created", row["lead_id"]


def _bottlecrm_body(lead: dict[str, Any]) -> dict[str, Any]:
    from cdq.crm.bottlecrm import address_line

    last = " ".join(filter(None, [lead.get("infix"), lead.get("last_name")])) or "-"
    body = {"first_name": lead.get("first_name") or lead.get("initials") or "-", "last_name": last,
            "email": (lead.get("email") or "").lower() or None, "phone": lead.get("phone") or lead.get("mobile"),
            "title": f"{lead.get('source_code') or 'lead'}: {lead.get('campaign') or 'web lead'}",
            "source": BOTTLECRM_SOURCES.get(str(lead.get("source_code")), "other"),
            "rating": {"warm": "WARM", "cold": "COLD"}.get(str(lead.get("qualification")), None),
            "source_ref": lead.get("golden_id"), "company_name": lead.get("company_name"),
            "address_line": address_line(lead), "postcode": lead.get("postcode"), "city": lead.get("city"),
            "description": f"cdq lead {lead['lead_id']}; outcome {lead.get('outcome')}; "
                           f"campaign {lead.get('campaign') or '-'}"}
    return {k: v for k, v in body.items() if v not in (None, "")}


def _push_bottlecrm(url: str, lead: dict[str, Any]) -> tuple[str, str | None]:
    from cdq.crm.http import CrmHttpError, error_text

    token = os.environ.get("CDQ_CRM_TOKEN")
    if not token:
        raise UsageError("BottleCRM needs a token", hint="export CDQ_CRM_TOKEN=<personal access token>")
    http = HttpClient(url.split("+", 1)[1], {"Authorization": f"Bearer {token}"}, concurrency=1, timeout=30)
    body = _bottlecrm_body(lead)
    r = http.request("POST", "/api/leads/", json_body=body)
    if r.ok and isinstance(r.body, dict):
        return "created", str(r.body.get("id") or r.body.get("lead_obj", {}).get("id") or "") or None
    if r.status == 400 and body.get("email") and "email" in str(r.body):
        found = http.get("/api/leads/", params={"email": body["email"], "limit": 100})
        hits = found.body.get("open_leads", {}).get("open_leads", []) if isinstance(found.body, dict) else []
        hits += found.body.get("close_leads", {}).get("close_leads", []) if isinstance(found.body, dict) else []
        same = [h for h in hits if (h.get("email") or "").lower() == body["email"]]
        if same:
            return "exists", str(same[0]["id"])
    raise CrmHttpError(f"BottleCRM refused the lead: HTTP {r.status}: {error_text(r)}", r.status, r.body)
