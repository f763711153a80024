"""Dynamics 365 / Dataverse Web API v9.2: upsert by the alternate key ``cdq_goldenid``, Merge action.

Endpoints (as Microsoft documents them): ``PATCH /api/data/v9.2/contacts(cdq_goldenid='G0000001')`` with
``If-None-Match: *`` (create only; 412 when the key exists) or ``If-Match: *`` (update only; 404 when it
does not), answered 204 with the record's URL in ``OData-EntityId``; reads by
``$filter=Microsoft.Dynamics.CRM.In(PropertyName='cdq_goldenid',PropertyValues=[...]) and statecode eq 0``
(a merged record is deactivated, not deleted) following ``@odata.nextLink``; ``POST /api/data/v9.2/Merge``
with ``Target``, ``Subordinate``, ``UpdateContent`` and ``PerformParentingChecks`` (204). The Web API
skips duplicate detection unless asked: cdq sends ``MSCRM.SuppressDuplicateDetection: false`` so the
organisation's duplicate rules apply, and a record they refuse (412, code ``0x80040333``) is a
rejection with Dynamics' message, kept for the next load (``?duplicate_detection=0`` turns it off).
429 (service protection limits) is retried after ``Retry-After``. Contacts are linked to the account of
their company (``parentcustomerid_account@odata.bind``) when an account with exactly that name exists.
The table needs a ``cdq_goldenid`` text column with an alternate key on it (contact and account).
Tested only against a local fake (``tests/crm_fakes/dynamics.py``), not against Dynamics 365.

Examples:
    >>> key_path("contacts", "G0'1")
    "/api/data/v9.2/contacts(cdq_goldenid='G0''1')"
    >>> record_guid("https://org.crm4.dynamics.com/api/data/v9.2/contacts(00000000-0000-0000-0000-000000000001)")
    '00000000-0000-0000-0000-000000000001'
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import parse_qs, quote, urlsplit

import pandas as pd

from cdq.crm.bottlecrm import address_line
from cdq.crm.http import CrmHttpError, HttpClient, Response, error_text
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import Rejected, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

logger = logging.getLogger(__name__)

API = "/api/data/v9.2"
KEY = "cdq_goldenid"
CHUNK = 50  # keys per read (URL length)
DUPLICATE = "0x80040333"
MAPPING = load_mapping(resource("rules", "crm", "dynamics.yaml"))


def _t(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def _literal(value: str) -> str:
    """An OData string literal (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def key_path(entity_set: str, key: str) -> str:
    """The URL of a record by its alternate key."""
    literal = quote(_literal(key), safe="'")
    return f"{API}/{entity_set}({KEY}={literal})"


def record_guid(entity_id: str | None) -> str | None:
    """The GUID in an ``OData-EntityId`` URL."""
    m = re.search(r"\(([0-9a-fA-F-]{36})\)\s*$", entity_id or "")
    return m.group(1) if m else None


class DynamicsTarget(RemoteCrmTarget):
    """Dynamics 365 at ``base_url`` (``https://org.crm4.dynamics.com``); OAuth bearer token from ``CDQ_CRM_TOKEN``."""

    kind = "dynamics"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5):
        super().__init__(f"dynamics:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        if not token:
            raise UsageError("Dynamics 365 needs an OAuth access token", hint="export CDQ_CRM_TOKEN=<token>")
        options = {k: v[-1] for k, v in parse_qs(urlsplit(base_url).query).items()}
        self.detect_duplicates = options.get("duplicate_detection", "1").lower() not in ("0", "false", "no")
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}", "OData-MaxVersion": "4.0",
                                          "OData-Version": "4.0"}, concurrency=concurrency, backoff_base=backoff_base)
        self._accounts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def _map(self, fn, items: list) -> list:
        return self.http.map(fn, items)

    def _check(self, r: Response, what: str) -> None:
        if r.status == 401:
            raise CrmHttpError("Dynamics 365 refused the token (HTTP 401); check CDQ_CRM_TOKEN (an OAuth access "
                               "token for this organisation, valid about an hour)", 401)
        if not r.ok:
            raise CrmHttpError(f"Dynamics 365 {what} failed: HTTP {r.status}: {error_text(r)}", r.status, r.body)

    # -- values -------------------------------------------------------------------------------------
    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = {api: _t(row.get(gold)) for api, gold in entity.columns.items()}
        out["address1_line1"] = address_line(row)
        if entity.party_type == "person":
            out["lastname"] = surname_as_used(row)
        return out

    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        return {api: _t(record.get(api)) for api in entity.columns}

    def _entity_id(self, entity: Entity) -> str:
        return f"{entity.table}id"  # contactid, accountid

    # -- reads --------------------------------------------------------------------------------------
    def _query(self, entity: Entity, filt: str, select: list[str]) -> list[dict]:
        path, rows = f"{API}/{entity.name}", []
        params: dict[str, str] | None = {"$select": ",".join(select), "$filter": filt}
        for _ in range(10_000):  # bounded: follows @odata.nextLink pages
            r = self.http.request("GET", path, params=params, extra_headers={"Prefer": "odata.maxpagesize=500"})
            self._check(r, "read")
            rows += r.body.get("value", [])
            link = r.body.get("@odata.nextLink")
            if not link:
                break
            parts = urlsplit(link)
            path, params = parts.path[len(self.http.prefix):] + "?" + parts.query, None
        return rows

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        select, rows = [self._entity_id(entity), KEY, *entity.columns], []
        known = self.state.xref(entity.name, keys)
        for i in range(0, len(keys), CHUNK):
            values = ",".join(_literal(k) for k in keys[i:i + CHUNK])
            filt = f"Microsoft.Dynamics.CRM.In(PropertyName='{KEY}',PropertyValues=[{values}]) and statecode eq 0"
            for rec in self._query(entity, filt, select):
                key, guid = rec[KEY], rec[self._entity_id(entity)]
                if known.get(key) != guid:  # made by the import workbook or by a load killed half-way
                    self.state.link(entity.name, key, guid, "xref")
                rows.append({entity.key: key, **self.to_columns(entity, rec)})
        return pd.DataFrame(rows, columns=[entity.key, *entity.columns])

    def _account_id(self, name: str) -> str | None:
        key = name.lower()
        with self._lock:
            if key in self._accounts:
                return self._accounts[key]
        accounts = next(e for e in self.mapping.entities.values() if e.party_type == "organisation")
        hits = self._query(accounts, f"name eq {_literal(name)} and statecode eq 0", ["accountid", "name"])
        with self._lock:
            self._accounts[key] = hits[0]["accountid"] if len(hits) == 1 else None
        return self._accounts[key]

    # -- writes -------------------------------------------------------------------------------------
    def _patch(self, entity: Entity, key: str, values: dict, condition: dict[str, str]) -> Response:
        headers = {**condition, "Prefer": "return=minimal"}
        if self.detect_duplicates:
            headers["MSCRM.SuppressDuplicateDetection"] = "false"
        return self.http.request("PATCH", key_path(entity.name, key), json_body=values, extra_headers=headers)

    def _refused(self, r: Response) -> str | None:
        """The reason when Dynamics refused this record (400, or 412 from a duplicate rule)."""
        code = (r.body.get("error") or {}).get("code") if isinstance(r.body, dict) else None
        if r.status == 400 or (r.status == 412 and code == DUPLICATE):
            return error_text(r)
        return None

    def send_create(self, entity: Entity, key: str, values: dict) -> str:
        body = dict(values)
        company = self._golden.get(key, {}).get("company_name") if entity.party_type == "person" else None
        account = self._account_id(str(company)) if company else None
        if account:
            body["parentcustomerid_account@odata.bind"] = f"/accounts({account})"
        r = self._patch(entity, key, body, {"If-None-Match": "*"})
        if r.status == 412 and self._refused(r) is None:  # the key exists: created by a load killed half-way
            r = self._patch(entity, key, body, {"If-Match": "*"})
        if self._refused(r):
            raise Rejected(self._refused(r))
        self._check(r, "create")
        guid = record_guid({k.lower(): v for k, v in r.headers.items()}.get("odata-entityid"))
        if not guid:
            raise CrmHttpError("Dynamics 365 create answered without an OData-EntityId header", r.status)
        if entity.party_type == "organisation" and values.get("name"):
            with self._lock:
                self._accounts[values["name"].lower()] = guid
        return guid

    def send_update(self, entity: Entity, crm_id: str, key: str, values: dict) -> None:
        r = self._patch(entity, key, values, {"If-Match": "*"})
        if r.status == 404:
            raise Rejected("the record is no longer in Dynamics 365 (deleted there)")
        if self._refused(r):
            raise Rejected(self._refused(r))
        self._check(r, "update")

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        r = self.http.request("DELETE", f"{API}/{entity.name}({crm_id})")
        if r.status == 404:  # deleted already (a rerun after a kill)
            return
        if self._refused(r) or r.status == 400:
            raise Rejected(self._refused(r) or error_text(r))
        self._check(r, "delete")

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        kind, id_name = f"Microsoft.Dynamics.CRM.{entity.table}", self._entity_id(entity)
        body = {"Target": {"@odata.type": kind, id_name: survivor_id},
                "Subordinate": {"@odata.type": kind, id_name: retired_id},
                "UpdateContent": {"@odata.type": kind}, "PerformParentingChecks": False}
        r = self.http.request("POST", f"{API}/Merge", json_body=body)
        if r.status in (400, 404):
            raise Rejected(error_text(r))
        self._check(r, "merge")
        return "merge"

    def _reapply(self, entity: Entity, survivor: str, crm_id: str) -> None:
        pass  # an empty UpdateContent keeps the survivor's own values

    def fetch(self, entity, crm_ids):  # pragma: no cover - read() queries by the alternate key instead
        raise NotImplementedError

    def find(self, entity, golden):  # pragma: no cover - the alternate key finds records without our xref
        return None
