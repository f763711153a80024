"""A local fake of the Dynamics 365 / Dataverse Web API v9.2 (the parts cdq uses), on 127.0.0.1.

Implements, as Microsoft documents them: ``PATCH /api/data/v9.2/{contacts|accounts}(cdq_goldenid='…')``
(upsert by alternate key; ``If-None-Match: *`` → 412 ``0x80040237`` when the key exists, ``If-Match: *``
→ 404 ``0x80040217`` when it does not; 204 with ``OData-EntityId``), duplicate detection only when the
request says ``MSCRM.SuppressDuplicateDetection: false`` (412 ``0x80040333`` for a second active record
with the same ``emailaddress1``), ``GET`` with ``$select`` and a ``$filter`` of
``Microsoft.Dynamics.CRM.In(PropertyName=…,PropertyValues=[…])`` or ``name eq '…'`` (each optionally
``and statecode eq 0``), paged by ``Prefer: odata.maxpagesize`` with ``@odata.nextLink``;
``POST /api/data/v9.2/Merge`` (the subordinate is deactivated: ``statecode`` 1, ``masterid``);
401 with an empty body and ``WWW-Authenticate`` without the right bearer token; 429 service-protection
errors (``0x80072322``) with ``Retry-After`` on every ``rate_limit_every``-th request, at most
``rate_limit_max`` times.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from crm_fakes import LocalFake

API = "/api/data/v9.2"
KEY = "cdq_goldenid"


def _error(status: int, code: str, message: str):
    return status, {"error": {"code": code, "message": message}}, {}


def _strings(text: str) -> list[str]:
    return [m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", text)]


class FakeDynamics(LocalFake):
    """``with FakeDynamics(token) as fake: fake.url`` — records in ``fake.records["contacts"|"accounts"][guid]``."""

    methods = ("GET", "PATCH", "POST", "DELETE")

    def __init__(self, token: str, rate_limit_every: int = 0, rate_limit_max: int = 1, page_size: int = 3):
        self.token, self.rate_limit_every, self.rate_limit_max = token, rate_limit_every, rate_limit_max
        self.page_size = page_size
        self.records: dict[str, dict[str, dict]] = {"contacts": {}, "accounts": {}}
        self.requests = self.rate_limited = 0
        self.log: list[tuple[str, str, dict]] = []  # (method, path, headers) of every request
        self.lock = threading.Lock()
        self.start_server()

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        status, payload, extra = self.handle(method, path, headers, raw)
        data = json.dumps(payload).encode() if payload is not None else b""
        out = dict(extra)
        if data:
            out["Content-Type"] = "application/json; odata.metadata=minimal"
        out["OData-Version"] = "4.0"
        return status, data, out

    def active(self, entity_set: str) -> list[dict]:
        return [r for r in self.records[entity_set].values() if r["statecode"] == 0]

    def handle(self, method: str, path: str, headers: dict, raw: bytes):
        headers = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            self.requests += 1
            self.log.append((method, path, headers))
            if headers.get("authorization") != f"Bearer {self.token}":
                return 401, None, {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
                                                       'common/oauth2/authorize"'}
            if (self.rate_limit_every and self.requests % self.rate_limit_every == 0
                    and self.rate_limited < self.rate_limit_max):
                self.rate_limited += 1
                status, body, _ = _error(429, "0x80072322", "Number of requests exceeded the limit of 6000 over "
                                                            "time window of 300 seconds.")
                return status, body, {"Retry-After": "1"}
            parts = urlsplit(path)
            body = json.loads(raw) if raw.strip() else {}
            if method == "POST" and parts.path == f"{API}/Merge":
                return self.merge(body)
            m = re.fullmatch(rf"{API}/(contacts|accounts)\(([0-9a-f-]{{36}})\)", parts.path)
            if m and method == "DELETE":
                if self.records[m.group(1)].pop(m.group(2), None) is None:
                    return _error(404, "0x80040217", f"{m.group(1)[:-1]} With Ids = {m.group(2)} Does Not Exist")
                return 204, None, {}
            m = re.fullmatch(rf"{API}/(contacts|accounts)(?:\({KEY}=(.*)\))?", unquote(parts.path))
            if not m:
                return _error(404, "0x80060888", f"Resource not found for the segment '{parts.path}'.")
            entity_set, key = m.group(1), m.group(2)
            if method == "GET" and key is None:
                return self.query(entity_set, parse_qs(parts.query), headers)
            if method == "PATCH" and key is not None and _strings(key):
                return self.upsert(entity_set, _strings(key)[0], body, headers)
            return _error(405, "0x80060888", "The requested operation is not supported.")

    def query(self, entity_set: str, params: dict, headers: dict):
        filt, select = params.get("$filter", [""])[0], params.get("$select", [""])[0].split(",")
        skip = int(params.get("$skiptoken", ["0"])[0])
        rows = self.active(entity_set) if filt.endswith(" and statecode eq 0") else list(self.records[entity_set].values())
        filt = filt.removesuffix(" and statecode eq 0")
        m_in = re.fullmatch(r"Microsoft\.Dynamics\.CRM\.In\(PropertyName='(\w+)',PropertyValues=\[(.*)\]\)", filt)
        m_eq = re.fullmatch(r"(\w+) eq ('(?:[^']|'')*')", filt)
        if m_in:
            wanted, field = set(_strings(m_in.group(2))), m_in.group(1)
        elif m_eq:
            wanted, field = set(_strings(m_eq.group(2))), m_eq.group(1)
        else:
            return _error(400, "0x80060888", "Syntax error in $filter.")
        rows = [r for r in rows if r.get(field) in wanted]
        size = min(self.page_size, int(re.search(r"maxpagesize=(\d+)", headers.get("prefer", "=5000")).group(1)
                                       if "maxpagesize" in headers.get("prefer", "") else 5000))
        page = rows[skip:skip + size]
        out = {"@odata.context": f"{self.url}{API}/$metadata#{entity_set}",
               "value": [{"@odata.etag": 'W/"1"', **{c: r.get(c) for c in select}} for r in page]}
        if skip + size < len(rows):
            query = urlencode({"$select": ",".join(select), "$filter": params["$filter"][0], "$skiptoken": skip + size})
            out["@odata.nextLink"] = f"{self.url}{API}/{entity_set}?{query}"
        return 200, out, {}

    def upsert(self, entity_set: str, key: str, body: dict, headers: dict):
        id_name = entity_set[:-1] + "id"
        current = next((r for r in self.records[entity_set].values() if r.get(KEY) == key), None)
        if current is not None and headers.get("if-none-match") == "*":
            return _error(412, "0x80040237", "A record with matching key values already exists.")
        if current is None and headers.get("if-match") == "*":
            return _error(404, "0x80040217", f"{entity_set[:-1]} With Ids = {key} Does Not Exist")
        fields = {k: v for k, v in body.items() if "@" not in k}
        email = (fields.get("emailaddress1") or "").lower()
        if headers.get("mscrm.suppressduplicatedetection") == "false" and email and any(
                (r.get("emailaddress1") or "").lower() == email and r.get(KEY) != key for r in self.active(entity_set)):
            return _error(412, "0x80040333", "A record was not created or updated because a duplicate of the "
                                             "current record already exists.")
        bind = body.get("parentcustomerid_account@odata.bind")
        if bind:
            guid = re.fullmatch(r"/?accounts\(([0-9a-f-]{36})\)", bind)
            if not guid or guid.group(1) not in self.records["accounts"]:
                return _error(400, "0x80060891", "A record with the specified key values does not exist in account "
                                                 "entity")
            fields["_parentcustomerid_value"] = guid.group(1)
        if current is None:
            current = {id_name: str(uuid.uuid4()), KEY: key, "statecode": 0}
            self.records[entity_set][current[id_name]] = current
        current.update(fields)
        return 204, None, {"OData-EntityId": f"{self.url}{API}/{entity_set}({current[id_name]})"}

    def merge(self, body: dict):
        target, sub = body.get("Target") or {}, body.get("Subordinate") or {}
        kind = (target.get("@odata.type") or "").removeprefix("Microsoft.Dynamics.CRM.")
        if kind not in ("contact", "account") or sub.get("@odata.type") != target.get("@odata.type") \
                or "UpdateContent" not in body or "PerformParentingChecks" not in body:
            return _error(400, "0x80040203", "Invalid Merge request.")
        store, id_name = self.records[kind + "s"], kind + "id"
        keep, lose = store.get(target.get(id_name)), store.get(sub.get(id_name))
        if keep is None or lose is None:
            return _error(404, "0x80040217", f"{kind} Does Not Exist")
        if keep is lose or lose["statecode"] != 0:
            return _error(400, "0x80040203", "The subordinate record is the target or is already merged.")
        keep.update({k: v for k, v in body["UpdateContent"].items() if "@" not in k})
        lose.update(statecode=1, masterid=keep[id_name])
        return 204, None, {}
