"""Organisations in record linkage: name normalisation, comparison levels, name-only files (the rules' prior
model when EM has too little to learn from), PATSTAT accuracy, and the loud failure modes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import need
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import ConfigError, UsageError
from cdq.linkage import dedupe
from cdq.linkage.organisations import company_key, company_level, company_words
from cdq.linkage.settings import load_settings

runner = CliRunner()


@pytest.mark.parametrize("a,b", [
    ("KONINKLIJKE PHILIPS ELECTRONICS, N.V.", "Philips Electronics N.V., Eindhoven, NL"),
    ("Koniklijke Philips Electronics NV", "KINONKLIJKE PHILIPS ELECTRONICS CO., LTD."),
    ("D.S.M. IP ASSETS B.V.", "DSM IP Assets"),
    ("ROBERT BOSCH GMBH", "BOSCH GMBH ROBERT"),
    ("Stichting Het Gebouw", "Het Gebouw"),
    ("Bakkerij Jansen v.o.f.", "BAKKERIJ JANSEN VENNOOTSCHAP ONDER FIRMA"),
    ("The Singer Company N.V.", "SINGER CO. N. V."),
])
def test_one_organisation_written_differently_has_one_key(a, b):
    assert company_key(a) == company_key(b) is not None


@pytest.mark.parametrize("a,b,level", [
    ("Shell Internationale Research Maatschappij B.V.", "SHEEL INTERNATIONAL RESEARCH MAATSCHAPPIJ BV", 3),
    ("Hunter Douglas Industries B.V.", "HUNTER DOUGLAS IND BV", 3),
    ("Akzo Nobel N.V.", "Akzo Nobel Coatings B.V.", 2),
    ("Philips Electronics", "N.V. Philips' Gloeilampenfabrieken", 1),
    ("Bakkerij Jansen", "Slagerij Pietersen", 0),
])
def test_company_levels(a, b, level):
    assert company_level(company_key(a), company_key(b)) == level


def test_legal_forms_come_from_the_reference_file():
    """One source: a form only in reference_data/legal_forms.yaml (e.g. 'v.z.w.', 'Comm.V.') is removed."""
    assert company_words("Vrienden van het Museum v.z.w.") == ("vrienden", "van", "het", "museum")
    assert company_words("Jansen Comm.V.") == ("jansen",)


ORGANISATIONS = ["Akzo Nobel", "Bolsius", "Calve", "Douwe Egberts", "Elsevier", "Fokker Aerostructures",
                 "Gazelle", "Heineken", "Inalfa Roof Systems", "Jumbo Supermarkten", "Kramer Installatietechniek",
                 "Lely Industries", "Mammoet", "Nedap", "Oce Technologies", "Pon Holdings", "Quooker", "Rabobank",
                 "Stork", "Tata Steel", "Unilever", "Vanderlande", "Wavin", "Xeikon", "Yara Sluiskil", "Zeeman textielSupers"]


def _name_only() -> pd.DataFrame:
    rows = []
    for i, name in enumerate(ORGANISATIONS):
        rows += [{"record_id": f"{i}a", "company_name": f"{name} B.V."},
                 {"record_id": f"{i}b", "company_name": f"{name.upper()}, N.V."},
                 {"record_id": f"{i}c", "company_name": f"Koninklijke {name} bv, Amsterdam"}]
    return pd.DataFrame(rows)


def test_a_name_only_file_links_by_name_with_the_rules_prior_model(caplog):
    frame = _name_only()
    with caplog.at_level(logging.WARNING, logger="cdq.linkage"):
        result = dedupe(frame)
    clusters = result.clusters.set_index("record_id")["cluster_id"]
    for i in range(len(ORGANISATIONS)):
        assert clusters[f"{i}a"] == clusters[f"{i}b"] == clusters[f"{i}c"], i
    assert clusters.nunique() == len(ORGANISATIONS)
    assert result.model.meta["trained"] == "prior (rules)"
    assert "prior model" in caplog.text and "company" in caplog.text  # says so


def test_dedupe_without_any_linkage_column_is_a_usage_error():
    frame = pd.DataFrame({"record_id": ["1", "2", "3"], "naam": ["Jan Jansen", "J. Jansen", "Piet Bakker"]})
    with pytest.raises(UsageError) as err:
        dedupe(frame)
    assert "first_name" in str(err.value) and "company_name" in str(err.value)


def test_an_extra_comparison_on_a_column_that_does_not_exist_is_an_error():
    frame = pd.DataFrame({"record_id": ["1", "2"], "last_name": ["Jansen", "Jansen"], "src:bsn": ["1", "1"]})
    settings = load_settings().with_extras([{"column": "src:bns", "kind": "exact"}])
    with pytest.raises(ConfigError) as err:
        dedupe(frame, settings)
    assert "src:bns" in str(err.value) and "src:bsn" in str(err.value)


def test_a_run_that_matches_nothing_on_a_large_file_warns_with_the_reason():
    frame = pd.DataFrame({"record_id": [str(i) for i in range(150)],
                          "city": ["Utrecht"] * 150, "gender": ["m", "f"] * 75})
    result = dedupe(frame)
    assert (result.pairs["decision"] == "match").sum() == 0
    assert result.warnings and "no matched pair" in result.warnings[0]
    assert "city" in result.warnings[0]


def test_cli_dedupe_without_linkage_columns_exit_2_naming_them(tmp_path):
    """Headers that are customer data but nothing linkage can compare (here: country and adviser only)."""
    source = tmp_path / "x.csv"
    source.write_text("Land;Adviseur\n" + "".join(f"Nederland;A{i}\n" for i in range(5)), encoding="utf-8")
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code == 2, result.output
    assert "last_name" in result.output and "company_name" in result.output


def test_cli_dedupe_that_matches_nothing_prints_the_likely_reason(tmp_path):
    """A non-trivial file whose only linkage fields (a city, a gender) can link nobody: exit 0 and a warning line
    that says no pair matched and which fields there were."""
    source = tmp_path / "x.csv"
    source.write_text("Klantnummer;Plaats;Geslacht\n" + "".join(f"K{i};Utrecht;{'MV'[i % 2]}\n" for i in range(150)),
                      encoding="utf-8")
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.output.splitlines() if line.startswith("warning:"))
    assert "150 records and no matched pair" in warning and "city" in warning, result.output
    assert pd.read_csv(tmp_path / "c.csv", dtype=str)["cluster_id"].nunique() == 150


def test_cli_dedupe_patstat_prints_the_fallback_warning(tmp_path, shared_data):
    data = shared_data / "patstat_nl"
    need((data / "records.csv").exists(), "../shared/data/patstat_nl")
    head = tmp_path / "p.csv"
    pd.read_csv(data / "records.csv", dtype=str).head(300).to_csv(head, index=False)
    result = runner.invoke(app, ["dedupe", str(head), "--out", str(tmp_path / "c.csv"), "--mapping",
                                 str(data / "mapping.yaml"), "--id-column", "record_id"])
    assert result.exit_code == 0, result.output
    assert "prior model" in result.output
    clusters = pd.read_csv(tmp_path / "c.csv", dtype=str)
    assert clusters["cluster_id"].nunique() < 150


@pytest.mark.slow  # an acceptance run over a labelled set: run by .ci/run's second step
def test_patstat_f1_at_least_090(shared_data):
    need((shared_data / "patstat_nl" / "records.csv").exists(), "../shared/data/patstat_nl")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_linkage import load_patstat, run_cdq

    scores = run_cdq(load_patstat(shared_data))[0]
    assert scores["f1"] >= 0.90, scores
    assert scores["missing_in_predicted"] == 0


@pytest.mark.slow  # an acceptance run over a labelled set: run by .ci/run's second step
def test_chicago_childcare_f1_at_least_090(shared_data):
    need((shared_data / "dedupe_csv_example").exists(), "../shared/data/dedupe_csv_example")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_linkage import load_chicago, run_cdq

    scores = run_cdq(load_chicago(shared_data))[0]
    assert scores["f1"] >= 0.90, scores


def test_fixture_organisation_with_branches_is_one_organisation_with_its_locations():
    """The two-level model: every record of one organisation (name, KvK) shares an organisation_id; a branch
    at its own address is its own cluster (location) inside it; persons without an organisation have none."""
    from helpers import FIXTURES

    from cdq.normalize import normalize
    from cdq.staging import import_inputs

    inputs = [FIXTURES / name for name in ("adviseur_bakker.ods", "backoffice_export.csv", "outlook_contacts.csv")]
    staged = import_inputs([*inputs, f"sqlite:///{FIXTURES / 'erp.sqlite'}?table=klanten"]).staging
    frame, _ = normalize(staged)
    clusters = dedupe(frame).clusters.merge(frame[["record_id", "company_name", "last_name"]], on="record_id")
    orgs = clusters[clusters["company_name"].notna()]
    assert orgs.groupby("company_name")["organisation_id"].nunique().eq(1).all()
    assert orgs["organisation_id"].nunique() == orgs["company_name"].nunique()
    kuiper = orgs[orgs["company_name"] == "Van Kuiper Installatie"]
    assert kuiper["cluster_id"].nunique() == 2  # Anjerstraat and Van Goghdijk: two locations, one organisation
    persons = clusters[clusters["company_name"].isna() & clusters["last_name"].notna()]
    assert persons["organisation_id"].isna().all()
