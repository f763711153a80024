"""HubSpot CRM v3 through ``hubspot-api-client``: batch upsert of contacts and companies by a unique property
holding the golden id.

The maintained client (``pip install 'cdq[hubspot]'``) speaks the documented endpoints:
``POST /crm/v3/objects/{contacts|companies}/batch/read`` with ``idProperty`` (read by our golden id),
``POST .../batch/upsert`` (inputs ``{id, idProperty, properties}``; 200 when all succeed, 207 Multi-Status
with ``errors[]`` for partial failures), ``POST .../merge`` (``primaryObjectId``, ``objectIdToMerge``) and
``DELETE .../{id}``. 429 (``errorType: RATE_LIMIT``) and 5xx are retried honouring ``Retry-After`` by the
client's urllib3 ``Retry`` (:func:`cdq.crm.http.sdk_retry`). The unique property (default ``cdq_golden_id``)
must exist in the portal as a "unique value" property. The base URL of ``--crm hubspot+https://HOST`` is the
client's ``host``. Tested only against a local fake (tests/crm_fakes/hubspot.py), not HubSpot.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from cdq.crm.http import CrmHttpError, Response, error_text, sdk_retry
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import BatchPrimitives, Rejected, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

BATCH = 100  # HubSpot's batch limit
ID_PROPERTY = "cdq_golden_id"
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAPPING = load_mapping(resource("rules", "crm", "hubspot.yaml"))


def _client(base_url: str, token: str, backoff_base: float):
    """A ``hubspot.HubSpot`` for ``base_url`` (an actionable error when the client is not installed)."""
    try:
        from hubspot import HubSpot
    except ModuleNotFoundError as e:
        raise UsageError("the HubSpot target needs hubspot-api-client", hint="pip install 'cdq[hubspot]'") from e
    return HubSpot(access_token=token, retry=sdk_retry(RETRY_STATUSES, backoff_base), host=base_url)


def _reason(e: Any) -> str:
    """HubSpot's own message from an ``ApiException`` body."""
    try:
        body = json.loads(e.body) if e.body else None
    except ValueError:
        body = None
    return error_text(Response(e.status or 0, {}, body))


class HubSpotTarget(BatchPrimitives, RemoteCrmTarget):
    """HubSpot at ``base_url`` (``https://api.hubapi.com``); private-app token from ``CDQ_CRM_TOKEN``."""

    kind = "hubspot"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5):
        super().__init__(f"hubspot:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        if not token:
            raise UsageError("HubSpot needs a private app token", hint="export CDQ_CRM_TOKEN=<token>")
        self.client = _client(base_url, token, backoff_base)
        self.base_url = base_url

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"HubSpotTarget({self.base_url})"

    def _api(self, entity: Entity):
        """The client's API of one object type (``contacts``, ``companies``)."""
        return getattr(self.client.crm, entity.name)

    def _call(self, what: str, fn, *args, **kwargs) -> Any:
        from hubspot.crm.companies.exceptions import ApiException as CompaniesError
        from hubspot.crm.contacts.exceptions import ApiException as ContactsError

        try:
            return fn(*args, **kwargs)
        except (ContactsError, CompaniesError) as e:
            if e.status == 400 and what == "merge":
                raise Rejected(_reason(e)) from None
            raise CrmHttpError(f"HubSpot {what} failed: HTTP {e.status}: {_reason(e)}", e.status) from None

    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = super().values(entity, row)
        if entity.party_type == "person" and "lastname" in out:
            out["lastname"] = surname_as_used(row)  # the surname as used: "Hendriks-de Wit", not "Wit"
        return out

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        props = [*entity.columns, entity.key]
        rows = []
        for i in range(0, len(keys), BATCH):
            body = BatchReadInputSimplePublicObjectId(
                id_property=entity.key, properties=props, properties_with_history=[],
                inputs=[SimplePublicObjectId(id=k) for k in keys[i:i + BATCH]])
            answer = self._call("batch read", self._api(entity).batch_api.read, body)
            for result in answer.results:  # a 207's errors are the keys HubSpot does not have
                p = result.properties
                self._remember(entity, p[entity.key], result.id)
                rows.append({entity.key: p[entity.key], **{c: p.get(c) or None for c in entity.columns}})
        return pd.DataFrame(rows, columns=[entity.key, *entity.columns])

    def _remember(self, entity: Entity, key: str, crm_id: str) -> None:
        if self.state.xref(entity.name, [key]).get(key) != crm_id:
            self.state.link(entity.name, key, crm_id, "xref")

    def _upsert(self, entity: Entity, rows: list[dict], action: str) -> None:
        from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInputUpsert as Batch
        from hubspot.crm.contacts import SimplePublicObjectBatchInputUpsert as Upsert

        outcomes = []
        for i in range(0, len(rows), BATCH):
            chunk = rows[i:i + BATCH]
            body = Batch(inputs=[Upsert(id=r[entity.key], id_property=entity.key,
                                        properties={k: ("" if v is None else v) for k, v in r.items()})
                                 for r in chunk])
            answer = self._call("batch upsert", self._api(entity).batch_api.upsert, body)
            failed = {}
            for err in getattr(answer, "errors", None) or []:
                for key in (err.context or {}).get("ids", []):
                    failed[key] = err.message or "rejected"
            for result in answer.results:
                self.state.link(entity.name, result.properties[entity.key], result.id, action)
            outcomes += [(row[entity.key], failed.get(row[entity.key])) for row in chunk]
        self._rejects(entity, action, outcomes)

    def create(self, entity: Entity, rows: list[dict]) -> None:
        self._upsert(entity, rows, "create")

    def update(self, entity: Entity, rows: list[dict]) -> None:
        self._upsert(entity, rows, "update")

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        from hubspot.crm.contacts import PublicMergeInput

        body = PublicMergeInput(primary_object_id=survivor_id, object_id_to_merge=retired_id)
        self._call("merge", self._api(entity).basic_api.merge, body)
        return "merge"

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        try:
            self._call("delete", self._api(entity).basic_api.archive, crm_id)
        except CrmHttpError as e:
            if e.status != 404:  # 404: deleted already
                raise

    def _reapply(self, entity: Entity, survivor: str, crm_id: str) -> None:
        pass  # HubSpot keeps the primary record's values





