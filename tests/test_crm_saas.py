"""SaaS CRM adapters against local fakes that speak their documented protocol (tests/crm_fakes/).

These are NOT tested against the real products (no network here): the fakes implement the documented
endpoints, status codes and error bodies, including partial failures (207) and rate limiting (429).
"""

from __future__ import annotations

import pandas as pd
import pytest
from crm_fakes.hubspot import FakeHubSpot
from helpers import LENIENT, nightly, people

from cdq.crm import load_from_store
from cdq.crm.registry import target_from_url
from cdq.errors import UsageError
from cdq.store import GoldenStore


@pytest.fixture()
def hubspot(tmp_path, monkeypatch):
    monkeypatch.setenv("CDQ_CRM_TOKEN", "pat-na1-test")
    with FakeHubSpot("pat-na1-test", rate_limit_every=3) as fake:
        yield fake, f"hubspot+{fake.url}?state=sqlite:///{tmp_path / 'state.db'}", GoldenStore(
            f"sqlite:///{tmp_path / 'golden.db'}")


def test_hubspot_upsert_partial_failure_rate_limit_rerun_update_merge(hubspot):
    fake, url, store = hubspot
    staging = people(5)
    staging.loc[3, "email"] = "not-an-email"
    nightly(store, staging, rules=LENIENT)
    result, plan = load_from_store(store, target_from_url(url))
    assert result.line() == "loaded: 5 created, 0 updated, 0 merged, 0 unchanged"
    assert result.rejected == 1
    assert "INVALID_EMAIL" in plan.rejected[0]["reason"]
    assert len(fake.objects["contacts"]) == 4 and len(fake.objects["companies"]) == 1
    assert fake.rate_limited >= 1  # 429s were retried after Retry-After
    assert {p["email"] for p in fake.objects["contacts"].values()} == {"p0@x.nl", "p1@x.nl", "p2@x.nl", "p4@x.nl"}

    again = load_from_store(store, target_from_url(url), full=True)[0]
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 5 unchanged"
    assert again.rejected == 1 and again.rejected_line().startswith("rejected: 1 change(s) refused")
    staging.loc[3, ["email", "source_updated_at"]] = ["p3@x.nl", "2024-06-01"]
    staging.loc[0, ["city", "source_updated_at"]] = ["Zwolle", "2024-06-01"]
    nightly(store, staging, rules=LENIENT)
    assert load_from_store(store, target_from_url(url))[0].line() == \
        "loaded: 1 created, 1 updated, 0 merged, 0 unchanged"
    assert sorted(p.get("city") for p in fake.objects["contacts"].values()) == ["Utrecht"] * 4 + ["Zwolle"]

    clusters = pd.DataFrame({"record_id": staging["record_id"],
                             "cluster_id": ["a", "a", "c", "d", "e", "org"]})
    nightly(store, staging.assign(source_updated_at="2024-07-01"), clusters, rules=LENIENT)
    crm = target_from_url(url)
    assert load_from_store(store, crm)[0].merged == 1
    assert len(fake.objects["contacts"]) == 4
    assert crm.state.table("cdq_crm_change")["action"].eq("merge").sum() == 1


def test_hubspot_wrong_token_is_a_clear_error(hubspot, monkeypatch):
    from cdq.crm.http import CrmHttpError

    fake, url, store = hubspot
    nightly(store, people(1))
    monkeypatch.setenv("CDQ_CRM_TOKEN", "wrong")
    with pytest.raises(CrmHttpError, match="HTTP 401: Authentication credentials not found"):
        load_from_store(store, target_from_url(url))


@pytest.mark.parametrize("url", [
    "bottlecrm+http://user:secret@127.0.0.1:8000",
    "hubspot+https://api.hubapi.com?access_token=abc",
    "postgresql://crm:secret@127.0.0.1/crm",
])
def test_url_with_a_secret_is_refused(url):
    with pytest.raises(UsageError, match="holds a password or token") as e:
        target_from_url(url)
    assert "secret" not in str(e.value) and "abc" not in str(e.value)


def test_unknown_scheme_and_missing_token(monkeypatch, tmp_path):
    with pytest.raises(UsageError, match="unknown CRM URL scheme"):
        target_from_url("ftp://x")
    monkeypatch.delenv("CDQ_CRM_TOKEN", raising=False)
    with pytest.raises(UsageError, match="token"):
        target_from_url(f"bottlecrm+http://127.0.0.1:1?state=sqlite:///{tmp_path / 's.db'}")


def test_import_files_for_salesforce_and_dynamics(tmp_path):
    import openpyxl

    from cdq.crm.files import write_dynamics_workbook, write_salesforce_dataloader
    from cdq.golden import golden_frame

    store = GoldenStore(f"sqlite:///{tmp_path / 'golden.db'}")
    staging = people(2)
    staging.loc[0, ["street", "infix"]] = ["=HYPERLINK(1)", "van"]
    nightly(store, staging)
    golden = golden_frame(store.changes_since(0).drop(columns=["seq"]))
    contact, account = write_salesforce_dataloader(golden, tmp_path / "sf")
    rows = pd.read_csv(contact, dtype=str).fillna("")
    assert list(rows.columns)[:4] == ["CDQ_Golden_Id__c", "Salutation", "FirstName", "LastName"]
    assert rows["LastName"].tolist() == ["van Jansen", "Jansen"] and rows["Email"].tolist() == ["p0@x.nl", "p1@x.nl"]
    assert not rows["MailingStreet"].iloc[0].startswith("=")  # formula neutralised
    assert pd.read_csv(account, dtype=str)["Name"].tolist() == ["Bakkerij De Vries"]
    contact_x, account_x = write_dynamics_workbook(golden, tmp_path / "dyn")
    sheet = openpyxl.load_workbook(contact_x)["Contact"]
    assert [c.value for c in sheet[1]][:3] == ["cdq_goldenid", "First Name", "Last Name"] and sheet.max_row == 3


@pytest.mark.parametrize(("kind", "sdk", "extra"), [("salesforce", "simple_salesforce", "salesforce"),
                                                    ("hubspot", "hubspot", "hubspot")])
def test_a_missing_crm_client_names_the_extra_to_install(monkeypatch, tmp_path, kind, sdk, extra):
    monkeypatch.setenv("CDQ_CRM_TOKEN", "t")
    monkeypatch.setitem(__import__("sys").modules, sdk, None)  # as if the extra was not installed
    with pytest.raises(UsageError, match="needs ") as e:
        target_from_url(f"{kind}+https://127.0.0.1:1?state=sqlite:///{tmp_path / 's.db'}")
    assert e.value.hint == f"pip install 'cdq[{extra}]'"


def test_salesforce_is_https_only(monkeypatch, tmp_path):
    monkeypatch.setenv("CDQ_CRM_TOKEN", "t")
    with pytest.raises(UsageError, match="HTTPS only"):
        target_from_url(f"salesforce+http://127.0.0.1:1?state=sqlite:///{tmp_path / 's.db'}")
