"""A local fake of HubSpot's CRM v3 objects API (the parts cdq uses), on 127.0.0.1.

Implements, as documented by HubSpot: ``POST /crm/v3/objects/{type}/batch/read`` (``idProperty``;
207 Multi-Status with an ``OBJECT_NOT_FOUND`` error for ids it does not have), ``.../batch/upsert``
(by a unique property; 200, or 207 with per-record ``VALIDATION_ERROR`` errors carrying
``context.ids``), ``.../merge``; 401 ``INVALID_AUTHENTICATION`` without the right bearer token; and
429 ``RATE_LIMIT`` with ``Retry-After`` on every ``rate_limit_every``-th request.
"""

from __future__ import annotations

import itertools
import json
import re
import threading

from crm_fakes import LocalFake

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FakeHubSpot(LocalFake):
    """``with FakeHubSpot(token) as fake: fake.url`` — objects in ``fake.objects[type][id]``."""

    methods = ("POST", "DELETE")

    def __init__(self, token: str, rate_limit_every: int = 0):
        self.token, self.rate_limit_every = token, rate_limit_every
        self.objects: dict[str, dict[str, dict]] = {"contacts": {}, "companies": {}}
        self.ids = itertools.count(1001)
        self.requests = 0
        self.rate_limited = 0
        self.lock = threading.Lock()
        self.start_server()

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        if method == "DELETE":
            return self.archive(path, headers.get("Authorization"))
        status, payload, extra = self.handle(path, headers.get("Authorization"), json.loads(raw or b"{}"))
        return status, json.dumps(payload).encode(), {"Content-Type": "application/json", **extra}

    def handle(self, path: str, auth: str | None, body: dict):
        with self.lock:
            self.requests += 1
            if auth != f"Bearer {self.token}":
                return 401, {"status": "error", "category": "INVALID_AUTHENTICATION",
                             "message": "Authentication credentials not found."}, {}
            if self.rate_limit_every and self.requests % self.rate_limit_every == 0:
                self.rate_limited += 1
                return 429, {"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING",
                             "message": "You have reached your ten_secondly_rolling limit."}, {"Retry-After": "1"}
            m = re.fullmatch(r"/crm/v3/objects/(contacts|companies)/(batch/read|batch/upsert|merge)", path)
            if not m:
                return 404, {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Not found"}, {}
            return getattr(self, m.group(2).replace("batch/", "batch_"))(self.objects[m.group(1)], body)

    def archive(self, path: str, auth: str | None) -> tuple[int, bytes, dict]:
        """``DELETE /crm/v3/objects/{type}/{id}``: 204 whether or not the object existed (HubSpot's answer)."""
        with self.lock:
            if auth != f"Bearer {self.token}":
                return 401, b'{"status": "error", "category": "INVALID_AUTHENTICATION"}', {}
            m = re.fullmatch(r"/crm/v3/objects/(contacts|companies)/(\d+)", path)
            if not m:
                return 404, b'{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Not found"}', {}
            self.objects[m.group(1)].pop(m.group(2), None)
            return 204, b"", {}

    def _by(self, store: dict, prop: str, value: str):
        return next((oid for oid, p in store.items() if p.get(prop) == value), None)

    def batch_read(self, store, body):
        prop, results, missing = body.get("idProperty", "hs_object_id"), [], []
        for item in body["inputs"]:
            oid = item["id"] if prop == "hs_object_id" else self._by(store, prop, item["id"])
            if oid in store:
                results.append({"id": oid, "properties": {k: store[oid].get(k) for k in body.get("properties", [])}
                                | {prop: store[oid].get(prop)}})
            else:
                missing.append(item["id"])
        out = {"status": "COMPLETE", "results": results}
        if missing:
            out["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": missing},
                              "message": "Could not get some objects, they may be deleted or not exist."}]
            return 207, out, {}
        return 200, out, {}

    def batch_upsert(self, store, body):
        results, errors = [], []
        for item in body["inputs"]:
            props = item["properties"]
            email = props.get("email")
            if email and not EMAIL.match(email):
                errors.append({"status": "error", "category": "VALIDATION_ERROR", "context": {"ids": [item["id"]]},
                               "message": f'Property values were not valid: [{{"isValid":false,"message":"Email '
                                          f'address {email} is invalid","error":"INVALID_EMAIL","name":"email"}}]'})
                continue
            oid = self._by(store, item["idProperty"], item["id"])
            new = oid is None
            oid = oid or str(next(self.ids))
            store[oid] = {**store.get(oid, {}), **props, item["idProperty"]: item["id"]}
            results.append({"id": oid, "new": new, "properties": store[oid]})
        return (207 if errors else 200), {"status": "COMPLETE", "results": results,
                                          **({"errors": errors} if errors else {})}, {}

    def merge(self, store, body):
        keep, lose = body.get("primaryObjectId"), body.get("objectIdToMerge")
        if keep not in store or lose not in store or keep == lose:
            return 400, {"status": "error", "category": "VALIDATION_ERROR", "message": "Invalid merge ids"}, {}
        del store[lose]
        return 200, {"id": keep, "properties": store[keep]}, {}
