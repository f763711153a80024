"""Salesforce through ``simple-salesforce``: Bulk API 2.0 upsert on the External ID field ``CDQ_Golden_Id__c``,
SOQL reads, REST deletes, and the SOAP ``merge()`` call (which no REST endpoint and no client library offers).

The maintained client (``pip install 'cdq[salesforce]'``) speaks the documented protocol (API v59.0):
``sf.bulk2.<Object>.upsert`` creates an ingest job (``externalIdFieldName``, CSV, LF), uploads, closes it and
polls it to ``JobComplete``; its ``successfulResults`` (``sf__Id``) and ``failedResults`` (``sf__Error``) are
read per job: each failed row is a rejection with Salesforce's ``sf__Error``, kept for the next load. In an
upsert CSV an empty cell leaves a field as it is, so a field to clear is sent as ``#N/A``. Current records are
read with SOQL (``WHERE CDQ_Golden_Id__c IN (...)`` in chunks; the client follows ``nextRecordsUrl``).
Organisations go to Account, persons to Contact (``AccountId`` set to the Account with exactly their
company's name, when there is one). 401 is a clear error; 429 and 503 are retried after ``Retry-After``
(a urllib3 ``Retry`` on the client's session, :func:`cdq.crm.http.sdk_retry`). Duplicate rules apply as the
org configures them; ``?allow_duplicates=1`` sends ``Sforce-Duplicate-Rule-Header: allowSave=true`` (and
the SOAP ``DuplicateRuleHeader``). The field ``CDQ_Golden_Id__c`` (Text, External ID, Unique) must exist on
Contact and Account, as for the Data Loader file of :mod:`cdq.crm.files`. The client speaks HTTPS only.
Tested only against a local fake over TLS (``tests/crm_fakes/salesforce.py``), not against Salesforce.

Examples:
    >>> soql_in(["G1", "O'Brien"])
    "('G1','O\\\\'Brien')"
    >>> cells({"A": "x", "B": None}, blank="#N/A")
    {'A': 'x', 'B': '#N/A'}
"""

from __future__ import annotations

import csv
import io
import logging
import os
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import pandas as pd

from cdq.crm.bottlecrm import address_line
from cdq.crm.http import CrmHttpError, Response, error_text, sdk_retry
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import BatchPrimitives, Rejected, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

logger = logging.getLogger(__name__)

VERSION = "59.0"
#: Only Salesforce's limits (429, 503) are waited out: a SOAP fault is HTTP 500 and final, and a merge is not
#: idempotent, so a call whose answer was lost is not sent again.
RETRY_STATUSES = (429, 503)
KEY = "CDQ_Golden_Id__c"
CHUNK = 200  # keys per SOQL query (the query string stays well under 16,000 characters)
JOB_ROWS = 10_000  # rows per ingest job (far below the 150 MB limit)
MERGES_PER_CALL = 50  # MergeRequests per SOAP merge() call (the limit is 200)
SOAP = "urn:partner.soap.sforce.com"
MAPPING = load_mapping(resource("rules", "crm", "salesforce.yaml"))


def _t(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def soql_in(values: list[str]) -> str:
    """A SOQL ``IN`` list of string literals (backslash escapes for quote and backslash)."""
    return "(" + ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values) + ")"


def cells(row: dict, blank: str = "") -> dict[str, str]:
    """One Bulk API CSV row: ``None`` written as ``blank`` (``#N/A`` clears a field, ``""`` leaves it)."""
    return {k: blank if v is None else str(v) for k, v in row.items()}


def _client(instance_url: str, token: str, allow_duplicates: bool, backoff_base: float):
    """A ``simple_salesforce.Salesforce`` on a session that waits out 429/503 (an actionable error without it)."""
    try:
        import requests
        from requests.adapters import HTTPAdapter
        from simple_salesforce import Salesforce
    except ModuleNotFoundError as e:
        raise UsageError("the Salesforce target needs simple-salesforce",
                         hint="pip install 'cdq[salesforce]'") from e
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=sdk_retry(RETRY_STATUSES, backoff_base)))
    if allow_duplicates:  # also sent by the Bulk 2.0 calls, which build their own headers
        session.headers["Sforce-Duplicate-Rule-Header"] = "allowSave=true"
    return Salesforce(instance_url=instance_url, session_id=token, session=session, version=VERSION)


def _error(e: Exception, what: str) -> CrmHttpError:
    """A simple-salesforce exception as cdq's error (401 names the token, never shows it)."""
    status = getattr(e, "status", None)
    reason = error_text(Response(status or 0, {}, getattr(e, "content", None))) if status else str(e)
    if status == 401:
        return CrmHttpError(f"Salesforce refused the token (HTTP 401: {reason}); check CDQ_CRM_TOKEN "
                            "(an OAuth access token for this My Domain)", 401)
    return CrmHttpError(f"Salesforce {what} failed: HTTP {status}: {reason}" if status else
                        f"Salesforce {what} failed: {reason}", status)


class SalesforceTarget(BatchPrimitives, RemoteCrmTarget):
    """Salesforce at ``base_url`` (``https://MyDomain.my.salesforce.com``); OAuth access token from ``CDQ_CRM_TOKEN``.

    ``concurrency`` is accepted like every remote target's, and unused: Salesforce runs an ingest job's rows in
    parallel itself, and jobs go one at a time so a rerun after a kill sees them in order.
    """

    kind = "salesforce"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5, poll: float = 0.05):
        super().__init__(f"salesforce:{base_url}", mapping or MAPPING, state_url)
        self._token = token or os.environ.get("CDQ_CRM_TOKEN") or ""
        if not self._token:
            raise UsageError("Salesforce needs an OAuth access token", hint="export CDQ_CRM_TOKEN=<token>")
        parts = urlsplit(base_url)
        if parts.scheme != "https":
            raise UsageError("Salesforce is reached over HTTPS only", hint="use salesforce+https://MyDomain.my.salesforce.com")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.allow_duplicates = options.get("allow_duplicates", "0").lower() in ("1", "true", "yes")
        self.sf = _client(f"https://{parts.netloc}", self._token, self.allow_duplicates, backoff_base)
        self.poll = poll  # seconds before the first look at an ingest job (the client backs off from there)
        self._account_ids: dict[str, str | None] = {}

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"SalesforceTarget(https://{self.sf.sf_instance})"

    def _call(self, what: str, fn, *args, **kwargs) -> Any:
        from simple_salesforce.exceptions import SalesforceError, SalesforceOperationError

        try:
            return fn(*args, **kwargs)
        except (SalesforceError, SalesforceOperationError) as e:
            raise _error(e, what) from None

    # -- values -------------------------------------------------------------------------------------
    def values(self, entity: Entity, row: dict) -> dict[str, str | None]:
        out = {api: _t(row.get(gold)) for api, gold in entity.columns.items()}
        street = "MailingStreet" if entity.party_type == "person" else "BillingStreet"
        out[street] = address_line(row)
        if entity.party_type == "person":
            out["LastName"] = surname_as_used(row)
            if birthdate := out.get("Birthdate"):
                out["Birthdate"] = birthdate[:10]  # a Date field: YYYY-MM-DD
        return out

    def to_columns(self, entity: Entity, record: dict) -> dict[str, str | None]:
        return {api: _t(record.get(api)) for api in entity.columns}

    # -- reads --------------------------------------------------------------------------------------
    def query(self, soql: str) -> list[dict]:
        """All records a SOQL query returns (the client follows ``nextRecordsUrl``)."""
        return self._call("query", lambda: list(self.sf.query_all_iter(soql)))

    def read(self, entity: Entity, keys: list[str]) -> pd.DataFrame:
        rows, known = [], self.state.xref(entity.name, keys)
        fields = ", ".join(["Id", KEY, *entity.columns])
        for i in range(0, len(keys), CHUNK):
            soql = f"SELECT {fields} FROM {entity.table} WHERE {KEY} IN {soql_in(keys[i:i + CHUNK])}"
            for rec in self.query(soql):
                if known.get(rec[KEY]) != rec["Id"]:  # loaded by hand (Data Loader) or by a killed load
                    self.state.link(entity.name, rec[KEY], rec["Id"], "xref")
                rows.append({entity.key: rec[KEY], **self.to_columns(entity, rec)})
        return pd.DataFrame(rows, columns=[entity.key, *entity.columns])

    def _accounts(self, names: set[str]) -> dict[str, str]:
        """Account Id by exact name (lower case), for the names not looked up yet; ambiguous names left out."""
        todo = sorted(n for n in names if n.lower() not in self._account_ids)
        for i in range(0, len(todo), CHUNK):
            found: dict[str, list[str]] = {}
            for rec in self.query(f"SELECT Id, Name FROM Account WHERE Name IN {soql_in(todo[i:i + CHUNK])}"):
                found.setdefault((rec["Name"] or "").lower(), []).append(rec["Id"])
            for name in todo[i:i + CHUNK]:
                ids = found.get(name.lower(), [])
                self._account_ids[name.lower()] = ids[0] if len(ids) == 1 else None
        return {n: account for n in names if (account := self._account_ids.get(n.lower()))}

    # -- writes -------------------------------------------------------------------------------------
    def create(self, entity: Entity, rows: list[dict]) -> None:
        self._ingest(entity, rows, "create")

    def update(self, entity: Entity, rows: list[dict]) -> None:
        self._ingest(entity, rows, "update")

    def _ingest(self, entity: Entity, rows: list[dict], action: str) -> None:
        if not rows:
            return
        if action == "create":
            self.state.intend(entity.name, [r[entity.key] for r in rows])
        if entity.party_type == "person":
            companies = {r[entity.key]: str(self._golden.get(r[entity.key], {}).get("company_name") or "")
                         for r in rows}
            accounts = self._accounts({c for c in companies.values() if c})
            # "" (not #N/A) where no Account is known: an upsert leaves a link made in Salesforce as it is
            rows = [{**r, "AccountId": accounts.get(companies[r[entity.key]]) or ""} for r in rows]
        blank = "#N/A" if action == "update" else ""
        outcomes: list[tuple[str, str | None]] = []
        for i in range(0, len(rows), JOB_ROWS):
            chunk = rows[i:i + JOB_ROWS]
            ok, failed = self._job(entity, [cells(r, blank) for r in chunk])
            self.state.link_many(entity.name, list(ok.items()), action)
            outcomes += [(r[entity.key], None if r[entity.key] in ok
                          else failed.get(r[entity.key], "missing from the job's results")) for r in chunk]
        self._rejects(entity, action, outcomes)

    def _job(self, entity: Entity, rows: list[dict]) -> tuple[dict[str, str], dict[str, str]]:
        """One Bulk 2.0 upsert job; golden id → Salesforce Id, golden id → sf__Error."""
        bulk = getattr(self.sf.bulk2, entity.table)
        jobs = self._call("ingest job", bulk.upsert, records=rows, external_id_field=KEY, batch_size=JOB_ROWS,
                          wait=self.poll)
        ok: dict[str, str] = {}
        failed: dict[str, str] = {}
        for job in jobs:
            done = self._call("job results", bulk.get_successful_records, job["job_id"])
            ok |= {row[KEY]: row["sf__Id"] for row in csv.DictReader(io.StringIO(done))}
            refused = self._call("job results", bulk.get_failed_records, job["job_id"])
            failed |= {row[KEY]: row["sf__Error"] for row in csv.DictReader(io.StringIO(refused))}
        logger.info("salesforce %s job: %d done, %d failed", entity.table, len(ok), len(failed))
        return ok, failed

    # -- merges -------------------------------------------------------------------------------------
    def send_delete(self, entity: Entity, crm_id: str) -> None:
        """REST ``DELETE sobjects/<type>/<Id>`` (the record goes to the recycle bin, emptied by Salesforce)."""
        try:
            self._call("delete", getattr(self.sf, entity.table).delete, crm_id)
        except CrmHttpError as e:
            if e.status == 404:  # deleted already (a rerun after a kill)
                return
            if e.status == 400:
                raise Rejected(str(e)) from None
            raise

    def merge(self, entity: Entity, merges: list[tuple[str, str]]) -> None:
        """SOAP ``merge()``: per survivor, requests of the master and up to two records merged into it."""
        xref = self.state.xref(entity.name, [k for pair in merges for k in pair])
        requests: list[tuple[str, list[str]]] = []  # (survivor key, retired keys ≤ 2)
        outcomes: list[tuple[str, str | None]] = []
        for survivor in dict.fromkeys(s for _, s in merges):
            retired = [r for r, s in merges if s == survivor]
            gone = [r for r in retired if r not in xref or survivor not in xref]
            for key in gone:  # nothing of it in Salesforce: nothing to merge
                self.state.retire(entity.name, key, survivor, xref.get(key), "gone")
                outcomes.append((key, None))
            todo = [r for r in retired if r not in gone]
            requests += [(survivor, todo[i:i + 2]) for i in range(0, len(todo), 2)]
        for i in range(0, len(requests), MERGES_PER_CALL):
            batch = requests[i:i + MERGES_PER_CALL]
            results = self._soap_merge(entity, [(xref[s], [xref[r] for r in rs]) for s, rs in batch])
            for (survivor, retired), error in zip(batch, results):
                for key in retired:
                    if error is None:
                        self.state.retire(entity.name, key, survivor, xref[key], "merge")
                    outcomes.append((key, error))
        self._rejects(entity, "merge", outcomes)

    def _soap_merge(self, entity: Entity, requests: list[tuple[str, list[str]]]) -> list[str | None]:
        """One SOAP merge() call; per request None (merged) or Salesforce's reason."""
        body = "".join(
            f'<urn:request><urn:masterRecord xsi:type="urn1:{entity.table}"><urn1:Id>{escape(master)}</urn1:Id>'
            f"</urn:masterRecord>{''.join(f'<urn:recordToMergeIds>{escape(r)}</urn:recordToMergeIds>' for r in rest)}"
            "</urn:request>" for master, rest in requests)
        dup = ("<urn:DuplicateRuleHeader><urn:allowSave>true</urn:allowSave></urn:DuplicateRuleHeader>"
               if self.allow_duplicates else "")
        envelope = (
            '<?xml version="1.0" encoding="utf-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
            f'envelope/" xmlns:urn="{SOAP}" xmlns:urn1="urn:sobject.partner.soap.sforce.com" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Header><urn:SessionHeader>'
            f"<urn:sessionId>{escape(self._token)}</urn:sessionId></urn:SessionHeader>{dup}</soapenv:Header>"
            f"<soapenv:Body><urn:merge>{body}</urn:merge></soapenv:Body></soapenv:Envelope>")
        # a SOAP fault is HTTP 500: the session's Retry waits out only 429/503 (limits)
        try:
            r = self.sf.session.post(f"https://{self.sf.sf_instance}/services/Soap/u/{VERSION}", data=envelope.encode(),
                                     headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": '""'},
                                     timeout=300)
        except OSError as e:  # requests' errors are OSErrors: a dropped connection is not retried (not idempotent)
            raise CrmHttpError(f"Salesforce merge failed: {type(e).__name__}") from e
        try:
            root = ET.fromstring(r.text)
        except ET.ParseError:
            if r.status_code == 401:
                raise CrmHttpError("Salesforce refused the token (HTTP 401); check CDQ_CRM_TOKEN", 401) from None
            raise CrmHttpError(f"Salesforce merge answered HTTP {r.status_code} without SOAP", r.status_code) from None
        fault = root.find(".//faultstring")
        if fault is not None:
            if "INVALID_SESSION_ID" in (root.findtext(".//faultcode") or ""):
                raise CrmHttpError(f"Salesforce refused the token ({fault.text}); check CDQ_CRM_TOKEN", 401)
            raise CrmHttpError(f"Salesforce merge failed: {fault.text}", r.status_code)
        results = root.findall(f".//{{{SOAP}}}result")
        if len(results) != len(requests):
            raise CrmHttpError(f"Salesforce merge answered {len(results)} results for {len(requests)} requests")
        return [None if res.findtext(f"{{{SOAP}}}success") == "true" else
                "; ".join(f"{e.findtext(f'{{{SOAP}}}statusCode')}: {e.findtext(f'{{{SOAP}}}message')}"
                          for e in res.findall(f"{{{SOAP}}}errors")) or "merge refused"
                for res in results]





