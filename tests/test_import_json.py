"""JSON exports (an array of records, or JSON Lines): read, staged, bad lines quarantined, bad files refused."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import InputError
from cdq.importers import detect_kind, read_input
from cdq.staging import import_inputs

RECORDS = [
    {"klantnummer": 17, "naam": "J. de Vries", "email": "j.devries@example.nl",
     "adres": {"straat": "Kerkstraat 12-A", "postcode": "1234AB", "plaats": "Utrecht"}, "tags": ["vip", "nieuwsbrief"]},
    {"klantnummer": 18, "naam": "Fatima el Amrani", "telefoon": "06-12345678", "actief": True, "adres": None},
]


@pytest.mark.parametrize("name", ["klanten.json", "klanten.jsonl", "klanten.ndjson", "export.JSON"])
def test_json_files_are_detected(name):
    assert detect_kind(name) == "json"


def test_array_and_wrapped_array_read_the_same(tmp_path):
    plain, wrapped = tmp_path / "a.json", tmp_path / "b.json"
    plain.write_text(json.dumps(RECORDS), encoding="utf-8")
    wrapped.write_text(json.dumps({"contacts": RECORDS}), encoding="utf-8")
    [a], [b] = read_input(plain), read_input(wrapped)
    assert a.frame.equals(b.frame) and a.rows == [1, 2]
    assert a.frame.loc[0, "postcode"] == "1234AB" and a.frame.loc[0, "tags"] == "vip;nieuwsbrief"
    assert a.frame.loc[1, "klantnummer"] == "18" and a.frame.loc[1, "actief"] == "true"


def test_json_lines_quarantine_bad_lines_and_stage_the_rest(tmp_path):
    path = tmp_path / "klanten.jsonl"
    lines = [json.dumps(RECORDS[0]), "{broken", "", "[1, 2]", json.dumps(RECORDS[1])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_inputs([path])
    assert result.rows_in == 4 and len(result.staging) == 2
    assert result.quarantine[["source_row", "reason_code"]].values.tolist() == [
        [2, "RECORD_UNPARSEABLE"], [4, "RECORD_UNPARSEABLE"]]
    first = result.staging.iloc[0]
    assert (first["source_key"], first["postcode"], first["city"], first["source_row"]) == ("17", "1234AB", "Utrecht", 1)
    assert result.staging.iloc[1]["source_row"] == 5


@pytest.mark.parametrize(("content", "problem"), [("{not json", "not valid JSON"),
                                                  ('{"a": 1, "b": 2}', "not an array of records"),
                                                  ("[1, 2, 3]", "not an array of records")])
def test_a_json_file_that_is_no_record_array_is_an_input_error(tmp_path, content, problem):
    path = tmp_path / "klanten.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=problem):
        read_input(path)


def test_cli_import_json_exit_codes(tmp_path):
    good, bad = tmp_path / "k.json", tmp_path / "bad.json"
    good.write_text(json.dumps(RECORDS), encoding="utf-8")
    bad.write_text("{not json", encoding="utf-8")
    ok = CliRunner().invoke(app, ["import", str(good), "--out", str(tmp_path / "out.csv")])
    assert ok.exit_code == 0, ok.output
    assert "2 rows in = 2 staged + 0 quarantined" in ok.output
    refused = CliRunner().invoke(app, ["import", str(bad), "--out", str(tmp_path / "out2.csv")])
    assert refused.exit_code == 2 and "bad.json" in refused.output and "Traceback" not in refused.output
