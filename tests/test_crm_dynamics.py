"""Dynamics 365 adapter against a local fake of the Dataverse Web API (tests/crm_fakes/dynamics.py).

Not tested against the real Dynamics 365: the fake implements the documented upsert by alternate key
(If-Match / If-None-Match), duplicate detection, paging, the Merge action, 401 and 429 responses.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from crm_fakes.dynamics import FakeDynamics
from helpers import nightly, people
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm import load_from_store
from cdq.crm.registry import target_from_url
from cdq.store import GoldenStore

TOKEN = "eyJ0eXAi.dynamics-secret"
DUPLICATE = "A record was not created or updated because a duplicate of the current record already exists."


@pytest.fixture()
def dynamics(tmp_path, monkeypatch):
    monkeypatch.setenv("CDQ_CRM_TOKEN", TOKEN)
    with FakeDynamics(TOKEN, rate_limit_every=4) as fake:
        # a contact someone typed in by hand (no golden id) holding the e-mail golden person 3 will have
        fake.records["contacts"]["00000000-0000-0000-0000-00000000000a"] = {
            "contactid": "00000000-0000-0000-0000-00000000000a", "cdq_goldenid": None, "statecode": 0,
            "lastname": "Handwerk", "emailaddress1": "P3@x.nl"}
        yield fake, f"dynamics+{fake.url}?state=sqlite:///{tmp_path / 'state.db'}", GoldenStore(
            f"sqlite:///{tmp_path / 'golden.db'}")


def mine(fake, entity_set="contacts") -> dict[str, dict]:
    return {r["cdq_goldenid"]: r for r in fake.active(entity_set) if r["cdq_goldenid"]}


def test_load_duplicate_refused_rate_limit_rerun_update_merge(dynamics, caplog):
    fake, url, store = dynamics
    caplog.set_level(logging.DEBUG)
    staging = people(5)
    staging.loc[0, "company_name"] = "Bakkerij De Vries"
    nightly(store, staging)
    result, plan = load_from_store(store, target_from_url(url))
    assert result.line() == "loaded: 5 created, 0 updated, 0 merged, 0 unchanged"
    assert result.rejected == 1 and plan.rejected[0]["reason"] == DUPLICATE
    assert sorted(r["emailaddress1"] for r in mine(fake).values()) == ["p0@x.nl", "p1@x.nl", "p2@x.nl", "p4@x.nl"]
    assert fake.rate_limited == 1  # the 429 was retried after Retry-After
    creates = [h for m, _, h in fake.log if m == "PATCH"]
    assert all(h.get("if-none-match") == "*" and h.get("mscrm.suppressduplicatedetection") == "false" for h in creates)
    account = next(iter(mine(fake, "accounts").values()))
    assert [r.get("_parentcustomerid_value") for r in mine(fake).values()].count(account["accountid"]) == 1

    again = load_from_store(store, target_from_url(url), full=True)[0]  # reads page through @odata.nextLink
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 5 unchanged" and again.rejected == 1

    staging.loc[3, ["email", "source_updated_at"]] = ["p3-new@x.nl", "2024-06-01"]
    staging.loc[1, ["city", "source_updated_at"]] = ["Zwolle", "2024-06-01"]
    nightly(store, staging)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].line() == "loaded: 1 created, 1 updated, 0 merged, 0 unchanged"
    assert crm.rejections().empty
    updates = [h for m, _, h in fake.log if m == "PATCH" and "if-match" in h]
    assert len(updates) == 1 and "if-none-match" not in updates[0]
    assert sorted(r["address1_city"] for r in mine(fake).values()) == ["Utrecht"] * 4 + ["Zwolle"]

    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": ["a", "a", "c", "d", "e", "org"]})
    nightly(store, staging.assign(source_updated_at="2024-07-01"), clusters)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].merged == 1
    merged = [r for r in fake.records["contacts"].values() if r["statecode"] == 1]
    assert len(merged) == 1 and merged[0]["masterid"] in {r["contactid"] for r in mine(fake).values()}
    assert crm.state.table("cdq_crm_change")["action"].eq("merge").sum() == 1
    last = load_from_store(store, target_from_url(url), full=True)[0]
    assert (last.created, last.updated, last.merged, last.rejected) == (0, 0, 0, 0)
    assert TOKEN not in caplog.text and "p0@x.nl" not in caplog.text


def test_duplicate_detection_can_be_left_off(dynamics, tmp_path):
    fake, url, store = dynamics
    fake.rate_limit_every = 0
    nightly(store, people(5))
    result = load_from_store(store, target_from_url(url.replace("?", "?duplicate_detection=0&")))[0]
    assert (result.created, result.rejected) == (6, 0)
    assert not any("mscrm.suppressduplicatedetection" in h for _, _, h in fake.log)


def test_cli_dry_run_writes_nothing(dynamics):
    fake, _, store = dynamics
    fake.rate_limit_every = 0
    nightly(store, people(2))
    args = ["load", "--crm", f"dynamics+{fake.url}", "--store", str(store.engine.url)]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would create 3 / update 0 / merge 0 records (dry run: nothing loaded)" in dry.output
    assert {m for m, _, _ in fake.log} == {"GET"} and not mine(fake)
    real = CliRunner().invoke(app, args)
    assert real.exit_code == 0 and real.output.strip().endswith("loaded: 3 created, 0 updated, 0 merged, 0 unchanged")


def test_cli_wrong_token_is_a_clear_error(dynamics, monkeypatch):
    fake, _, store = dynamics
    fake.rate_limit_every = 0
    nightly(store, people(1))
    monkeypatch.setenv("CDQ_CRM_TOKEN", "wrong-token-456")
    result = CliRunner().invoke(app, ["load", "--crm", f"dynamics+{fake.url}", "--store", str(store.engine.url)])
    assert result.exit_code == 2
    assert "Dynamics 365 refused the token (HTTP 401)" in result.output
    assert "Traceback" not in result.output and "wrong-token-456" not in result.output
