"""Parquet files: detected, every type read as the text a person would type, staged, deduped, bad files refused."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import InputError
from cdq.importers import detect_kind, read_input
from cdq.staging import import_inputs


@pytest.mark.parametrize("name", ["klanten.parquet", "klanten.PQ"])
def test_parquet_files_are_detected_by_extension(name):
    assert detect_kind(name) == "parquet"


def test_a_parquet_file_without_its_extension_is_detected_by_its_first_bytes(tmp_path):
    path = tmp_path / "export_2026"
    pq.write_table(pa.table({"naam": ["A. Bakker"]}), path)
    assert detect_kind(path) == "parquet"


def test_every_type_reads_as_typed_text(tmp_path):
    path = tmp_path / "k.parquet"
    table = pa.table({
        "klantnummer": pa.array([17, None], pa.int64()),
        "saldo": pa.array([3.0, 1.25]),
        "actief": pa.array([True, None]),
        "geboortedatum": pa.array([dt.datetime(1980, 2, 29), dt.datetime(2001, 12, 1)], pa.timestamp("us")),
        "gewijzigd": pa.array([dt.datetime(2026, 1, 2, 13, 45, 7), None], pa.timestamp("ms")),
        "lid_sinds": pa.array([dt.date(2019, 5, 6), None], pa.date32()),
        "tags": pa.array([["vip", "nieuwsbrief"], []], pa.list_(pa.string())),
        "regio": pa.array(["Noord", "Noord"]).dictionary_encode(),
        "adres": pa.array([{"postcode": "1234AB", "plaats": "Utrecht"}, {"postcode": None, "plaats": None}]),
        "leeg": pa.nulls(2),
    })
    pq.write_table(table, path)
    [raw] = read_input(path)
    assert raw.rows == [1, 2]
    assert raw.frame.to_dict("records") == [
        {"klantnummer": "17", "saldo": "3", "actief": "true", "geboortedatum": "1980-02-29",
         "gewijzigd": "2026-01-02 13:45:07", "lid_sinds": "2019-05-06", "tags": "vip;nieuwsbrief",
         "regio": "Noord", "postcode": "1234AB", "plaats": "Utrecht", "leeg": None},
        {"klantnummer": None, "saldo": "1.25", "actief": None, "geboortedatum": "2001-12-01", "gewijzigd": None,
         "lid_sinds": None, "tags": None, "regio": "Noord", "postcode": None, "plaats": None, "leeg": None}]


def test_parquet_rows_are_staged_with_their_record_numbers(tmp_path):
    path = tmp_path / "klanten.parquet"
    frame = pd.DataFrame({"klantnummer": [1, 2], "naam": ["J. de Vries", "Fatima el Amrani"],
                          "postcode": ["1234 ab", "3011AA"], "huisnummer": [12, 5]})
    frame.to_parquet(path, index=False)
    result = import_inputs([path])
    assert result.rows_in == 2 and len(result.staging) == 2 and result.quarantine.empty
    first = result.staging.iloc[0]
    assert (first["source_key"], first["house_number"], first["source_row"]) == ("1", "12", 1)


@pytest.mark.parametrize("content", [b"PAR1 broken", b"not parquet at all"])
def test_a_file_that_is_no_parquet_is_an_input_error(tmp_path, content):
    path = tmp_path / "kapot.parquet"
    path.write_bytes(content)
    with pytest.raises(InputError, match="cannot read as Parquet"):
        read_input(path)


def test_a_binary_column_that_is_not_text_is_refused_naming_the_column(tmp_path):
    path = tmp_path / "k.parquet"
    pq.write_table(pa.table({"naam": ["x"], "foto": pa.array([b"\xff\xd8\xff\xe0"], pa.binary())}), path)
    with pytest.raises(InputError, match="'foto'"):
        read_input(path)


def test_cli_dedupe_reads_parquet_as_it_reads_the_same_csv(tmp_path):
    """The pandas engine takes the Parquet file `cdq synth --out x.parquet` writes (it used to refuse it as binary)."""
    from cdq.synthetic import generate_records

    frame = generate_records(300, seed=11).drop(columns=["entity_id"])
    frame.to_csv(tmp_path / "klanten.csv", index=False)
    frame.to_parquet(tmp_path / "klanten.parquet", index=False)
    runner = CliRunner()
    for name in ("csv", "parquet"):
        done = runner.invoke(app, ["dedupe", str(tmp_path / f"klanten.{name}"), "--out", str(tmp_path / f"{name}.out.csv"),
                                   "--id-column", "record_id"])
        assert done.exit_code == 0, done.output
    from_csv, from_parquet = (pd.read_csv(tmp_path / f"{x}.out.csv", dtype=str) for x in ("csv", "parquet"))
    # cluster ids name a member record by its row (a CSV's first record is row 2, behind its header; a Parquet
    # file's is record 1), so compare the partition of the records and every other column
    pd.testing.assert_frame_equal(from_csv.drop(columns="cluster_id"), from_parquet.drop(columns="cluster_id"))
    assert (pd.factorize(from_csv["cluster_id"])[0] == pd.factorize(from_parquet["cluster_id"])[0]).all()
    assert from_csv["cluster_id"].nunique() < len(from_csv)  # the synthetic duplicates were found


def test_cli_import_refuses_a_broken_parquet_file_with_exit_code_2(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1")
    refused = CliRunner().invoke(app, ["import", str(bad), "--out", str(tmp_path / "out.csv")])
    assert refused.exit_code == 2 and "bad.parquet" in refused.output and "Traceback" not in refused.output
