"""Teamleader Focus adapter against a local fake of its documented API (tests/crm_fakes/teamleader.py).

Not tested against the real Teamleader: the fake implements the documented methods, status codes and
error bodies, including one refused record in a batch and 429 rate limiting with X-RateLimit-Reset.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from crm_fakes.teamleader import FakeTeamleader
from helpers import LENIENT, nightly, people
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm import load_from_store
from cdq.crm.registry import target_from_url
from cdq.store import GoldenStore

TOKEN = "tl-secret-token-123"


@pytest.fixture()
def teamleader(tmp_path, monkeypatch):
    monkeypatch.setenv("CDQ_CRM_TOKEN", TOKEN)
    with FakeTeamleader(TOKEN, rate_limit_every=7) as fake:
        yield fake, f"teamleader+{fake.url}?state=sqlite:///{tmp_path / 'state.db'}", GoldenStore(
            f"sqlite:///{tmp_path / 'golden.db'}")


def emails(fake) -> list[str]:
    return sorted(e["email"] for c in fake.records["contacts"].values() for e in c.get("emails", []))


def test_load_refusal_rate_limit_rerun_update_merge(teamleader, caplog):
    fake, url, store = teamleader
    caplog.set_level(logging.DEBUG)
    staging = people(5)
    staging.loc[3, "email"] = "not-an-email"
    staging.loc[0, "company_name"] = "Bakkerij De Vries"
    nightly(store, staging, rules=LENIENT)
    result, plan = load_from_store(store, target_from_url(url))
    assert result.line() == "loaded: 5 created, 0 updated, 0 merged, 0 unchanged"
    assert result.rejected == 1 and plan.rejected[0]["action"] == "create"
    assert plan.rejected[0]["reason"] == "The email must be a valid email address. (/emails/0/email)"
    assert emails(fake) == ["p0@x.nl", "p1@x.nl", "p2@x.nl", "p4@x.nl"]
    assert fake.rate_limited >= 1  # the 429s were waited out (X-RateLimit-Reset) and retried
    company = next(iter(fake.records["companies"]))
    assert [c.get("companies") for c in fake.records["contacts"].values()].count([company]) == 1
    assert all(c["addresses"][0]["address"] == {"city": "Utrecht", "country": "NL"}
               for c in fake.records["contacts"].values())

    again = load_from_store(store, target_from_url(url), full=True)[0]
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 5 unchanged"
    assert again.rejected == 1  # still refused, still kept

    staging.loc[3, ["email", "source_updated_at"]] = ["p3@x.nl", "2024-06-01"]
    staging.loc[1, ["city", "source_updated_at"]] = ["Zwolle", "2024-06-01"]
    nightly(store, staging, rules=LENIENT)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].line() == "loaded: 1 created, 1 updated, 0 merged, 0 unchanged"
    assert crm.rejections().empty
    cities = sorted(c["addresses"][0]["address"]["city"] for c in fake.records["contacts"].values())
    assert cities == ["Utrecht"] * 4 + ["Zwolle"]

    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": ["a", "a", "c", "d", "e", "org"]})
    nightly(store, staging.assign(source_updated_at="2024-07-01"), clusters, rules=LENIENT)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].merged == 1
    assert len(fake.records["contacts"]) == 4 and "contacts.delete" in fake.calls
    assert crm.state.table("cdq_crm_change")["action"].eq("update+delete").sum() == 1
    last = load_from_store(store, target_from_url(url), full=True)[0]
    assert (last.created, last.updated, last.merged, last.rejected) == (0, 0, 0, 0)
    assert TOKEN not in caplog.text and "p0@x.nl" not in caplog.text


def test_cli_dry_run_writes_nothing_then_loads(teamleader, tmp_path):
    fake, _, store = teamleader
    nightly(store, people(2))
    args = ["load", "--crm", f"teamleader+{fake.url}", "--store", str(store.engine.url)]
    dry = CliRunner().invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would create 3 / update 0 / merge 0 records (dry run: nothing loaded)" in dry.output
    assert fake.records == {"contacts": {}, "companies": {}} and not any(".add" in c for c in fake.calls)
    real = CliRunner().invoke(app, args)
    assert real.exit_code == 0 and real.output.strip().endswith("loaded: 3 created, 0 updated, 0 merged, 0 unchanged")
    assert len(fake.records["contacts"]) == 2


def test_cli_wrong_token_is_a_clear_error(teamleader, monkeypatch):
    fake, _, store = teamleader
    nightly(store, people(1))
    monkeypatch.setenv("CDQ_CRM_TOKEN", "wrong-token-456")
    result = CliRunner().invoke(app, ["load", "--crm", f"teamleader+{fake.url}", "--store", str(store.engine.url)])
    assert result.exit_code == 2
    assert "Teamleader refused the token (HTTP 401: Unauthorized)" in result.output
    assert "Traceback" not in result.output and "wrong-token-456" not in result.output
