"""Teamleader Focus: persons → contacts, organisations → companies, through its RPC-style JSON API.

Endpoints (as documented by Teamleader): ``POST /contacts.add`` and ``/companies.add`` (201,
``{"data": {"type", "id"}}``), ``/contacts.update`` and ``/companies.update`` (204), ``/contacts.list`` and
``/companies.list`` (``filter`` with ``ids`` / ``email`` / ``term``, ``page`` with ``size`` ≤ 100 and
``number``), ``/contacts.linkToCompany``, ``/contacts.delete`` and ``/companies.delete``. Errors come as
``{"errors": [{"status", "title", "source": {"pointer"}}]}``; the rate limit (HTTP 429) is announced
in ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` headers, and we wait until the reset time.

Teamleader has no external-id upsert, so, like BottleCRM, the Teamleader ids live in cdq's
cross-reference (:mod:`cdq.crm.state`). E-mail addresses, phones and the address are lists of typed
entries in Teamleader; :meth:`TeamleaderTarget.values` flattens them into columns so the load plan
compares like with like. A merge writes the golden values to the survivor and deletes the retired
record (Teamleader's API has no merge), recorded as ``update+delete``. An address needs a country
there: cdq assumes ``NL`` when a golden record has address parts but no country.
Tested only against a local fake (``tests/crm_fakes/teamleader.py``), not against Teamleader itself.

Examples:
    >>> reset_wait({"X-RateLimit-Reset": "2024-01-01T12:00:03+00:00"}, now=1704110400.0)
    3.0
    >>> reset_wait({"X-RateLimit-Reset": "garbage"}, now=0.0)
    1.0
    >>> errors_text({"errors": [{"status": 400, "title": "Invalid email", "source": {"pointer": "/emails/0"}}]})
    'Invalid email (/emails/0)'
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime

from cdq.crm.bottlecrm import address_line, country_code
from cdq.crm.http import MAX_WAIT, CrmHttpError, HttpClient, Response, Retry
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import Rejected, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

logger = logging.getLogger(__name__)

ATTEMPTS = 6
PAGE = 100  # Teamleader's largest page size
ADDRESS = ("line_1", "postal_code", "city", "country")
#: flattened Teamleader field → golden field (composite values are built in values()).
MAPPING = load_mapping(resource("rules", "crm", "teamleader.yaml"))


def _t(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def reset_wait(headers: dict[str, str], now: float | None = None, default: float = 1.0) -> float:
    """Seconds until ``X-RateLimit-Reset`` (ISO 8601 time or epoch seconds), else ``Retry-After``, else ``default``."""
    h = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    value = h.get("x-ratelimit-reset")
    try:
        at = datetime.fromisoformat(value).timestamp() if value and not value.isdigit() else float(value or "")
        return min(max(at - now, 0.0), MAX_WAIT)
    except (TypeError, ValueError):
        pass
    try:
        return min(max(float(h["retry-after"]), 0.0), MAX_WAIT)
    except (KeyError, ValueError):
        return default


def errors_text(body) -> str:
    """Teamleader's ``errors[]`` flattened to one line (title and field pointer)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return "no reason given"
    parts = []
    for e in errors:
        pointer = (e.get("source") or {}).get("pointer") if isinstance(e, dict) else None
        title = e.get("title", str(e)) if isinstance(e, dict) else str(e)
        parts.append(f"{title} ({pointer})" if pointer else title)
    return "; ".join(parts)



def _rate_limit_wait(response: Response, attempt: int, default: float) -> float:
    """429: until ``X-RateLimit-Reset``; other retried answers: the backoff."""
    return reset_wait(response.headers, default=default) if response.status == 429 else default


#: Teamleader's RPC calls: 429 waits until the limit resets, 5xx retried; not retried on a dropped connection.
RATE_LIMITED = Retry(errors=False, attempts=ATTEMPTS, wait=_rate_limit_wait)

class TeamleaderTarget(RemoteCrmTarget):
    """Teamleader Focus at ``base_url`` (``https://api.focus.teamleader.eu``); OAuth token from ``CDQ_CRM_TOKEN``."""

    kind = "teamleader"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5):
        super().__init__(f"teamleader:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        if not token:
            raise UsageError("Teamleader needs an OAuth access token", hint="export CDQ_CRM_TOKEN=<token>")
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}"}, concurrency=concurrency,
                               backoff_base=backoff_base)
        self._companies: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def _map(self, fn, items: list) -> list:
        return self.http.map(fn, items)

    # -- transport ----------------------------------------------------------------------------------
    def call(self, method: str, body: dict) -> tuple[int, dict | None]:
        """POST one RPC method; waits out 429 until ``X-RateLimit-Reset``, retries 5xx; 401/403 raise."""
        r = self.http.request("POST", f"/{method}", json_body=body, retry=RATE_LIMITED)
        if r.status in (401, 403):
            raise CrmHttpError(f"Teamleader refused the token (HTTP {r.status}: {errors_text(r.body)}); check "
                               "CDQ_CRM_TOKEN (an OAuth access token, valid for one hour)", r.status)
        if r.status >= 500 or r.status == 429:
            raise CrmHttpError(f"Teamleader {method} failed: HTTP {r.status}: {errors_text(r.body)}", r.status)
        return r.status, r.body if isinstance(r.body, dict) else None

    def _ok(self, method: str, body: dict) -> dict:
        status, answer = self.call(method, body)
        if status >= 400:
            raise Rejected(errors_text(answer))
        return answer or {}

    # -- values -------------------------------------------------------------------------------------
    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = {api: _t(row.get(gold)) for api, gold in entity.columns.items()}
        out["line_1"] = address_line(row)
        out["country"] = country_code(row.get("country"))
        if out["country"] is None and any(out[k] for k in ("line_1", "postal_code", "city")):
            out["country"] = "NL"  # Teamleader needs a country in an address; cdq's customers are Dutch/Belgian
        if entity.party_type == "person":
            out["last_name"] = surname_as_used(row)
        if email := out.get("email"):
            out["email"] = email.lower()
        return out

    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        emails = record.get("emails") or []
        phones = record.get("telephones") or []
        address = next((a.get("address") or {} for a in record.get("addresses") or []
                        if a.get("type") in ("primary", "invoicing")), {})
        out = {api: _t(record.get(api)) for api in entity.columns}
        out["email"] = next((_t(e.get("email")) for e in emails if e.get("type") == "primary"), None)
        out["phone"] = next((_t(p.get("number")) for p in phones if p.get("type") == "phone"), None)
        if "mobile" in entity.columns:
            out["mobile"] = next((_t(p.get("number")) for p in phones if p.get("type") == "mobile"), None)
        out.update({k: _t(address.get(k)) for k in ADDRESS})
        if email := out.get("email"):
            out["email"] = email.lower()
        return out

    def _body(self, entity: Entity, values: dict) -> dict:
        """Flattened columns → Teamleader's nested fields (empty lists clear them on update)."""
        body = {k: v for k, v in values.items() if k not in ("email", "phone", "mobile", *ADDRESS)}
        body["emails"] = [{"type": "primary", "email": values["email"]}] if values.get("email") else []
        body["telephones"] = [{"type": t, "number": values[t]} for t in ("phone", "mobile") if values.get(t)]
        address = {k: values.get(k) for k in ADDRESS if values.get(k)}
        body["addresses"] = [{"type": "primary", "address": address}] if address else []
        return body

    # -- primitives ---------------------------------------------------------------------------------
    def fetch(self, entity: Entity, crm_ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for i in range(0, len(crm_ids), PAGE):
            ids = crm_ids[i:i + PAGE]
            status, body = self.call(f"{entity.name}.list", {"filter": {"ids": ids}, "page": {"size": PAGE, "number": 1}})
            if status >= 400:
                raise CrmHttpError(f"Teamleader {entity.name}.list failed: HTTP {status}: {errors_text(body)}", status)
            out.update({r["id"]: r for r in (body or {}).get("data", [])})
        return out

    def _list(self, entity: Entity, filt: dict) -> list[dict]:
        status, body = self.call(f"{entity.name}.list", {"filter": filt, "page": {"size": PAGE, "number": 1}})
        if status >= 400:
            raise CrmHttpError(f"Teamleader {entity.name}.list failed: HTTP {status}: {errors_text(body)}", status)
        return (body or {}).get("data", [])

    def find(self, entity: Entity, golden: dict) -> str | None:
        """Re-find a record a killed load created: exact primary e-mail (persons) or exact name (companies)."""
        if not golden:
            return None
        wanted = self.values(entity, golden)
        if wanted.get("email"):
            hits = self._list(entity, {"email": {"type": "primary", "email": wanted["email"]}})
            hits = [h for h in hits if self.to_columns(entity, h).get("email") == wanted["email"]
                    and all(self.to_columns(entity, h).get(k) == wanted.get(k) for k in ("last_name", "name")
                            if k in entity.columns)]
            return hits[0]["id"] if len(hits) == 1 else None
        if entity.party_type == "organisation" and (name := wanted.get("name")):
            return self._company_id(name)
        return None

    def _company_id(self, name: str) -> str | None:
        """The company with exactly this name (the ``term`` filter is a fuzzy search), cached per load."""
        key = name.lower()
        with self._lock:
            if key in self._companies:
                return self._companies[key]
        hits = self._list(self.mapping.entities["companies"] if "companies" in self.mapping.entities
                          else next(e for e in self.mapping.entities.values() if e.party_type == "organisation"),
                          {"term": name})
        found = [h["id"] for h in hits if (h.get("name") or "").lower() == key]
        with self._lock:
            self._companies[key] = found[0] if len(found) == 1 else None
        return self._companies[key]

    def send_create(self, entity: Entity, key: str, values: dict) -> str:
        answer = self._ok(f"{entity.name}.add", self._body(entity, values))
        crm_id = (answer.get("data") or {}).get("id")
        if not crm_id:
            raise CrmHttpError(f"Teamleader {entity.name}.add answered without an id")
        if entity.party_type == "organisation" and values.get("name"):
            with self._lock:
                self._companies[values["name"].lower()] = crm_id
        elif entity.party_type == "person" and self._golden.get(key, {}).get("company_name"):
            company = self._company_id(str(self._golden[key]["company_name"]))
            if company:  # a failed link is not worth refusing the contact for: logged only
                status, body = self.call("contacts.linkToCompany", {"id": crm_id, "company_id": company})
                if status >= 400:
                    logger.info("teamleader linkToCompany: HTTP %d", status)
        return crm_id

    def send_update(self, entity: Entity, crm_id: str, key: str, values: dict) -> None:
        self._ok(f"{entity.name}.update", {"id": crm_id, **self._body(entity, values)})

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        status, body = self.call(f"{entity.name}.delete", {"id": crm_id})
        if status >= 400 and status != 404:  # 404: deleted already (a rerun after a kill)
            raise Rejected(errors_text(body))

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        status, body = self.call(f"{entity.name}.delete", {"id": retired_id})
        if status == 404:
            return "gone"  # deleted already (a rerun after a kill)
        if status >= 400:
            raise Rejected(errors_text(body))
        return "update+delete"  # the survivor gets the golden values right after (RemoteCrmTarget._reapply)
