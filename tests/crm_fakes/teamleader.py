"""A local fake of the Teamleader Focus API (the parts cdq uses), on 127.0.0.1.

Implements, as Teamleader documents them: ``POST /contacts.add`` / ``/companies.add`` (201,
``{"data": {"type", "id"}}``), ``.update`` (204), ``.list`` (``filter.ids``, ``filter.email``
``{type, email}``, ``filter.term``; ``page.size`` ≤ 100 and ``page.number``), ``.delete`` (204, 404
unknown), ``/contacts.linkToCompany`` (204); validation errors as 400
``{"errors": [{"status", "title", "source": {"pointer"}}]}`` (an invalid e-mail, a missing last name
or company name, an address without a country); 401 without the right bearer token; and 429 with
``X-RateLimit-Limit/-Remaining/-Reset`` (reset shortly after) on every ``rate_limit_every``-th request.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

from crm_fakes import LocalFake

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _error(status: int, title: str, pointer: str | None = None):
    error = {"status": status, "title": title, **({"source": {"pointer": pointer}} if pointer else {})}
    return status, {"errors": [error]}, {}


class FakeTeamleader(LocalFake):
    """``with FakeTeamleader(token) as fake: fake.url`` — records in ``fake.records["contacts"|"companies"][id]``."""

    methods = ("POST",)

    def __init__(self, token: str, rate_limit_every: int = 0, reset_seconds: float = 0.3):
        self.token, self.rate_limit_every, self.reset_seconds = token, rate_limit_every, reset_seconds
        self.records: dict[str, dict[str, dict]] = {"contacts": {}, "companies": {}}
        self.requests = self.rate_limited = 0
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.start_server()

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        status, payload, extra = self.handle(path, headers.get("Authorization"), raw)
        data = json.dumps(payload).encode() if payload is not None else b""
        out = dict(extra)
        if data:
            out["Content-Type"] = "application/json"
        return status, data, out

    def handle(self, path: str, auth: str | None, raw: bytes):
        with self.lock:
            self.requests += 1
            if auth != f"Bearer {self.token}":
                return _error(401, "Unauthorized")
            if self.rate_limit_every and self.requests % self.rate_limit_every == 0:
                self.rate_limited += 1
                reset = datetime.now(timezone.utc) + timedelta(seconds=self.reset_seconds)
                return 429, {"errors": [{"status": 429, "title": "Too Many Requests"}]}, {
                    "X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.isoformat()}
            m = re.fullmatch(r"/(contacts|companies)\.(add|update|list|delete|linkToCompany)", path)
            if not m or (m.group(2) == "linkToCompany" and m.group(1) != "contacts"):
                return _error(404, "Not found")
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                return _error(400, "Malformed JSON")
            self.calls.append(path[1:])
            return getattr(self, m.group(2))(m.group(1), body)

    def _invalid(self, kind: str, body: dict, create: bool):
        for i, e in enumerate(body.get("emails") or []):
            if not EMAIL.match(e.get("email") or ""):
                return _error(400, "The email must be a valid email address.", f"/emails/{i}/email")
        required = "last_name" if kind == "contacts" else "name"
        if (create or required in body) and not body.get(required):
            return _error(400, f"The {required} field is required.", f"/{required}")
        for i, a in enumerate(body.get("addresses") or []):
            if not (a.get("address") or {}).get("country"):
                return _error(400, "The country field is required.", f"/addresses/{i}/address/country")
        return None

    def add(self, kind, body):
        bad = self._invalid(kind, body, True)
        if bad:
            return bad
        rid = str(uuid.uuid4())
        self.records[kind][rid] = {"id": rid, **body}
        return 201, {"data": {"type": kind[:-1].replace("companie", "company"), "id": rid}}, {}

    def update(self, kind, body):
        rid = body.get("id")
        if rid not in self.records[kind]:
            return _error(404, f"{kind[:-1].capitalize()} not found")
        bad = self._invalid(kind, body, False)
        if bad:
            return bad
        self.records[kind][rid].update({k: v for k, v in body.items() if k != "id"})
        return 204, None, {}

    def delete(self, kind, body):
        if self.records[kind].pop(body.get("id"), None) is None:
            return _error(404, f"{kind[:-1].capitalize()} not found")
        return 204, None, {}

    def linkToCompany(self, kind, body):  # noqa: N802 - Teamleader's method name
        contact = self.records["contacts"].get(body.get("id"))
        if contact is None or body.get("company_id") not in self.records["companies"]:
            return _error(404, "Contact or company not found")
        contact.setdefault("companies", [])
        if body["company_id"] not in contact["companies"]:
            contact["companies"].append(body["company_id"])
        return 204, None, {}

    def list(self, kind, body):
        filt, page = body.get("filter") or {}, body.get("page") or {}
        size, number = int(page.get("size", 20)), int(page.get("number", 1))
        if size > 100:
            return _error(400, "The page.size may not be greater than 100.", "/page/size")
        rows = list(self.records[kind].values())
        if "ids" in filt:
            rows = [r for r in rows if r["id"] in set(filt["ids"])]
        if "email" in filt:
            wanted = filt["email"].get("email", "").lower()
            rows = [r for r in rows if any((e.get("email") or "").lower() == wanted for e in r.get("emails") or [])]
        if "term" in filt:
            term = filt["term"].lower()
            rows = [r for r in rows if term in " ".join(str(r.get(k) or "") for k in
                                                        ("name", "first_name", "last_name")).lower()]
        return 200, {"data": rows[(number - 1) * size:number * size]}, {}
