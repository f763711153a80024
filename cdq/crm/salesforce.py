"""Salesforce: Bulk API 2.0 upsert on the External ID field ``CDQ_Golden_Id__c``; SOAP merge.

Endpoints (as Salesforce documents them, API v59.0): ``POST /services/data/v59.0/jobs/ingest`` (object,
``externalIdFieldName``, ``contentType: CSV``, ``operation: upsert``, ``lineEnding: LF``) → job id;
``PUT .../jobs/ingest/{id}/batches`` (``Content-Type: text/csv``); ``PATCH .../jobs/ingest/{id}``
``{"state": "UploadComplete"}``; poll ``GET .../jobs/ingest/{id}`` until ``JobComplete``, ``Failed`` or
``Aborted``; then ``GET .../successfulResults/`` (``sf__Id``, ``sf__Created`` + the uploaded columns) and
``.../failedResults/`` (``sf__Id``, ``sf__Error`` + columns): each failed row is a rejection with
Salesforce's ``sf__Error``, kept for the next load. In an upsert CSV an empty cell leaves a field as it
is, so a field to clear is sent as ``#N/A``. Current records are read with SOQL (``GET .../query``,
``WHERE CDQ_Golden_Id__c IN (...)`` in chunks, following ``nextRecordsUrl``). Merges use the SOAP API's
``merge()`` call (the REST API has none): a master and up to two records to merge per request.
Organisations go to Account, persons to Contact (``AccountId`` set to the Account with exactly their
company's name, when there is one). 401 is a clear error; 429 and 503 are retried after ``Retry-After``.
Duplicate rules apply as the org configures them; ``?allow_duplicates=1`` sends
``Sforce-Duplicate-Rule-Header: allowSave=true`` (and the SOAP ``DuplicateRuleHeader``) to save records an
"Alert" rule would stop. The field ``CDQ_Golden_Id__c`` (Text, External ID, Unique) must exist on
Contact and Account, as for the Data Loader file of :mod:`cdq.crm.files`.
Tested only against a local fake (``tests/crm_fakes/salesforce.py``), not against Salesforce.

Examples:
    >>> soql_in(["G1", "O'Brien"])
    "('G1','O\\\\'Brien')"
    >>> to_csv(["A", "B"], [{"A": "x,y", "B": None}], blank="#N/A")
    'A,B\\n"x,y",#N/A\\n'
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import pandas as pd

from cdq.crm.bottlecrm import address_line
from cdq.crm.http import CrmHttpError, HttpClient, Response, Retry, error_text
from cdq.crm.mapping import CrmMapping, Entity, load_mapping
from cdq.crm.remote import BatchPrimitives, RemoteCrmTarget
from cdq.errors import UsageError
from cdq.normalize.name_lines import surname_as_used
from cdq.resources import resource

logger = logging.getLogger(__name__)

VERSION = "59.0"
#: A SOAP fault is HTTP 500 and final; only the limits (429, 503) are waited out. Not retried on a dropped
#: connection: a merge is not idempotent.
SOAP_RETRY = Retry(statuses=frozenset({429, 503}), errors=False)
API = f"/services/data/v{VERSION}"
KEY = "CDQ_Golden_Id__c"
CHUNK = 200  # keys per SOQL query (the query string stays well under 16,000 characters)
JOB_ROWS = 10_000  # rows per ingest job (far below the 150 MB limit)
MERGES_PER_CALL = 50  # MergeRequests per SOAP merge() call (the limit is 200)
POLL_MAX = 1800.0  # seconds to wait for one ingest job
SOAP = "urn:partner.soap.sforce.com"
MAPPING = load_mapping(resource("rules", "crm", "salesforce.yaml"))


def _t(value) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


def soql_in(values: list[str]) -> str:
    """A SOQL ``IN`` list of string literals (backslash escapes for quote and backslash)."""
    return "(" + ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values) + ")"


def to_csv(columns: list[str], rows: list[dict], blank: str = "") -> str:
    """Bulk API CSV (LF line endings); ``None`` written as ``blank`` (``#N/A`` clears a field)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([blank if r.get(c) is None else r[c] for c in columns] for r in rows)
    return out.getvalue()


class SalesforceTarget(BatchPrimitives, RemoteCrmTarget):
    """Salesforce at ``base_url`` (``https://MyDomain.my.salesforce.com``); OAuth access token from ``CDQ_CRM_TOKEN``."""

    kind = "salesforce"

    def __init__(self, base_url: str, state_url: str, *, mapping: CrmMapping | None = None, concurrency: int = 4,
                 token: str | None = None, backoff_base: float = 0.5, poll: float = 0.05):
        super().__init__(f"salesforce:{base_url}", mapping or MAPPING, state_url)
        self._token = token or os.environ.get("CDQ_CRM_TOKEN") or ""
        if not self._token:
            raise UsageError("Salesforce needs an OAuth access token", hint="export CDQ_CRM_TOKEN=<token>")
        options = {k: v[-1] for k, v in parse_qs(urlsplit(base_url).query).items()}
        self.allow_duplicates = options.get("allow_duplicates", "0").lower() in ("1", "true", "yes")
        headers = {"Authorization": f"Bearer {self._token}"}
        if self.allow_duplicates:
            headers["Sforce-Duplicate-Rule-Header"] = "allowSave=true"
        self.http = HttpClient(base_url, headers, concurrency=concurrency, backoff_base=backoff_base)
        self.poll = poll
        self._account_ids: dict[str, str | None] = {}

    def __repr__(self) -> str:  # the token stays out of reprs
        return f"SalesforceTarget({self.http!r})"

    def _check(self, r: Response, what: str) -> None:
        if r.status == 401:
            raise CrmHttpError(f"Salesforce refused the token (HTTP 401: {error_text(r)}); check CDQ_CRM_TOKEN "
                               "(an OAuth access token for this My Domain)", 401)
        if not r.ok:
            raise CrmHttpError(f"Salesforce {what} failed: HTTP {r.status}: {error_text(r)}", r.status, r.body)

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
        """All records a SOQL query returns (following ``nextRecordsUrl``)."""
        r = self.http.get(f"{API}/query", params={"q": soql})
        records = []
        for _ in range(100_000):  # bounded
            self._check(r, "query")
            records += r.body.get("records", [])
            if r.body.get("done", True) or not r.body.get("nextRecordsUrl"):
                return records
            r = self.http.get(r.body["nextRecordsUrl"][len(self.http.prefix):] if self.http.prefix
                              else r.body["nextRecordsUrl"])
        raise CrmHttpError("Salesforce query did not end")

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
        columns = [entity.key, *entity.columns]
        if entity.party_type == "person":
            companies = {r[entity.key]: str(self._golden.get(r[entity.key], {}).get("company_name") or "")
                         for r in rows}
            accounts = self._accounts({c for c in companies.values() if c})
            # "" (not #N/A) where no Account is known: an upsert leaves a link made in Salesforce as it is
            rows = [{**r, "AccountId": accounts.get(companies[r[entity.key]]) or ""} for r in rows]
            columns.append("AccountId")
        outcomes: list[tuple[str, str | None]] = []
        for i in range(0, len(rows), JOB_ROWS):
            chunk = rows[i:i + JOB_ROWS]
            ok, failed = self._job(entity, to_csv(columns, chunk, "#N/A" if action == "update" else ""))
            self.state.link_many(entity.name, list(ok.items()), action)
            outcomes += [(r[entity.key], None if r[entity.key] in ok
                          else failed.get(r[entity.key], "missing from the job's results")) for r in chunk]
        self._rejects(entity, action, outcomes)

    def _job(self, entity: Entity, data: str) -> tuple[dict[str, str], dict[str, str]]:
        """One ingest job: create, upload, close, poll; golden id → Salesforce Id, golden id → sf__Error."""
        r = self.http.request("POST", f"{API}/jobs/ingest", json_body={
            "object": entity.table, "externalIdFieldName": KEY, "contentType": "CSV", "operation": "upsert",
            "lineEnding": "LF"})
        self._check(r, "create ingest job")
        job = f"{API}/jobs/ingest/{r.body['id']}"
        self._check(self.http.request("PUT", f"{job}/batches", data=data.encode(), content_type="text/csv"),
                    "upload")
        self._check(self.http.request("PATCH", job, json_body={"state": "UploadComplete"}), "close job")
        waited, wait = 0.0, self.poll
        while True:
            r = self.http.get(job)
            self._check(r, "job status")
            state = r.body.get("state")
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise CrmHttpError(f"Salesforce ingest job {state}: {r.body.get('errorMessage') or 'no reason given'}")
            if waited > POLL_MAX:
                raise CrmHttpError(f"Salesforce ingest job still {state} after {POLL_MAX:.0f} s")
            time.sleep(wait)
            waited, wait = waited + wait, min(wait * 2, 10.0)
        ok = {row[KEY]: row["sf__Id"] for row in self._results(f"{job}/successfulResults/")}
        failed = {row[KEY]: row["sf__Error"] for row in self._results(f"{job}/failedResults/")}
        logger.info("salesforce %s job: %d done, %d failed", entity.table, len(ok), len(failed))
        return ok, failed

    def _results(self, path: str) -> list[dict]:
        r = self.http.request("GET", path, extra_headers={"Accept": "text/csv"})
        self._check(r, "job results")
        text = r.body if isinstance(r.body, str) else ""
        return list(csv.DictReader(io.StringIO(text)))

    # -- merges -------------------------------------------------------------------------------------
    def send_delete(self, entity: Entity, crm_id: str) -> None:
        """REST ``DELETE sobjects/<type>/<Id>`` (the record goes to the recycle bin, emptied by Salesforce)."""
        r = self.http.request("DELETE", f"{API}/sobjects/{entity.table}/{crm_id}")
        if r.status == 404:  # deleted already (a rerun after a kill)
            return
        if r.status == 400:
            from cdq.crm.remote import Rejected

            raise Rejected(error_text(r))
        self._check(r, "delete")

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
        # a SOAP fault is HTTP 500: only 429/503 (limits) are waited out and retried here
        r = self.http.request("POST", f"/services/Soap/u/{VERSION}", data=envelope.encode(), retry=SOAP_RETRY,
                              content_type="text/xml; charset=UTF-8", extra_headers={"SOAPAction": '""'})
        text = r.body if isinstance(r.body, str) else ""
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            self._check(r, "merge")
            raise CrmHttpError(f"Salesforce merge answered HTTP {r.status} without SOAP", r.status) from None
        fault = root.find(".//faultstring")
        if fault is not None:
            if "INVALID_SESSION_ID" in (root.findtext(".//faultcode") or ""):
                raise CrmHttpError(f"Salesforce refused the token ({fault.text}); check CDQ_CRM_TOKEN", 401)
            raise CrmHttpError(f"Salesforce merge failed: {fault.text}", r.status)
        results = root.findall(f".//{{{SOAP}}}result")
        if len(results) != len(requests):
            raise CrmHttpError(f"Salesforce merge answered {len(results)} results for {len(requests)} requests")
        return [None if res.findtext(f"{{{SOAP}}}success") == "true" else
                "; ".join(f"{e.findtext(f'{{{SOAP}}}statusCode')}: {e.findtext(f'{{{SOAP}}}message')}"
                          for e in res.findall(f"{{{SOAP}}}errors")) or "merge refused"
                for res in results]





