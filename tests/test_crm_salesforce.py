"""Salesforce adapter against a local fake of Bulk API 2.0, SOQL and SOAP merge (tests/crm_fakes/salesforce.py).

Not tested against the real Salesforce: the fake implements the documented ingest job life cycle,
per-row failed results, duplicate rules, query paging, merge(), 401 and 429/503 responses.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from crm_fakes.salesforce import FakeSalesforce
from helpers import nightly, people
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm import load_from_store
from cdq.crm.registry import target_from_url
from cdq.store import GoldenStore

TOKEN = "00D5e000000TEST!AQ0AQsalesforce-secret"


@pytest.fixture()
def salesforce(tmp_path, monkeypatch):
    monkeypatch.setenv("CDQ_CRM_TOKEN", TOKEN)
    with FakeSalesforce(TOKEN) as fake:
        # a contact someone typed in by hand (no golden id) holding the e-mail golden person 3 will have
        fake.objects["Contact"]["003000000000000999"] = {"Id": "003000000000000999", "LastName": "Handwerk",
                                                         "Email": "P3@x.nl"}
        yield fake, f"salesforce+{fake.url}?state=sqlite:///{tmp_path / 'state.db'}", GoldenStore(
            f"sqlite:///{tmp_path / 'golden.db'}")


def test_load_duplicate_refused_rate_limit_rerun_update_merge(salesforce, caplog):
    fake, url, store = salesforce
    fake.rate_limit_every = 5  # one 429 with Retry-After
    caplog.set_level(logging.DEBUG)
    staging = people(5)
    staging.loc[0, "company_name"] = "Bakkerij De Vries"
    nightly(store, staging)
    result, plan = load_from_store(store, target_from_url(url))
    assert result.line() == "loaded: 5 created, 0 updated, 0 merged, 0 unchanged"
    assert result.rejected == 1 and plan.rejected[0]["reason"] == "DUPLICATES_DETECTED:Use one of these records?:--"
    assert sorted(fake.by_key("Contact")) == sorted(set(fake.by_key("Contact")))
    assert sorted(r["Email"] for r in fake.by_key("Contact").values()) == ["p0@x.nl", "p1@x.nl", "p2@x.nl", "p4@x.nl"]
    assert fake.rate_limited == 1  # retried after Retry-After
    account = next(iter(fake.by_key("Account").values()))
    assert [r.get("AccountId") for r in fake.by_key("Contact").values()].count(account["Id"]) == 1
    assert all(j["state"] == "JobComplete" for j in fake.jobs.values())

    again = load_from_store(store, target_from_url(url), full=True)[0]  # the query pages via nextRecordsUrl
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 5 unchanged" and again.rejected == 1

    staging.loc[3, ["email", "source_updated_at"]] = ["p3-new@x.nl", "2024-06-01"]
    staging.loc[1, ["city", "email", "source_updated_at"]] = ["Zwolle", None, "2024-06-01"]
    nightly(store, staging)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].line() == "loaded: 1 created, 1 updated, 0 merged, 0 unchanged"
    assert crm.rejections().empty
    moved = next(r for r in fake.by_key("Contact").values() if r.get("MailingCity") == "Zwolle")
    assert moved["Email"] is None  # cleared with #N/A, not left as it was

    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": ["a", "a", "a", "d", "e", "org"]})
    nightly(store, staging.assign(source_updated_at="2024-07-01"), clusters)
    crm = target_from_url(url)
    result = load_from_store(store, crm)[0]
    assert result.merged == 2 and len(fake.by_key("Contact")) == 3
    merges = [p for m, p in fake.log if p.startswith("/services/Soap")]
    assert len(merges) == 1  # one merge() call: the master and both others in one request
    assert crm.state.table("cdq_crm_change")["action"].eq("merge").sum() == 2
    last = load_from_store(store, target_from_url(url), full=True)[0]
    assert (last.created, last.updated, last.merged, last.rejected) == (0, 0, 0, 0)
    assert TOKEN not in caplog.text and "p0@x.nl" not in caplog.text


def test_allow_duplicates_sends_the_duplicate_rule_header(salesforce):
    fake, url, store = salesforce
    fake.rate_limit_every, fake.throttle_status = 2, 503  # Salesforce's concurrent-request limit answer
    nightly(store, people(5))
    result = load_from_store(store, target_from_url(url.replace("?", "?allow_duplicates=1&")))[0]
    assert (result.created, result.rejected, fake.rate_limited) == (6, 0, 1)
    assert all(j["allow_save"] for j in fake.jobs.values())


def test_cli_dry_run_writes_nothing(salesforce):
    fake, _, store = salesforce
    nightly(store, people(2))
    args = ["load", "--crm", f"salesforce+{fake.url}", "--store", str(store.engine.url)]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would create 3 / update 0 / merge 0 records (dry run: nothing loaded)" in dry.output
    assert not fake.jobs and {m for m, _ in fake.log} == {"GET"}
    real = CliRunner().invoke(app, args)
    assert real.exit_code == 0 and real.output.strip().endswith("loaded: 3 created, 0 updated, 0 merged, 0 unchanged")


def test_cli_wrong_token_is_a_clear_error(salesforce, monkeypatch):
    fake, _, store = salesforce
    nightly(store, people(1))
    monkeypatch.setenv("CDQ_CRM_TOKEN", "wrong-token-456")
    result = CliRunner().invoke(app, ["load", "--crm", f"salesforce+{fake.url}", "--store", str(store.engine.url)])
    assert result.exit_code == 2
    assert "Salesforce refused the token (HTTP 401: Session expired or invalid)" in result.output
    assert "Traceback" not in result.output and "wrong-token-456" not in result.output
