"""HubSpot CRM v3: batch upsert of contacts and companies by a unique property holding the golden id.

Endpoints (as documented by HubSpot): ``POST /crm/v3/objects/{contacts|companies}/batch/read`` with
``idProperty`` (read by our golden id), ``POST .../batch/upsert`` (inputs ``{id, idProperty, properties}``;
200 when all succeed, 207 Multi-Status with ``errors[]`` for partial failures), ``POST .../merge``
(``primaryObjectId``, ``objectIdToMerge``). 429 (``errorType: RATE_LIMIT``) is retried honouring
``Retry-After``. The unique property (default ``cdq_golden_id``) must exist in the portal as a
"unique value" property. Tested only against a local fake (tests/crm_fakes/hubspot.py), not HubSpot.
"""

from __future__ import annotations

import os

import pandas as pd

from cdq.crm.http import CrmHttpError, HttpClient, error_text
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import BatchPrimitives, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

BATCH = 100  # HubSpot's batch limit
ID_PROPERTY = "cdq_golden_id"
MAPPING = load_mapping(resource("rules", "crm", "hubspot.yaml"))


class HubSpotTarget(BatchPrimitives, RemoteCrmTarget):
    """HubSpot at ``base_url`` (``https://api.hubapi.com``); private-app token from ``CDQ_CRM_TOKEN``."""

    kind = "hubspot"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5):
        super().__init__(f"hubspot:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        if not token:
            raise UsageError("HubSpot needs a private app token", hint="export CDQ_CRM_TOKEN=<token>")
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}"}, concurrency=concurrency,
                               backoff_base=backoff_base)

    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = super().values(entity, row)
        if entity.party_type == "person" and "lastname" in out:
            out["lastname"] = surname_as_used(row)  # the surname as used: "Hendriks-de Wit", not "Wit"
        return out

    def _path(self, entity: Entity, action: str) -> str:
        return f"/crm/v3/objects/{entity.name}/{action}"

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        props = [*entity.columns, entity.key]
        rows = []
        for i in range(0, len(keys), BATCH):
            body = {"idProperty": entity.key, "properties": props,
                    "inputs": [{"id": k} for k in keys[i:i + BATCH]]}
            r = self.http.request("POST", self._path(entity, "batch/read"), json_body=body)
            if r.status not in (200, 207):
                raise CrmHttpError(f"HubSpot batch read failed: HTTP {r.status}: {error_text(r)}", r.status)
            for result in r.body.get("results", []):
                p = result["properties"]
                self._remember(entity, p[entity.key], result["id"])
                rows.append({entity.key: p[entity.key], **{c: p.get(c) or None for c in entity.columns}})
        return pd.DataFrame(rows, columns=[entity.key, *entity.columns])

    def _remember(self, entity: Entity, key: str, crm_id: str) -> None:
        if self.state.xref(entity.name, [key]).get(key) != crm_id:
            self.state.link(entity.name, key, crm_id, "xref")

    def _upsert(self, entity: Entity, rows: list[dict], action: str) -> None:
        outcomes = []
        for i in range(0, len(rows), BATCH):
            chunk = rows[i:i + BATCH]
            body = {"inputs": [{"id": r[entity.key], "idProperty": entity.key,
                                "properties": {k: ("" if v is None else v) for k, v in r.items()}} for r in chunk]}
            r = self.http.request("POST", self._path(entity, "batch/upsert"), json_body=body)
            if r.status not in (200, 207):
                raise CrmHttpError(f"HubSpot batch upsert failed: HTTP {r.status}: {error_text(r)}", r.status)
            failed = {}
            for err in r.body.get("errors", []):
                for key in err.get("context", {}).get("ids", []):
                    failed[key] = err.get("message", "rejected")
            for result in r.body.get("results", []):
                key = result["properties"][entity.key]
                self.state.link(entity.name, key, result["id"], action)
            outcomes += [(row[entity.key], failed.get(row[entity.key])) for row in chunk]
        self._rejects(entity, action, outcomes)

    def create(self, entity: Entity, rows: list[dict]) -> None:
        self._upsert(entity, rows, "create")

    def update(self, entity: Entity, rows: list[dict]) -> None:
        self._upsert(entity, rows, "update")

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        r = self.http.request("POST", self._path(entity, "merge"),
                              json_body={"primaryObjectId": survivor_id, "objectIdToMerge": retired_id})
        if r.status == 400:
            from cdq.crm.remote import Rejected

            raise Rejected(error_text(r))
        if not r.ok:
            raise CrmHttpError(f"HubSpot merge failed: HTTP {r.status}: {error_text(r)}", r.status)
        return "merge"

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        r = self.http.request("DELETE", f"/crm/v3/objects/{entity.name}/{crm_id}")
        if not r.ok and r.status != 404:
            raise CrmHttpError(f"HubSpot delete failed: HTTP {r.status}: {error_text(r)}", r.status)

    def _reapply(self, entity: Entity, survivor: str, crm_id: str) -> None:
        pass  # HubSpot keeps the primary record's values





