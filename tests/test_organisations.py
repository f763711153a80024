"""Golden organisations (issue 20): one organisation above its locations (branches) and contacts, in the golden
store, in ``cdq explain`` and ``cdq export``, and in the SQL CRM; stable ids; nightly runs; moved branches.

Store tests run on a SQLite file and on PostgreSQL (a fresh schema per test).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.crm import load_from_store
from cdq.crm.sql import SqlCrmTarget
from cdq.golden import merge_batch, split_record
from cdq.linkage.locations import place_moved_locations
from cdq.nightly import match_batch, merge_match
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

RULES = load_rules()
runner = CliRunner()


def branch(key, street, number, postcode, city, phone, source="erp", name="Bakkerij Jansen B.V.",
           kvk="12345678"):
    return {"record_id": f"{source}-{key}", "source": source, "source_key": key, "company_name": name,
            "kvk_number": kvk, "legal_form": "B.V.", "party_type": "organisation", "street": street, "house_number": number,
            "postcode": postcode, "city": city, "phone": phone, "email": "info@bakkerijjansen.nl"}


BRANCHES = [
    branch("K1", "Kerkstraat", "1", "1234 AB", "Utrecht", "+31301234567"),
    branch("K2", "Dorpsweg", "12", "3511 AA", "Amersfoort", "+31338765432"),
    branch("A7", "Kerkstraat", "1", "1234 AB", "Utrecht", "+31301234567", source="excel",
           name="Bakkerij Jansen"),
]
PERSON = {"record_id": "erp-P1", "source": "erp", "source_key": "P1", "first_name": "Anna", "last_name": "Smit",
          "street": "Laan", "house_number": "3", "postcode": "9999 ZZ", "city": "Zwolle", "party_type": "person"}


def nightly(store, rows):
    match = match_batch(pd.DataFrame(rows), store)
    result, _ = merge_match(match, store, RULES, store.start_run("nightly"))
    return result


def table(store, name):
    return store.table(name)


def golden_values(store):
    golden = table(store, "golden_records")
    return {g: json.loads(d) for g, d in zip(golden["golden_id"], golden["data"])}


def test_branches_are_locations_of_one_organisation_and_a_second_run_changes_nothing(store_url):
    store = GoldenStore(store_url)
    nightly(store, [*BRANCHES, PERSON])
    values = golden_values(store)
    locations = {g for g, v in values.items() if v["party_type"] == "organisation"}
    assert len(locations) == 2  # Utrecht (two records) and Amersfoort: two branches
    organisations = table(store, "golden_organisations")
    assert organisations["organisation_id"].tolist() == ["O0000001"]
    assert json.loads(organisations.loc[0, "data"]) == {
        "company_name": "Bakkerij Jansen B.V.", "legal_form": "B.V.", "kvk_number": "12345678", "vat_number": None}
    assert {values[g]["organisation_id"] for g in locations} == {"O0000001"}
    assert not any("organisation_id" in v for v in values.values() if v["party_type"] == "person")
    versions = (len(table(store, "golden_versions")), len(table(store, "golden_organisation_versions")))
    nightly(store, [*BRANCHES, PERSON])
    assert (len(table(store, "golden_versions")), len(table(store, "golden_organisation_versions"))) == versions


def test_a_new_branch_in_a_nightly_run_joins_the_existing_organisation(store_url):
    store = GoldenStore(store_url)
    nightly(store, BRANCHES)
    new = branch("K3", "Markt", "5", "3811 AB", "Amersfoort", "+31337654321")
    nightly(store, [*BRANCHES, new])
    members = table(store, "golden_organisation_members")
    assert len(members) == 3 and set(members["organisation_id"]) == {"O0000001"}
    assert len(table(store, "golden_organisations")) == 1


def test_two_organisations_a_record_links_become_one_the_younger_merged_into_the_older(store_url, tmp_path):
    store = GoldenStore(store_url)
    a = branch("K1", "Kerkstraat", "1", "1234 AB", "Utrecht", "+31301234567", kvk=None)
    b = branch("K2", "Dorpsweg", "12", "3511 AA", "Amersfoort", "+31338765432", kvk=None, name="Jansen Brood")
    run_id = store.start_run("t")
    merge_batch(pd.DataFrame([a, b]), pd.DataFrame({"record_id": ["erp-K1", "erp-K2"], "cluster_id": ["c1", "c2"],
                                                    "organisation_id": ["o1", "o2"]}), store, RULES, run_id)
    crm = SqlCrmTarget(store_url)  # one database for the store and the CRM: their tables must not collide
    load_from_store(store, crm)
    assert sorted(crm.table("organisations")["cdq_organisation_id"]) == ["O0000001", "O0000002"]
    c = branch("K9", "Stationsplein", "2", "3511 AB", "Amersfoort", None, source="excel")
    run_id = store.start_run("t")
    merge_batch(pd.DataFrame([a, b, c]), pd.DataFrame({"record_id": ["erp-K1", "erp-K2", "excel-K9"],
                                                       "cluster_id": ["c1", "c2", "c3"],
                                                       "organisation_id": ["z", "z", "z"]}), store, RULES, run_id)
    organisations = table(store, "golden_organisations").set_index("organisation_id")
    assert organisations.loc["O0000002", "status"] == "retired"
    assert organisations.loc["O0000002", "merged_into"] == "O0000001"
    assert set(table(store, "golden_organisation_members")["organisation_id"]) == {"O0000001"}
    from cdq.explain import explain_organisation

    shown = explain_organisation(store, "O0000002")  # a retired id shows the organisation that holds it now
    assert (shown.organisation_id, len(shown.locations)) == ("O0000001", 3)
    result, _ = load_from_store(store, crm)
    assert result.merged == 1
    assert crm.table("organisations").set_index("cdq_organisation_id").loc["O0000002", "cdq_merged_into"] == "O0000001"
    assert set(crm.table("accounts")["organisation_id"]) == {"O0000001"}
    instructions = crm.table("cdq_merge_instructions")
    assert ("organisations", "O0000002", "O0000001") in set(
        instructions[["entity", "merge_key", "into_key"]].itertuples(index=False, name=None))


def test_a_record_split_out_of_a_branch_stays_in_its_organisation(store_url):
    store = GoldenStore(store_url)
    nightly(store, BRANCHES)
    result = split_record(store, "excel|A7", RULES)
    new = result.xref["golden_id"].iloc[0]
    members = dict(zip(*table(store, "golden_organisation_members")[["golden_id", "organisation_id"]].T.values))
    assert members[new] == "O0000001" and golden_values(store)[new]["organisation_id"] == "O0000001"


def test_explain_and_export_show_the_organisation_with_its_locations(tmp_path, wide_console):
    url = f"sqlite:///{tmp_path / 'golden.db'}"
    store = GoldenStore(url)
    nightly(store, [*BRANCHES, PERSON])
    locations = sorted(g for g, v in golden_values(store).items() if v["party_type"] == "organisation")
    shown = runner.invoke(app, ["explain", "O0000001", "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "2 location(s)" in shown.output and all(g in shown.output for g in locations)
    assert "Dorpsweg" in shown.output and "12345678" in shown.output
    one = runner.invoke(app, ["explain", locations[0], "--store", url])
    assert one.exit_code == 0 and "organisation: O0000001 Bakkerij Jansen B.V., 2 location(s)" in one.output
    missing = runner.invoke(app, ["explain", "O0000042", "--store", url])
    assert missing.exit_code == 2 and "no golden organisation" in missing.output
    out = tmp_path / "orgs.csv"
    exported = runner.invoke(app, ["export", "--store", url, "--out", str(out), "--organisations"])
    assert exported.exit_code == 0, exported.output
    rows = pd.read_csv(out, dtype=str)
    assert rows[["organisation_id", "company_name", "locations"]].values.tolist() == [
        ["O0000001", "Bakkerij Jansen B.V.", ";".join(locations)]]
    records = tmp_path / "golden.csv"
    assert runner.invoke(app, ["export", "--store", url, "--out", str(records)]).exit_code == 0
    golden = pd.read_csv(records, dtype=str).set_index("golden_id")
    assert set(golden.loc[locations, "organisation_id"]) == {"O0000001"}


# -- a branch that moved: placed by elimination within its organisation -------------------------------------

def _place(labels, sources, phones=None, branch_mask=None):
    n = len(labels)
    return place_moved_locations(np.array(labels), np.array(["o"] * n, dtype=object),
                                 np.ones(n, bool) if branch_mask is None else np.array(branch_mask),
                                 np.array(sources, dtype=object), np.array(phones or [-1] * n)).tolist()


def test_a_lone_branch_record_joins_the_one_branch_its_source_does_not_list():
    # branches 0 (erp, crm) and 2 (xls, crm); a lone erp record at a new address can only be branch 2
    assert _place([0, 0, 2, 2, 4], ["erp", "crm", "xls", "crm", "erp"]) == [0, 0, 2, 2, 2]


def test_a_lone_branch_record_stays_apart_when_it_could_be_several_or_none():
    assert _place([0, 0, 2, 2, 4], ["erp", "crm", "xls", "crm", "new"]) == [0, 0, 2, 2, 4]  # two candidates
    assert _place([0, 0, 2, 2, 4], ["erp", "crm", "erp", "crm", "erp"]) == [0, 0, 2, 2, 4]  # none left
    assert _place([0, 1], ["erp", "crm"]) == [0, 1]  # two lone records never pair up


def test_a_lone_branch_record_with_another_phone_or_a_person_is_not_placed():
    assert _place([0, 0, 2], ["erp", "crm", "xls"], phones=[5, 5, 7]) == [0, 0, 2]
    assert _place([0, 0, 2], ["erp", "crm", "xls"], phones=[5, 5, 5]) == [0, 0, 0]
    assert _place([0, 0, 2], ["erp", "crm", "xls"], branch_mask=[True, True, False]) == [0, 0, 2]


def test_crm_mapping_of_the_organisation_level_takes_only_organisation_fields(tmp_path):
    from cdq.crm import load_mapping
    from cdq.errors import ConfigError

    assert load_mapping().entities["organisations"].party_type == "organisation_group"
    path = tmp_path / "m.yaml"
    path.write_text("entities:\n  orgs:\n    table: o\n    party_type: organisation_group\n    columns:\n"
                    "      naam: company_name\n      geboren: birth_date\n")
    with pytest.raises(ConfigError, match=r"unknown golden field\(s\) \['birth_date'\]"):
        load_mapping(path)
