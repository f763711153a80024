"""Issue 15 defect 5: partner names, name use, salutation and envelope line reach the golden record, the
CRM (SQL target and the SaaS adapters' mapping), the printouts and the exports."""

from __future__ import annotations

import pandas as pd

from cdq.columns import CANONICAL
from cdq.crm import SqlCrmTarget, load_from_store
from cdq.golden import merge_batch
from cdq.normalize import normalize
from cdq.normalize.name_lines import surname_as_used
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

RULES = load_rules()


def _staging(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c) for c in CANONICAL} for r in rows])
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    frame["source"] = [r.get("source", "erp") for r in rows]
    frame["source_key"] = [str(i) for i in range(len(frame))]
    frame["issues"] = ""
    return normalize(frame)[0]


MARIA = [  # Maria Hendriks, known as Hendriks-de Wit, in two sources
    {"source": "erp", "title": "Mevr.", "first_name": "Maria", "last_name": "Hendriks-de Wit",
     "email": "maria@example.nl"},
    {"source": "excel", "first_name": "Maria", "last_name": "Hendriks", "email": "maria@example.nl"},
]


def _golden(tmp_path, rows) -> tuple[GoldenStore, pd.DataFrame]:
    staging = _staging(rows)
    store = GoldenStore(f"sqlite:///{tmp_path / 'golden.db'}")
    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": "c1"})
    result = merge_batch(staging, clusters, store, RULES, store.start_run("test"))
    return store, result.golden


def test_golden_record_keeps_partner_name_name_use_and_letter_lines(tmp_path):
    _, golden = _golden(tmp_path, MARIA)
    row = golden.iloc[0]
    assert surname_as_used(row) == "Hendriks-de Wit"  # never "Maria de Wit"
    assert row["name_use_brp"] in ("V", "N")
    assert row["salutation"] == "Geachte mevrouw Hendriks-de Wit"
    assert row["envelope_name"] == "Mevrouw M. Hendriks-de Wit"


def test_crm_gets_partner_name_name_use_and_letter_lines(tmp_path):
    store, _ = _golden(tmp_path, MARIA)
    crm = SqlCrmTarget(f"sqlite:///{tmp_path / 'crm.db'}")
    load_from_store(store, crm)
    contact = crm.table("contacts").iloc[0]
    assert contact["first_name"] == "Maria"
    assert surname_as_used(contact) == "Hendriks-de Wit"
    assert contact["salutation"] == "Geachte mevrouw Hendriks-de Wit"
    assert contact["envelope_name"] == "Mevrouw M. Hendriks-de Wit"
    assert contact["name_use"] in ("V", "N")


def test_saas_adapters_write_the_surname_as_used():
    from cdq.crm import bottlecrm, dynamics, hubspot, salesforce, teamleader

    row = {"party_type": "person", "first_name": "Maria", "infix": "de", "last_name": "Wit",
           "partner_last_name": "Hendriks", "name_use": "partner-own", "name_use_brp": "V"}
    for module, cls, field in ((salesforce, salesforce.SalesforceTarget, "LastName"),
                               (dynamics, dynamics.DynamicsTarget, "lastname"),
                               (teamleader, teamleader.TeamleaderTarget, "last_name"),
                               (bottlecrm, bottlecrm.BottleCrmTarget, "last_name"),
                               (hubspot, hubspot.HubSpotTarget, "lastname")):
        target = cls.__new__(cls)  # values() is pure: no connection needed
        entity = next(e for e in module.MAPPING.entities.values() if e.party_type == "person")
        assert target.values(entity, row)[field] == "Hendriks-de Wit", cls.__name__


def test_crm_import_files_write_the_surname_as_used():
    from cdq.crm.files import _rows

    golden = pd.DataFrame([{"status": "active", "party_type": "person", "first_name": "Maria", "infix": "de",
                            "last_name": "Wit", "partner_last_name": "Hendriks", "name_use": "partner-own"}])
    assert _rows(golden, "person")["last_name"].tolist() == ["Hendriks-de Wit"]


def test_a_crm_table_made_by_an_older_mapping_gains_the_new_name_columns(tmp_path):
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'crm.db'}"
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE contacts (cdq_golden_id VARCHAR(24) PRIMARY KEY, first_name TEXT, "
                             "last_name TEXT, cdq_merged_into TEXT)"))
    store, _ = _golden(tmp_path, MARIA)
    crm = SqlCrmTarget(url)
    load_from_store(store, crm)
    assert crm.table("contacts").iloc[0]["salutation"] == "Geachte mevrouw Hendriks-de Wit"


def test_printouts_name_the_person_with_the_name_as_used(tmp_path):
    from cdq.printouts.records import _name_lines, load_customers

    store, _ = _golden(tmp_path, MARIA)
    row = load_customers(f"sqlite:///{tmp_path / 'golden.db'}", "adviser").iloc[0].to_dict()
    assert _name_lines(row) == ["Mevrouw M. Hendriks-de Wit"]
    row.pop("envelope_name")
    assert _name_lines(row) == ["M. Hendriks-de Wit"]


def test_golden_export_carries_the_name_columns(tmp_path):
    store, golden = _golden(tmp_path, MARIA)
    for column in ("partner_last_name", "name_use", "name_use_brp", "salutation", "envelope_name"):
        assert column in golden.columns
