"""CRM load: create/update/merge/unchanged, idempotence, dry run, in-house mapping, crash and re-run, CLI.

Every test runs with the store and the CRM on SQLite files and on PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pandas as pd
import pytest
from helpers import nightly
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm import LoadResult, SqlCrmTarget, load_from_store
from cdq.crm.mapping import CrmMapping
from cdq.golden import unmerge
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

RULES = load_rules()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request, tmp_path):
    """(store URL, CRM URL): two SQLite files, or two schemas... one PostgreSQL schema holds both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'golden.db'}", f"sqlite:///{tmp_path / 'crm.db'}"
    url = request.getfixturevalue("pg_url")
    return url, url


def people(n, start=0, email="p{i}@x.nl", company=False):
    rows = [{"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i}",
             "last_name": "Jansen", "email": email.format(i=i), "source_updated_at": "2024-01-01"}
            for i in range(start, start + n)]
    if company:
        rows.append({"record_id": "org", "source": "erp", "source_key": "org", "party_type": "organisation",
                     "company_name": "Bakkerij De Vries", "kvk_number": "12345678"})
    return pd.DataFrame(rows)


def crm_tables(crm: SqlCrmTarget) -> dict[str, pd.DataFrame]:
    return {name: crm.table(name).sort_values("cdq_golden_id").reset_index(drop=True)
            for name in ("contacts", "accounts")}


def test_load_line_format():
    assert LoadResult(1, 2, 3, 4).line() == "loaded: 1 created, 2 updated, 3 merged, 4 unchanged"


def test_first_load_creates_then_rerun_is_a_noop(urls):
    store, crm = GoldenStore(urls[0]), SqlCrmTarget(urls[1])
    nightly(store, people(5, company=True))
    result, _ = load_from_store(store, crm)
    assert result.line() == "loaded: 6 created, 0 updated, 0 merged, 0 unchanged"
    assert len(crm.table("contacts")) == 5 and crm.table("accounts")["name"].tolist() == ["Bakkerij De Vries"]
    nightly(store, people(5, company=True))  # the same night again
    assert load_from_store(store, crm)[0].line() == "loaded: 0 created, 0 updated, 0 merged, 0 unchanged"
    assert load_from_store(store, crm, full=True)[0].line() == "loaded: 0 created, 0 updated, 0 merged, 6 unchanged"
    assert crm.table("cdq_load_ledger")["created"].tolist() == [6, 0, 0]


def test_update_and_merge_instructions(urls):
    store, crm = GoldenStore(urls[0]), SqlCrmTarget(urls[1])
    nightly(store, people(3))
    load_from_store(store, crm)
    staging = people(3, email="new{i}@x.nl")
    staging.loc[:, "source_updated_at"] = "2024-06-01"
    clusters = pd.DataFrame({"record_id": ["r0", "r1", "r2"], "cluster_id": ["a", "a", "b"]})
    result = nightly(store, staging, clusters)
    assert result.merges.values.tolist() == [["G0000002", "G0000001"]]
    dry, plan = load_from_store(store, crm, dry_run=True)
    assert dry.would() == "Would create 0 / update 2 / merge 1 records"
    assert crm.table("contacts")["email"].tolist() == ["p0@x.nl", "p1@x.nl", "p2@x.nl"]  # dry run wrote nothing
    loaded, _ = load_from_store(store, crm)
    assert loaded.line() == "loaded: 0 created, 2 updated, 1 merged, 0 unchanged"
    contacts = crm.table("contacts").set_index("cdq_golden_id")
    assert contacts.loc["G0000002", "cdq_merged_into"] == "G0000001"
    assert contacts.loc["G0000003", "email"] == "new2@x.nl"
    assert crm.table("cdq_merge_instructions")[["merge_key", "into_key"]].values.tolist() == [["G0000002", "G0000001"]]
    unmerge(store, "G0000002", RULES)
    assert load_from_store(store, crm)[0].line() == "loaded: 0 created, 2 updated, 0 merged, 0 unchanged"
    assert pd.isna(crm.table("contacts").set_index("cdq_golden_id").loc["G0000002", "cdq_merged_into"])


def test_in_house_schema_mapping(urls):
    import sqlalchemy as sa

    engine = sa.create_engine(urls[1])
    with engine.begin() as conn:
        conn.execute(sa.text("create table relaties (relatie_id varchar(24) primary key, achternaam text, "
                             "mail text, opmerking text)"))
    mapping = CrmMapping.model_validate({"create_tables": False, "entities": {"contacts": {
        "table": "relaties", "key": "relatie_id", "merged_into": None,
        "columns": {"achternaam": "last_name", "mail": "email"}}}})
    store, crm = GoldenStore(urls[0]), SqlCrmTarget(urls[1], mapping)
    nightly(store, people(2))
    assert load_from_store(store, crm)[0].created == 2
    assert crm.table("relaties").sort_values("relatie_id")["mail"].tolist() == ["p0@x.nl", "p1@x.nl"]


def test_mapping_rejects_unknown_golden_field(tmp_path):
    from cdq.crm import load_mapping
    from cdq.errors import ConfigError

    path = tmp_path / "m.yaml"
    path.write_text("entities:\n  contacts:\n    table: c\n    columns:\n      naam: achternaam\n")
    with pytest.raises(ConfigError, match=r"m.yaml:4: entities.contacts.columns: .*unknown golden field"):
        load_mapping(path)


LOAD_SCRIPT = "from cdq.crm import SqlCrmTarget, load_from_store; from cdq.store import GoldenStore; import sys; " \
              "print(load_from_store(GoldenStore(sys.argv[1]), SqlCrmTarget(sys.argv[2]))[0].line())"


def test_killed_load_then_rerun_equals_uninterrupted_run(urls, tmp_path):
    store = GoldenStore(urls[0])
    nightly(store, people(40, company=True))
    env = {**os.environ, "CDQ_CRM_PAUSE_AFTER_ROWS": "7"}
    proc = subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT, *urls], env=env, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if "cdq-crm-paused" in line:
                break
        else:
            pytest.fail("the load never reached the pause hook")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    crm = SqlCrmTarget(urls[1])
    assert len(crm.table("contacts")) == 0 and len(crm.table("cdq_load_ledger")) == 0  # rolled back
    rerun = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, *urls], capture_output=True, text=True, timeout=120)
    assert rerun.stdout.strip().splitlines()[-1] == "loaded: 41 created, 0 updated, 0 merged, 0 unchanged"
    reference = SqlCrmTarget(f"sqlite:///{tmp_path / 'reference.db'}")
    load_from_store(store, reference)
    for name, frame in crm_tables(reference).items():
        pd.testing.assert_frame_equal(crm_tables(crm)[name], frame, check_dtype=False)


def test_cli_load_and_unmerge(urls):
    store = GoldenStore(urls[0])
    nightly(store, people(2))
    runner = CliRunner()
    dry = runner.invoke(app, ["load", "--store", urls[0], "--crm", urls[1], "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip().splitlines()[-1] == "Would create 2 / update 0 / merge 0 records (dry run: nothing loaded)"
    done = runner.invoke(app, ["load", "--store", urls[0], "--crm", urls[1]])
    assert done.exit_code == 0 and done.output.strip().splitlines()[-1] == \
        "loaded: 2 created, 0 updated, 0 merged, 0 unchanged"
    bad = runner.invoke(app, ["unmerge", "G0000001", "--store", urls[0]])
    assert bad.exit_code == 2 and "G0000001 was not merged" in bad.output


def test_cli_split_then_load_creates_the_split_off_customer(urls):
    store = GoldenStore(urls[0])
    staging = people(3)
    nightly(store, staging, pd.DataFrame({"record_id": staging["record_id"], "cluster_id": "one"}))
    runner = CliRunner()
    assert runner.invoke(app, ["load", "--store", urls[0], "--crm", urls[1]]).exit_code == 0
    done = runner.invoke(app, ["split", "erp|2", "--store", urls[0]])
    assert done.exit_code == 0, done.output
    assert done.output.strip().splitlines()[-1].startswith("split erp|2 off into G0000002: 2 golden records rewritten")
    load = runner.invoke(app, ["load", "--store", urls[0], "--crm", urls[1]])
    assert load.output.strip().splitlines()[-1] == "loaded: 1 created, 1 updated, 0 merged, 0 unchanged"
    bad = runner.invoke(app, ["split", "erp|2", "--store", urls[0]])
    assert bad.exit_code == 2 and "only live record of G0000002" in bad.output
