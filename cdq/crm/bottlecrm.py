"""BottleCRM (PyPI ``django-crm`` 1.35.0) over its REST API: persons → contacts, organisations → accounts.

BottleCRM has no external-id field and no upsert, so the CRM's record ids live in cdq's cross-reference
(:mod:`cdq.crm.state`); the golden id also goes into the contact's ``source_ref`` for people reading the
CRM. Its quirks, handled here: create answers 200 (not 201) with ``{"id": ...}``; every path needs its
trailing slash (without it a POST is redirected into a GET); the ``?email=`` / ``?name=`` filters are
substring matches, so re-finding compares exactly on our side; a contact e-mail is unique per
organisation (case-insensitive) and an account name too: the CRM's 400 and its reason become a
rejection; countries must be ISO alpha-2 (``Nederland`` → ``NL``); ``PUT`` needs the required fields,
so updates are ``PATCH``. From ``bulk_min`` new contacts on, creates go through the CSV import (one
all-or-nothing request per 1,000 rows, ~30x faster than one POST each; the rows it refuses go through the
API one by one; imported contacts carry the golden id in ``description``, the importer has no source_ref). Merges use ``POST /api/<kind>/{survivor}/merge/`` (the loser is deleted,
its links move), then the survivor's golden values are written back (the merge fills its blanks).

Examples:
    >>> address_line({"street": "Dorpsstraat", "house_number": "12", "house_letter": "a",
    ...     "house_number_addition": "2"})
    'Dorpsstraat 12a-2'
    >>> country_code("Nederland"), country_code("be"), country_code("Atlantis")
    ('NL', 'BE', None)
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
import uuid

from cdq.crm.http import CrmHttpError, HttpClient, error_text
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import Rejected, RemoteCrmTarget
from cdq.normalize.countries import country_code
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

logger = logging.getLogger(__name__)

IMPORT_ROWS = 1000  # the importer takes at most 5,000 rows / 5 MB per file
#: API field → golden field; composite fields (last_name with infix, address_line) are built in values().
MAPPING = load_mapping(resource("rules", "crm", "bottlecrm.yaml"))


def _t(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def address_line(row: dict) -> str | None:
    """Street, house number, letter and addition as one line (Dutch notation)."""
    number = "".join(filter(None, [_t(row.get("house_number")), _t(row.get("house_letter"))]))
    if addition := _t(row.get("house_number_addition")):
        number += "-" + addition
    return _t(" ".join(filter(None, [_t(row.get("street")), number or None])))


class BottleCrmTarget(RemoteCrmTarget):
    """BottleCRM at ``base_url`` (``http://127.0.0.1:PORT``), token from ``CDQ_CRM_TOKEN``."""

    kind = "bottlecrm"

    def __init__(self, base_url: str, state_url: str, *, token: str | None = None, concurrency: int = 8,
                 mapping: CrmMapping | None = None, timeout: float = 30.0, bulk_min: int = 20):
        super().__init__(f"bottlecrm:{base_url}", mapping or MAPPING, state_url)
        token = token or os.environ.get("CDQ_CRM_TOKEN")
        if not token:
            from cdq.errors import UsageError

            raise UsageError("BottleCRM needs a token", hint="export CDQ_CRM_TOKEN=<personal access token>")
        self.http = HttpClient(base_url, {"Authorization": f"Bearer {token}"}, concurrency=concurrency,
                               timeout=timeout)
        self.bulk_min = bulk_min  # from this many new contacts on, use the CSV import (~1000/s)
        self._accounts: dict[str, str | None] = {}
        self._accounts_lock = threading.Lock()

    def _map(self, fn, items: list) -> list:
        return self.http.map(fn, items)

    # -- values ------------------------------------------------------------------------------------
    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = {api: _t(row.get(gold)) for api, gold in entity.columns.items()}
        out["address_line"], out["country"] = address_line(row), country_code(row.get("country"))
        if entity.party_type == "person":
            # both names are required by BottleCRM: initials stand in for a missing first name
            out["first_name"] = _t(row.get("first_name")) or _t(row.get("initials")) or "-"
            out["last_name"] = surname_as_used(row) or "-"
            out["phone"] = _t(row.get("phone")) or _t(row.get("mobile"))
        if email := out.get("email"):
            out["email"] = email.lower()
        return out

    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        out = {api: _t(record.get(api)) for api in entity.columns}
        if email := out.get("email"):
            out["email"] = email.lower()
        return out

    # -- primitives ---------------------------------------------------------------------------------
    def _path(self, entity: Entity, crm_id: str | None = None, action: str | None = None) -> str:
        return "/api/" + "/".join(filter(None, [entity.name, crm_id, action])) + "/"  # trailing slash: required

    def fetch(self, entity: Entity, crm_ids: list[str]) -> dict[str, dict]:
        obj = "contact_obj" if entity.name == "contacts" else "account_obj"

        def one(crm_id: str):
            r = self.http.get(self._path(entity, crm_id))
            if r.status == 404:
                return None
            _check(r, "read")
            return r.body[obj]

        return {cid: rec for cid, rec in zip(crm_ids, self.http.map(one, crm_ids)) if rec is not None}

    def find(self, entity: Entity, golden: dict) -> str | None:
        wanted = self.values(entity, golden) if golden else {}
        if entity.name == "contacts" and golden:
            # exact e-mail (the filter is a substring match), and our golden id in source_ref: the same
            # e-mail on another person's contact is not ours
            key = str(golden["golden_id"])
            hits = self._list(entity, {"email": wanted["email"]} if wanted.get("email")
                              else {"search": wanted["last_name"]})
            return next((h["id"] for h in hits if (h.get("source_ref") == key or h.get("description") == _mark(key))
                         and (h.get("email") or "").lower() == (wanted.get("email") or "")), None)
        if entity.name == "accounts" and (name := wanted.get("name")):
            return self._account_id(name)
        return None

    def _list(self, entity: Entity, params: dict) -> list[dict]:
        r = self.http.get(self._path(entity), params={**params, "limit": 100})
        _check(r, "list")
        if entity.name == "contacts":
            return r.body.get("results", [])
        body = r.body
        return (body.get("active_accounts", {}).get("open_accounts", [])
                + body.get("closed_accounts", {}).get("close_accounts", []))

    def _account_id(self, name: str) -> str | None:
        """The account with exactly this name (case-insensitive, as BottleCRM's uniqueness), cached."""
        key = name.lower()
        with self._accounts_lock:
            if key in self._accounts:
                return self._accounts[key]
        hits = self._list(self.mapping.entities["accounts"], {"name": name})
        found = next((h["id"] for h in hits if (h.get("name") or "").lower() == key), None)
        with self._accounts_lock:
            self._accounts[key] = found
        return found

    def _body(self, entity: Entity, key: str, values: dict, create: bool) -> dict:
        body = {k: v for k, v in values.items() if v is not None or not create}
        body = {k: ("" if v is None else v) for k, v in body.items()}  # BottleCRM clears a field with ""
        if entity.name == "contacts":
            body["source_ref"] = key
            if values.get("organization"):
                account = self._account_id(values["organization"])
                if account:
                    body["account"] = account
        return body

    def create(self, entity: Entity, rows: list[dict]) -> None:
        """Contacts in bulk through the CSV import (all-or-nothing per file: rows it refuses are taken out
        and go through the per-record API, which is less strict and reports the CRM's reason)."""
        if entity.name != "contacts" or len(rows) < self.bulk_min:
            return super().create(entity, rows)
        self.state.intend(entity.name, [r[entity.key] for r in rows])
        fallback: list[dict] = []
        for i in range(0, len(rows), IMPORT_ROWS):
            chunk = rows[i:i + IMPORT_ROWS]
            for _ in range(3):
                refused = self._import(entity, chunk)
                if refused is None:
                    break
                fallback += [r for n, r in enumerate(chunk, start=1) if n in refused]
                chunk = [r for n, r in enumerate(chunk, start=1) if n not in refused]
            else:
                fallback += chunk
        super().create(entity, fallback)

    def _import(self, entity: Entity, rows: list[dict]) -> set[int] | None:
        """Import rows; None when done, else the (1-based) rows the importer refused (all: any other failure)."""
        if not rows:
            return None
        columns = ["first_name", "last_name", "email", "phone", "organization", "address_line", "postcode", "city",
                   "country", "description", "account_name"]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            account = self._account_id(row["organization"]) if row.get("organization") else None
            extra = {"description": _mark(row[entity.key]), "account_name": row["organization"] if account else None}
            writer.writerow([{**row, **extra}.get(c) or "" for c in columns])
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cdq.csv"\r\n'
                f"Content-Type: text/csv\r\n\r\n{out.getvalue()}\r\n--{boundary}--\r\n").encode()
        r = self.http.request("POST", "/api/contacts/import/commit/", data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")
        if r.status == 200 and isinstance(r.body, dict) and len(r.body.get("ids", [])) == len(rows):
            self.state.link_many(entity.name, [(row[entity.key], cid) for row, cid in zip(rows, r.body["ids"])],
                                 "create")
            return None
        errors = r.body.get("errors") if isinstance(r.body, dict) else None
        if r.status == 400 and isinstance(errors, list) and errors:
            return {int(e["row"]) for e in errors if isinstance(e, dict) and "row" in e}
        logger.info("BottleCRM import answered HTTP %d: %d contacts go one by one", r.status, len(rows))
        return set(range(1, len(rows) + 1))

    def send_create(self, entity: Entity, key: str, values: dict) -> str:
        r = self.http.request("POST", self._path(entity), json_body=self._body(entity, key, values, True))
        if r.status == 200 and isinstance(r.body, dict) and r.body.get("id"):  # 200, not 201
            if entity.name == "accounts":
                with self._accounts_lock:
                    self._accounts[values["name"].lower()] = r.body["id"]
            return r.body["id"]
        if r.status == 400:
            mine = self._already_mine(entity, key, values)
            if mine:  # a retried POST whose first attempt was stored after all
                return mine
            raise Rejected(error_text(r))
        _check(r, "create")
        raise CrmHttpError(f"BottleCRM create answered {r.status} without an id", r.status)

    def _already_mine(self, entity: Entity, key: str, values: dict) -> str | None:
        if entity.name == "contacts" and values.get("email"):
            hits = self._list(entity, {"email": values["email"]})
            return next((h["id"] for h in hits if (h.get("email") or "").lower() == values["email"]
                         and (h.get("source_ref") == key or h.get("description") == _mark(key))), None)
        return None

    def send_update(self, entity: Entity, crm_id: str, key: str, values: dict) -> None:
        r = self.http.request("PATCH", self._path(entity, crm_id), json_body=self._body(entity, key, values, False))
        if r.status == 400:
            raise Rejected(error_text(r))
        _check(r, "update")

    def send_merge(self, entity: Entity, survivor_id: str, retired_id: str) -> str:
        r = self.http.request("POST", self._path(entity, survivor_id, "merge"), json_body={"merge_id": retired_id})
        if r.status == 400:
            raise Rejected(error_text(r))
        if r.status == 404:  # the loser is gone already (a rerun after a kill): nothing left to merge
            return "gone"
        _check(r, "merge")
        return "merge"

    def send_delete(self, entity: Entity, crm_id: str) -> None:
        """Blank every field first (BottleCRM keeps a deleted contact's address row), then delete."""
        blank = {k: "" for k in self.values(entity, {}) if k not in ("first_name", "last_name", "name", "country")}
        if entity.name == "contacts":
            blank.update(first_name="-", last_name="-")
        r = self.http.request("PATCH", self._path(entity, crm_id), json_body=blank)
        if r.status == 400:  # a field BottleCRM will not blank: the delete below still removes the record
            logger.info("BottleCRM refused to blank a record before deleting it: %s", error_text(r))
        elif r.status != 404:
            _check(r, "erase")
        r = self.http.request("DELETE", self._path(entity, crm_id))
        if r.status == 404:  # gone already (a rerun after a kill)
            return
        if r.status in (400, 403):
            raise Rejected(error_text(r))
        _check(r, "erase")


def _mark(key: str) -> str:
    """The golden id as imported contacts carry it in ``description`` (the importer has no source_ref)."""
    return f"cdq golden id {key}"


def _check(response, what: str) -> None:
    if not response.ok:
        raise CrmHttpError(f"BottleCRM {what} failed: HTTP {response.status}: {error_text(response)}",
                           response.status, response.body)
