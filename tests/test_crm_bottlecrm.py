"""End-to-end: the golden store loaded into a real BottleCRM (django-crm 1.35.0) over its REST API.

Needs the local BottleCRM (``scripts/bottlecrm/up.sh``; see tests/conftest.py): under CI=true a
missing BottleCRM fails, elsewhere these tests are skipped. Each test gets its own BottleCRM organisation.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers import nightly

from cdq.crm import load_from_store
from cdq.crm.bottlecrm import address_line
from cdq.crm.http import HttpClient
from cdq.crm.registry import target_from_url
from cdq.normalize.name_lines import surname_as_used
from cdq.store import GoldenStore

pytestmark = [pytest.mark.bottlecrm, pytest.mark.slow]


def people(n, start=0, email="p{i}@x.nl", city="Utrecht", company=True):
    """Customers with dialable phones (an undialable one is no golden value since issue 15)."""
    rows = [{"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i}",
             "infix": "de" if i % 2 else None, "last_name": "Vries", "email": email.format(i=i),
             "phone": f"+3161{i:07d}", "street": "Dorpsstraat", "house_number": str(i + 1),
             "postcode": "3511AB", "city": city, "country": "NL", "company_name": "Bakkerij De Vries" if i == 0 else None,
             "source_updated_at": "2024-01-01"} for i in range(start, start + n)]
    if company:
        rows.append({"record_id": "org", "source": "erp", "source_key": "org", "party_type": "organisation",
                     "company_name": "Bakkerij De Vries", "kvk_number": "12345678", "city": "Utrecht",
                     "country": "Nederland", "email": "info@bakkerij.nl", "source_updated_at": "2024-01-01"})
    return pd.DataFrame(rows)


@pytest.fixture()
def env(bottlecrm_org, tmp_path):  # noqa: F811 - the imported fixture
    """(store, crm URL, API client) for a fresh org; state beside the golden store."""
    url, token = bottlecrm_org
    store_url = f"sqlite:///{tmp_path / 'golden.db'}"
    crm_url = f"bottlecrm+{url}?state=sqlite:///{tmp_path / 'state.db'}"
    return GoldenStore(store_url), crm_url, HttpClient(url, {"Authorization": f"Bearer {token}"})


def api_list(api, kind):
    r = api.get(f"/api/{kind}/", params={"limit": 1000})
    assert r.status == 200
    if kind == "contacts":
        return r.body["results"]
    return r.body["active_accounts"]["open_accounts"] + r.body["closed_accounts"]["close_accounts"]


def api_record(api, kind, crm_id):
    r = api.get(f"/api/{kind}/{crm_id}/")
    assert r.status == 200
    return r.body["contact_obj" if kind == "contacts" else "account_obj"]


def test_pipeline_into_bottlecrm_reads_back_equal_and_reruns_idempotent(env):
    store, crm_url, api = env
    nightly(store, people(6))
    crm = target_from_url(crm_url)
    assert load_from_store(store, crm)[0].line() == "loaded: 7 created, 0 updated, 0 merged, 0 unchanged"

    golden = store.table("golden_records")
    xref = crm.state.xref("contacts")
    assert len(api_list(api, "contacts")) == 6 and len(xref) == 6
    for row in people(6, company=False).to_dict("records"):
        gid = store.resolve(next(g for g in golden["golden_id"] if g in xref and
                                 api_record(api, "contacts", xref[g])["email"] == row["email"]))
        rec = api_record(api, "contacts", xref[gid])
        last = " ".join(filter(None, [row["infix"], row["last_name"]]))
        assert (rec["first_name"], rec["last_name"], rec["email"], rec["phone"], rec["city"], rec["postcode"],
                rec["country"], rec["address_line"], rec["source_ref"]) == (
            row["first_name"], last, row["email"], row["phone"], row["city"], row["postcode"], "NL",
            address_line(row), gid)
    (account_id,) = crm.state.xref("accounts").values()
    account = api_record(api, "accounts", account_id)
    assert (account["name"], account["email"], account["city"], account["country"]) == (
        "Bakkerij De Vries", "info@bakkerij.nl", "Utrecht", "NL")
    linked = [c for c in api_list(api, "contacts") if (c.get("account_detail") or {}).get("id") == account_id]
    assert [c["email"] for c in linked] == ["p0@x.nl"]  # contact <-> account link

    nightly(store, people(6))  # the same night again: nothing changed
    assert load_from_store(store, target_from_url(crm_url))[0].line() == \
        "loaded: 0 created, 0 updated, 0 merged, 0 unchanged"
    assert load_from_store(store, target_from_url(crm_url), full=True)[0].line() == \
        "loaded: 0 created, 0 updated, 0 merged, 7 unchanged"

    staging = people(6)  # one source change: exactly one update
    staging.loc[3, ["city", "source_updated_at"]] = ["Zwolle", "2024-06-01"]
    nightly(store, staging)
    assert load_from_store(store, target_from_url(crm_url))[0].line() == \
        "loaded: 0 created, 1 updated, 0 merged, 0 unchanged"
    assert [c["city"] for c in api_list(api, "contacts") if c["email"] == "p3@x.nl"] == ["Zwolle"]
    ledger = target_from_url(crm_url).state.table("cdq_crm_change")
    assert ledger["action"].value_counts().to_dict() == {"create": 7, "update": 1}


def test_dry_run_writes_nothing(env):
    store, crm_url, api = env
    nightly(store, people(3))
    result, plan = load_from_store(store, target_from_url(crm_url), dry_run=True)
    assert result.would() == "Would create 4 / update 0 / merge 0 records"
    assert api_list(api, "contacts") == [] and api_list(api, "accounts") == []


def test_rejected_duplicate_email_is_reported_kept_and_loaded_later(env):
    store, crm_url, api = env
    staging = people(25, email="p{i}@x.nl", company=False)  # >= 20 new contacts: through the CSV import
    staging.loc[2, "email"] = "p1@x.nl"  # two different people share an e-mail: BottleCRM refuses the second
    nightly(store, staging)
    crm = target_from_url(crm_url)
    result, plan = load_from_store(store, crm)
    assert result.line() == "loaded: 24 created, 0 updated, 0 merged, 0 unchanged"
    assert result.rejected == 1
    assert plan.rejected[0]["action"] == "create"
    assert "Contact already exists with this email" in plan.rejected[0]["reason"]
    kept = crm.rejections()
    assert len(kept) == 1 and "already exists" in kept["reason"].iloc[0]
    assert len(api_list(api, "contacts")) == 24

    again = load_from_store(store, target_from_url(crm_url))[0]  # no change: retried, refused again
    assert again.line() == "loaded: 0 created, 0 updated, 0 merged, 0 unchanged"
    assert again.rejected == 1
    staging.loc[2, ["email", "source_updated_at"]] = ["p2@x.nl", "2024-06-01"]  # the source is fixed
    nightly(store, staging)
    fixed = target_from_url(crm_url)
    assert load_from_store(store, fixed)[0].line() == "loaded: 1 created, 0 updated, 0 merged, 0 unchanged"
    assert fixed.rejections().empty and len(api_list(api, "contacts")) == 25
    assert load_from_store(store, target_from_url(crm_url), full=True)[0].line() == \
        "loaded: 0 created, 0 updated, 0 merged, 25 unchanged"


def test_merge_goes_through_the_crm_merge_endpoint(env):
    store, crm_url, api = env
    nightly(store, people(3, company=False))
    load_from_store(store, target_from_url(crm_url))
    staging = people(3, company=False)
    staging.loc[:, "source_updated_at"] = "2024-06-01"
    clusters = pd.DataFrame({"record_id": ["r0", "r1", "r2"], "cluster_id": ["a", "a", "b"]})
    nightly(store, staging, clusters)
    crm = target_from_url(crm_url)
    result = load_from_store(store, crm)[0]
    assert (result.merged, result.created) == (1, 0)
    assert len(api_list(api, "contacts")) == 2
    assert load_from_store(store, target_from_url(crm_url), full=True)[0].line() == \
        "loaded: 0 created, 0 updated, 0 merged, 3 unchanged"
    changes = crm.state.table("cdq_crm_change")
    assert changes[changes["action"] == "merge"].shape[0] == 1


LOAD = ("import sys; from cdq.crm import load_from_store; from cdq.crm.registry import target_from_url; "
        "from cdq.store import GoldenStore; "
        "print(load_from_store(GoldenStore(sys.argv[1]), target_from_url(sys.argv[2]))[0].line())")


def test_killed_load_then_rerun_ends_in_the_same_state(env, tmp_path):
    store, crm_url, api = env
    nightly(store, people(30))
    one_at_a_time = crm_url + "&concurrency=1&bulk_min=1000"  # one POST at a time: killed half-way
    proc = subprocess.Popen([sys.executable, "-c", LOAD, str(store.engine.url), one_at_a_time],
                            env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                with state.connect() as conn:
                    if conn.execute(sa.text("select count(*) from cdq_crm_xref")).scalar() >= 8:
                        break
            except sa.exc.OperationalError:
                pass
        else:
            pytest.fail("the load did not get going")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 8 <= len(api_list(api, "contacts")) + len(api_list(api, "accounts")) < 31  # half-way
    rerun = subprocess.run([sys.executable, "-c", LOAD, str(store.engine.url), crm_url],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    contacts = api_list(api, "contacts")
    assert len(contacts) == 30 and len({c["email"] for c in contacts}) == 30  # nothing twice
    assert len(api_list(api, "accounts")) == 1
    assert load_from_store(store, target_from_url(crm_url), full=True)[0].line() == \
        "loaded: 0 created, 0 updated, 0 merged, 31 unchanged"


def test_cdq_demo_into_bottlecrm_loads_or_reports_every_golden_record_and_reruns_as_a_no_op(bottlecrm_org, tmp_path):  # noqa: F811
    """The whole demo pipeline into the real BottleCRM (its CSV import path: > 20 new contacts).

    BottleCRM refuses a second account with the same name (the demo has companies with several
    locations) and a second contact with the same e-mail (a household sharing one address): those golden
    records must be reported with the CRM's reason and kept for the next run; everything else is loaded,
    and a rerun changes nothing.
    """
    import re

    from typer.testing import CliRunner

    from cdq.cli.main import app
    from cdq.golden import golden_frame

    url, token = bottlecrm_org
    crm_url = f"bottlecrm+{url}"
    loaded = re.compile(r"^loaded: (\d+) created, (\d+) updated, (\d+) merged, (\d+) unchanged$", re.M)
    first = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "w"), "--crm", crm_url])
    assert first.exit_code == 0, first.output
    assert token not in first.output
    created = int(loaded.findall(first.output)[-1][0])
    store_url = f"sqlite:///{tmp_path / 'w' / 'golden.sqlite'}"  # remote CRM state lives beside the store
    rejections = pd.read_sql("select entity, golden_id, action, reason from cdq_crm_rejection", store_url)
    assert set(rejections["reason"].str.split(":").str[0]) <= {"name", "email"}
    assert rejections["reason"].str.contains("already exists").all()
    assert re.search(rf"^rejected: {len(rejections)} change", first.output, re.M)
    golden = golden_frame(GoldenStore(store_url).changes_since(0, full=True).drop(columns=["seq"]))
    golden = golden[golden["status"] == "active"]
    assert created + rejections["golden_id"].nunique() == len(golden)
    api = HttpClient(url, {"Authorization": f"Bearer {token}"})
    contacts = {c["email"]: c for c in api_list(api, "contacts") if c.get("email")}
    loaded_persons = golden[(golden["party_type"] != "organisation") & golden["email"].notna()
                            & ~golden["golden_id"].isin(rejections["golden_id"])]
    assert len(loaded_persons) > 50
    for row in loaded_persons.to_dict("records"):
        rec = contacts[row["email"]]
        last = surname_as_used(row) or ""  # the surname as used: partner name and name use applied
        given = row.get("first_name") or row.get("initials") or ""  # the adapter sends initials without a first name
        assert (rec["first_name"] or "", rec["last_name"] or "") == (given, last), row["email"]
    second = CliRunner().invoke(app, ["demo", "--workdir", str(tmp_path / "w"), "--crm", crm_url])
    assert second.exit_code == 0, second.output
    assert loaded.findall(second.output)[-1] == ("0", "0", "0", str(created))
