"""A local fake of Salesforce's Bulk API 2.0 ingest, SOQL query and SOAP merge (the parts cdq uses).

Implements, as Salesforce documents them (API v59.0): ``POST /services/data/v59.0/jobs/ingest`` (upsert
jobs on an External ID field, CSV, LF), ``PUT .../jobs/ingest/{id}/batches`` (``text/csv``, 201),
``PATCH .../jobs/ingest/{id}`` ``{"state": "UploadComplete"}``, ``GET .../jobs/ingest/{id}`` (``InProgress``
once, then ``JobComplete``; ``Failed`` with ``errorMessage`` for an unknown column), ``successfulResults/``
(``sf__Id``, ``sf__Created``) and ``failedResults/`` (``sf__Id``, ``sf__Error``: ``INVALID_EMAIL_ADDRESS``,
``REQUIRED_FIELD_MISSING``, ``DUPLICATES_DETECTED`` from an "Alert" duplicate rule on Contact e-mail that
``Sforce-Duplicate-Rule-Header: allowSave=true`` lets through); ``#N/A`` clears a field and an empty cell
leaves it; ``GET .../query?q=SELECT … FROM … WHERE … IN (…)`` paged through ``nextRecordsUrl``;
``POST /services/Soap/u/59.0`` ``merge()`` (a master and at most two records per request; the merged
records are deleted); 401 ``INVALID_SESSION_ID`` (a SOAP fault for SOAP) without the right token; and
429 or 503 with ``Retry-After`` on every ``rate_limit_every``-th request, at most ``rate_limit_max`` times.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

from crm_fakes import LocalFake

API = "/services/data/v59.0"
KEY = "CDQ_Golden_Id__c"
SOAP = "urn:partner.soap.sforce.com"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = {"Contact": {"Salutation", "FirstName", "LastName", "Email", "Phone", "MobilePhone", "MailingStreet",
                      "MailingPostalCode", "MailingCity", "MailingCountry", "Birthdate", "AccountId", KEY},
          "Account": {"Name", "Phone", "BillingStreet", "BillingPostalCode", "BillingCity", "BillingCountry", KEY}}
PREFIX = {"Contact": "003", "Account": "001"}


def _rest_error(status: int, code: str, message: str):
    return status, [{"message": message, "errorCode": code}], {}


def _soql_strings(text: str) -> list[str]:
    return [re.sub(r"\\(.)", r"\1", m) for m in re.findall(r"'((?:[^'\\]|\\.)*)'", text)]


def _csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


class FakeSalesforce(LocalFake):
    """``with FakeSalesforce(token) as fake: fake.url`` — records in ``fake.objects["Contact"|"Account"][Id]``."""

    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    tls = True  # Salesforce is HTTPS only, and so is simple-salesforce

    def __init__(self, token: str, rate_limit_every: int = 0, rate_limit_max: int = 1, throttle_status: int = 429,
                 page_size: int = 3):
        self.token, self.rate_limit_every, self.rate_limit_max = token, rate_limit_every, rate_limit_max
        self.throttle_status, self.page_size = throttle_status, page_size
        self.objects: dict[str, dict[str, dict]] = {"Contact": {}, "Account": {}}
        self.jobs: dict[str, dict] = {}
        self.pages: dict[str, list[dict]] = {}
        self.ids = itertools.count(1)
        self.requests = self.rate_limited = 0
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.start_server()

    def respond(self, method: str, path: str, headers: dict, raw: bytes) -> tuple[int, bytes, dict]:
        status, payload, extra = self.handle(method, path, headers, raw)
        if isinstance(payload, (dict, list)):
            data, kind = json.dumps(payload).encode(), "application/json;charset=UTF-8"
        else:
            data, kind = (payload or "").encode(), extra.pop("Content-Type", "text/csv")
        out = dict(extra)
        if data:
            out["Content-Type"] = kind
        return status, data, out

    def by_key(self, sobject: str) -> dict[str, dict]:
        return {r[KEY]: r for r in self.objects[sobject].values() if r.get(KEY)}

    # -- dispatch -----------------------------------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict, raw: bytes):
        headers = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(path)
        with self.lock:
            self.requests += 1
            self.log.append((method, parts.path))
            if (self.rate_limit_every and self.requests % self.rate_limit_every == 0
                    and self.rate_limited < self.rate_limit_max):
                self.rate_limited += 1
                status, body, _ = _rest_error(self.throttle_status, "REQUEST_LIMIT_EXCEEDED",
                                              "ConcurrentPerOrgLongTxn Limit exceeded.")
                return status, body, {"Retry-After": "1"}
            if parts.path == "/services/Soap/u/59.0" and method == "POST":
                return self.soap(raw)
            if headers.get("authorization") != f"Bearer {self.token}":
                return _rest_error(401, "INVALID_SESSION_ID", "Session expired or invalid")
            if parts.path in (f"{API}/query", f"{API}/query/") and method == "GET":  # the docs write query/?q=
                return self.query(parse_qs(parts.query).get("q", [""])[0])
            m = re.fullmatch(rf"{API}/query/(01g[\w-]+)", parts.path)
            if m and method == "GET":
                return self.page(m.group(1))
            m = re.fullmatch(rf"{API}/sobjects/(Contact|Account)/(\w+)", parts.path)
            if m and method == "DELETE":
                if self.objects[m.group(1)].pop(m.group(2), None) is None:
                    return _rest_error(404, "ENTITY_IS_DELETED", "entity is deleted")
                return 204, "", {}
            if parts.path == f"{API}/jobs/ingest" and method == "POST":
                return self.create_job(json.loads(raw or b"{}"), headers)
            m = re.fullmatch(rf"{API}/jobs/ingest/(750\w+)(/batches|/successfulResults|/failedResults)?/?",
                             parts.path)
            if not m or m.group(1) not in self.jobs:
                return _rest_error(404, "NOT_FOUND", "The requested resource does not exist")
            job, sub = self.jobs[m.group(1)], m.group(2)
            if sub == "/batches" and method == "PUT":
                if job["state"] != "Open" or not headers.get("content-type", "").startswith("text/csv"):
                    return _rest_error(400, "INVALIDJOB", "Job is not Open or the content type is not text/csv")
                job["data"] += raw.decode("utf-8")
                return 201, "", {}
            if sub is None and method == "PATCH":
                if json.loads(raw or b"{}").get("state") != "UploadComplete" or job["state"] != "Open":
                    return _rest_error(400, "INVALIDJOB", "Invalid state change")
                job["state"] = "UploadComplete"
                return 200, self.info(job), {}
            if sub is None and method == "GET":
                if job["state"] == "UploadComplete":
                    job["state"] = "InProgress"  # the client has to poll again
                elif job["state"] == "InProgress":
                    self.run_job(job)
                return 200, self.info(job), {}
            if sub and sub.endswith("Results") and method == "GET":  # with or without the docs' trailing /
                if job["state"] != "JobComplete":
                    return _rest_error(400, "INVALIDJOB", "Job is not complete")
                if sub == "/successfulResults":
                    return 200, _csv(["sf__Id", "sf__Created", *job["columns"]], job["ok"]), {}
                return 200, _csv(["sf__Id", "sf__Error", *job["columns"]], job["failed"]), {}
            return _rest_error(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed")

    # -- bulk ingest --------------------------------------------------------------------------------
    def create_job(self, body: dict, headers: dict):
        if (body.get("object") not in self.objects or body.get("operation") != "upsert"
                or body.get("externalIdFieldName") != KEY or body.get("contentType") != "CSV"):
            return _rest_error(400, "INVALIDJOB", "InvalidJob : invalid object, operation or external id field")
        job_id = f"750{next(self.ids):015d}"
        self.jobs[job_id] = {"id": job_id, "object": body["object"], "state": "Open", "data": "",
                             "lineEnding": body.get("lineEnding", "LF"),
                             "allow_save": "allowsave=true" in headers.get("sforce-duplicate-rule-header", "").lower()}
        return 200, self.info(self.jobs[job_id]), {}

    def info(self, job: dict) -> dict:
        out = {k: job[k] for k in ("id", "object", "state", "lineEnding")}
        out |= {"operation": "upsert", "externalIdFieldName": KEY, "contentType": "CSV", "apiVersion": 59.0}
        if "ok" in job:
            out |= {"numberRecordsProcessed": len(job["ok"]) + len(job["failed"]),
                    "numberRecordsFailed": len(job["failed"])}
        if job.get("errorMessage"):
            out["errorMessage"] = job["errorMessage"]
        return out

    def run_job(self, job: dict) -> None:
        reader = csv.DictReader(io.StringIO(job["data"]))
        columns, sobject = list(reader.fieldnames or []), job["object"]
        unknown = [c for c in columns if c not in FIELDS[sobject]]
        if unknown or KEY not in columns:
            job.update(state="Failed", errorMessage=f"InvalidBatch : Field name not found : {(unknown or [KEY])[0]}")
            return
        job.update(columns=columns, ok=[], failed=[], state="JobComplete")
        for row in reader:
            error = self.upsert(sobject, row, job["allow_save"])
            if isinstance(error, str):
                job["failed"].append({"sf__Id": "", "sf__Error": error, **row})
            else:
                job["ok"].append({"sf__Id": error[0], "sf__Created": str(error[1]).lower(), **row})

    def upsert(self, sobject: str, row: dict, allow_save: bool):
        """(Id, created) or the ``sf__Error`` text."""
        current = self.by_key(sobject).get(row[KEY])
        changes = {k: (None if v == "#N/A" else v) for k, v in row.items() if v != ""}
        merged = {**(current or {}), **changes}
        if merged.get("Email") and not EMAIL.match(merged["Email"]):
            return f"INVALID_EMAIL_ADDRESS:Email: invalid email address: {merged['Email']}:Email --"
        required = "LastName" if sobject == "Contact" else "Name"
        if not merged.get(required):
            return f"REQUIRED_FIELD_MISSING:Required fields are missing: [{required}]:{required} --"
        if merged.get("AccountId") and merged["AccountId"] not in self.objects["Account"]:
            return "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:AccountId --"
        email = (merged.get("Email") or "").lower()
        if sobject == "Contact" and email and not allow_save and any(
                (r.get("Email") or "").lower() == email and r.get(KEY) != row[KEY]
                for r in self.objects["Contact"].values()):
            return "DUPLICATES_DETECTED:Use one of these records?:--"
        if current is None:
            new_id = f"{PREFIX[sobject]}{next(self.ids):015d}"
            self.objects[sobject][new_id] = {"Id": new_id, **merged}
            return new_id, True
        current.update(merged)
        return current["Id"], False

    # -- query --------------------------------------------------------------------------------------
    def query(self, soql: str):
        m = re.fullmatch(r"SELECT (.+?) FROM (\w+) WHERE (\w+) IN \((.*)\)", soql.strip())
        if not m or m.group(2) not in self.objects:
            return _rest_error(400, "MALFORMED_QUERY", "unexpected token")
        fields = [f.strip() for f in m.group(1).split(",")]
        if any(f not in FIELDS[m.group(2)] | {"Id"} for f in fields):
            return _rest_error(400, "INVALID_FIELD", "No such column on entity")
        wanted = set(_soql_strings(m.group(4)))
        rows = [{"attributes": {"type": m.group(2), "url": f"{API}/sobjects/{m.group(2)}/{r['Id']}"},
                 **{f: r.get(f) for f in fields}}
                for r in self.objects[m.group(2)].values() if r.get(m.group(3)) in wanted]
        return self._page(rows, len(rows))

    def _page(self, rows: list[dict], total: int):
        out = {"totalSize": total, "done": len(rows) <= self.page_size, "records": rows[:self.page_size]}
        if len(rows) > self.page_size:
            token = f"01g{next(self.ids):015d}-{self.page_size}"
            self.pages[token] = rows[self.page_size:]
            out["nextRecordsUrl"] = f"{API}/query/{token}"
        return 200, out, {}

    def page(self, token: str):
        rows = self.pages.pop(token, None)
        if rows is None:
            return _rest_error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rows, len(rows))

    # -- SOAP merge ---------------------------------------------------------------------------------
    def soap(self, raw: bytes):
        ns = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "u": SOAP,
              "o": "urn:sobject.partner.soap.sforce.com", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
        try:
            root = ET.fromstring(raw)
        except ET.ParseError:
            return self._fault("soapenv:Client", "Unable to parse the request")
        if root.findtext(".//u:SessionHeader/u:sessionId", namespaces=ns) != self.token:
            return self._fault("sf:INVALID_SESSION_ID", "INVALID_SESSION_ID: Invalid Session ID found in SessionHeader")
        results = []
        for req in root.findall(".//u:merge/u:request", ns):
            master = req.find("u:masterRecord", ns)
            sobject = (master.get(f"{{{ns['xsi']}}}type") or "").split(":")[-1]
            keep = master.findtext("o:Id", namespaces=ns)
            losers = [e.text for e in req.findall("u:recordToMergeIds", ns)]
            store = self.objects.get(sobject, {})
            if len(losers) > 2 or not losers:
                results.append((None, "LIMIT_EXCEEDED", "merge needs one or two records to merge into the master"))
            elif keep not in store or any(lo not in store for lo in losers) or keep in losers:
                results.append((None, "ENTITY_IS_DELETED", "entity is deleted"))
            else:
                for lo in losers:
                    del store[lo]
                results.append((keep, None, losers))
        body = "".join(
            f"<result><id>{keep}</id>{''.join(f'<mergedRecordIds>{i}</mergedRecordIds>' for i in extra)}"
            "<success>true</success></result>" if code is None else
            f"<result><errors><message>{extra}</message><statusCode>{code}</statusCode></errors>"
            '<id xsi:nil="true"/><success>false</success></result>'
            for keep, code, extra in results)
        return 200, self._envelope(f"<mergeResponse>{body}</mergeResponse>"), {"Content-Type": "text/xml"}

    def _envelope(self, inner: str) -> str:
        return ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/'
                f'soap/envelope/" xmlns="{SOAP}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<soapenv:Body>{inner}</soapenv:Body></soapenv:Envelope>")

    def _fault(self, code: str, text: str):
        return 500, self._envelope(f'<soapenv:Fault xmlns:sf="urn:fault.partner.soap.sforce.com"><faultcode>{code}'
                                   f"</faultcode><faultstring>{text}</faultstring></soapenv:Fault>"), \
            {"Content-Type": "text/xml"}
