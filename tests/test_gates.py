"""Quality gates: suites as files, Great Expectations validation, the planted-problem acceptance, CLI.

GE takes seconds to import, so the expensive runs happen once per module (fixtures) and the table-driven
tests read their results.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from helpers import clean_staging, golden_of, planted_staging
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import CheckFailed, ConfigError
from cdq.gates import GateResult, accounting, check, load_suite, run_gates
from cdq.gates.suites import prepare_frame


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> GateResult:
    docs = tmp_path_factory.mktemp("docs")
    staging = planted_staging()
    return run_gates(staging, golden_of(staging), accounting(100, 100, 0), docs_dir=docs)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> GateResult:
    staging = clean_staging()
    return run_gates(staging, golden_of(staging), accounting(103, 100, 3),
                     docs_dir=tmp_path_factory.mktemp("docs"))


def test_clean_run_passes_every_expectation(clean):
    assert clean.passed, clean.summary()
    assert clean.failures.empty
    assert set(clean.results["suite"]) == {"staging", "golden", "accounting"}


def test_planted_problem_fails_naming_expectation_and_rows(planted):
    assert not planted.passed
    failed = planted.critical_failures
    city = failed[(failed["column"] == "city") & (failed["expectation"] == "expect_column_values_to_not_match_regex")]
    assert set(city["suite"]) == {"staging", "golden"}
    assert city["failed_rows"].tolist() == [30, 30]
    assert "expect_column_values_to_not_match_regex on city: 30 of 100 rows (critical)" in planted.summary()
    with pytest.raises(CheckFailed) as e:
        check(planted)
    assert "30 of 100 rows" in str(e.value) and e.value.exit_code == 1
    assert len(e.value.failure_cases) == len(planted.failures)


def test_data_docs_are_built(planted, clean):
    for result in (planted, clean):
        assert result.docs_index is not None and result.docs_index.name == "index.html"
        pages = {p.parent.parent.parent.name: p for p in (result.docs_index.parent / "validations").rglob("*.html")}
        assert set(pages) == {"staging", "golden", "accounting"}
    staging_page = [p for p in (planted.docs_index.parent / "validations" / "staging").rglob("*.html")][0]
    assert "city" in staging_page.read_text() and "Failed" in staging_page.read_text()
    # no customer data in the pages: the postcodes planted in the city column are counted, not shown
    shifted = planted_staging().query("source == 'advisers_xls'")["city"]
    pages_text = "".join(p.read_text() for p in (planted.docs_index.parent / "validations").rglob("*.html"))
    assert not [v for v in shifted if v in pages_text]
    assert set(planted.timings) == {"gx_import", "validate"}


def _mutate(frame: pd.DataFrame, column: str, value, rows: slice = slice(0, 10)) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[frame.index[rows], column] = value
    return frame


BROKEN = [
    # (what is broken, staging frame, expectation, column, failed rows)
    ("duplicate record ids", lambda f: _mutate(f, "record_id", "dup"), "expect_column_values_to_be_unique",
     "record_id", 10),
    ("e-mails without @", lambda f: _mutate(f, "email", "klant.voorbeeld.nl"),
     "expect_column_values_to_match_regex", "email", 10),
    ("phones not E.164", lambda f: _mutate(f, "phone", "030-1234567", slice(0, 20)),
     "expect_column_values_to_match_regex", "phone", 20),
    ("postcodes not canonical", lambda f: _mutate(f, "postcode", "1234ab", slice(0, 20)),
     "expect_column_values_to_match_regex", "postcode", 20),
    ("no name at all", lambda f: _mutate(f, "last_name", None, slice(0, 10)),
     "expect_column_values_to_be_in_set", "has_name", 10),
    ("required column missing", lambda f: f.drop(columns=["source"]), "expect_column_to_exist", "source", 100),
]


@pytest.fixture(scope="module")
def broken_results() -> dict[str, GateResult]:
    # One GE run per case would cost the import once and a context each; still well under a second each.
    return {name: run_gates(make(clean_staging())) for name, make, *_ in BROKEN}


@pytest.mark.parametrize(("name", "make", "expectation", "column", "rows"), BROKEN, ids=[b[0] for b in BROKEN])
def test_each_broken_rule_fails_its_expectation(broken_results, name, make, expectation, column, rows):
    result = broken_results[name]
    assert not result.passed
    hit = result.critical_failures
    hit = hit[(hit["expectation"] == expectation) & (hit["column"] == column)]
    assert hit["failed_rows"].tolist() == [rows]


def test_accounting_gap_fails_with_counts():
    result = run_gates(accounting_frame=accounting(rows_in=100, golden_members=95, quarantined=3))
    assert not result.passed
    row = result.failures.iloc[0]
    assert row["failed_rows"] == 2
    assert "rows in 100 vs golden members 95 + quarantined 3 = 98" in row["detail"]


def test_warning_does_not_stop_the_run():
    staging = _mutate(clean_staging(), "city", None, slice(0, 60))
    result = run_gates(staging)
    assert result.passed
    assert result.failures[["column", "critical"]].values.tolist() == [["city", False]]
    assert result.summary().startswith("gates passed with warnings")


def test_suite_files_are_valid_and_flag_criticality():
    for name in ("staging", "golden", "accounting"):
        suite = load_suite(name)
        assert suite.expectations
        assert all(isinstance(e["meta"]["critical"], bool) for e in suite.expectations)


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "line 1: not valid JSON"),
    (json.dumps({"name": "x", "expectations": [{"type": "expect_x", "kwargs": {}}]}),
     "expectations[0].meta.critical must be true or false"),
    (json.dumps({"name": "x", "expectations": [{"kwargs": {}}]}), "expectations[0]: needs 'type'"),
])
def test_bad_suite_file_names_file_and_problem(tmp_path, content, message):
    (tmp_path / "staging.json").write_text(content)
    with pytest.raises(ConfigError, match="staging.json") as e:
        load_suite("staging", tmp_path)
    assert message in str(e.value)


def test_prepare_frame_adds_missing_optional_and_derived_columns():
    frame = prepare_frame(pd.DataFrame({"golden_id": ["G0000001"], "company_name": ["Bakkerij BV"]}),
                          load_suite("golden"))
    assert frame["email"].isna().all() and frame["has_name"].tolist() == [True]


@pytest.mark.parametrize(("frame", "exit_code", "text"), [
    (clean_staging(), 0, "gates passed"),
    (planted_staging(), 1, "expect_column_values_to_not_match_regex on city: 30 of 100 rows"),
])
def test_cli_gates_check(tmp_path, frame, exit_code, text):
    path = tmp_path / "staging.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(app, ["gates", "check", str(path), "--docs", str(tmp_path / "docs")])
    assert result.exit_code == exit_code, result.output
    assert text in " ".join(result.output.split())
    assert (tmp_path / "docs" / "index.html").exists()


def test_cli_gates_check_golden_suite_and_unreadable_input(tmp_path):
    path = tmp_path / "golden.csv"
    golden_of(clean_staging()).to_csv(path, index=False)
    assert CliRunner().invoke(app, ["gates", "check", str(path), "--suite", "golden"]).exit_code == 0
    result = CliRunner().invoke(app, ["gates", "check", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "missing.csv" in result.output
