"""The synthetic generator and the bundled fixtures: determinism and the planted properties."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from stdnum.nl import bsn
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.synthetic import generate_population, generate_records
from cdq.synthetic import names as N
from cdq.synthetic.addresses import expand, street_table
from cdq.synthetic.corrupt import phone_notation, transpose, typo
from cdq.synthetic.fixtures import build
from cdq.synthetic.places import places
from cdq.synthetic.reference import BAG_COLUMNS, write_synthetic_bag

TEXT_FILES = ["backoffice_export.csv", "outlook_contacts.csv", "google_contacts.csv", "contacts.vcf",
              "mailbox.mbox", "truth.csv", "truth_entities.csv"]


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return generate_records(10_000, seed=11, duplicate_rate=0.3, details=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fixtures")
    build(out / "a", office=False, bag=out / "a" / "demo_bag.csv")
    build(out / "b", office=False)
    return out


@pytest.mark.parametrize("name", TEXT_FILES)
def test_fixture_text_files_are_deterministic(built: Path, name: str):
    assert (built / "a" / name).read_bytes() == (built / "b" / name).read_bytes()


@pytest.mark.parametrize("name", [n for n in TEXT_FILES if n != "truth_entities.csv"])
def test_committed_fixtures_match_the_generator(built: Path, fixtures_dir: Path, name: str):
    # the regenerated set has no .xls/.ods (no LibreOffice in the fast run), so drop their truth rows
    office = (b"adviseur_de_vries.xls,", b"adviseur_bakker.ods,")
    committed = [line for line in (fixtures_dir / name).read_bytes().splitlines() if not line.startswith(office)]
    assert committed == (built / "a" / name).read_bytes().splitlines()


def test_truth_covers_every_input_file(fixtures_dir: Path):
    truth = pd.read_csv(fixtures_dir / "truth.csv", dtype=str, keep_default_na=False)
    inputs = {p.relative_to(fixtures_dir).as_posix() for p in fixtures_dir.rglob("*")
              if p.is_file() and "broken" not in p.parts and not p.name.startswith(("truth", "README"))}
    # the newsletter from a noreply sender names no customer, so it has no truth row
    assert inputs - set(truth["file"]) == {"mail/009_uw_nieuwsbrief_van_februari.eml"}
    assert set(truth["file"]) <= inputs
    assert truth.groupby("entity_id")["file"].nunique().max() >= 3  # cross-file duplicates are planted
    assert truth["planted"].str.contains("junk_name").sum() == 4


def test_backoffice_export_is_windows_1252_semicolon(fixtures_dir: Path):
    raw = (fixtures_dir / "backoffice_export.csv").read_bytes()
    frame = pd.read_csv(fixtures_dir / "backoffice_export.csv", sep=";", encoding="cp1252", dtype=str)
    assert raw.splitlines()[0].startswith(b"Klantnummer;Naam;Adres")
    assert frame["Klantnummer"].str.startswith("000").all()
    assert frame["Geboortedatum"].dropna().str.match(r"^\d\d-\d\d-\d{4}$").mean() > 0.9


def test_adviser_xlsx_header_on_row_3_and_numbers_as_numbers(fixtures_dir: Path):
    from openpyxl import load_workbook

    sheet = load_workbook(fixtures_dir / "adviseur_jansen.xlsx").active
    assert sheet.cell(3, 1).value == "Klantnummer" and sheet.cell(1, 1).value.startswith("Klantenoverzicht")
    mobiles = [sheet.cell(r, 13).value for r in range(4, sheet.max_row + 1) if sheet.cell(r, 13).value]
    assert any(isinstance(v, int) for v in mobiles)


@pytest.mark.parametrize("name,magic", [("adviseur_de_vries.xls", b"\xd0\xcf\x11\xe0"),
                                        ("adviseur_bakker.ods", b"PK\x03\x04")])
def test_office_files_written_by_libreoffice(fixtures_dir: Path, name: str, magic: bytes):
    data = (fixtures_dir / name).read_bytes()
    assert data.startswith(magic)
    frames = pd.read_excel(fixtures_dir / name, sheet_name=None, dtype=str)
    assert set(frames) == {"Particulier", "Zakelijk"} and len(frames["Particulier"]) > 5


def test_demo_bag_holds_every_true_address(built: Path):
    bag = pd.read_csv(built / "a" / "demo_bag.csv", sep=";", dtype=str, keep_default_na=False)
    assert list(bag.columns) == BAG_COLUMNS
    assert not bag.duplicated(["postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]).any()
    pop = pd.read_csv(built / "a" / "truth_entities.csv", dtype=str, keep_default_na=False)
    keys = set(zip(bag["postcode"], bag["huisnummer"]))
    assert all((p, n) in keys for p, n in zip(pop["postcode"], pop["house_number"]))


def test_records_have_the_planted_properties(records: pd.DataFrame):
    assert len(records) == 10_000
    assert 1 - records["entity_id"].nunique() / len(records) == pytest.approx(0.3, abs=0.001)
    persons = records[records["party_type"] == "person"]
    assert persons.groupby("household_id")["entity_id"].nunique().max() >= 2
    calls = {c for calls in N.MALE_NICKNAMES.values() for c in calls} - set(N.MALE_NICKNAMES)
    assert persons["first_name"].isin(calls).sum() > 100
    assert (persons["first_name"] == "").mean() > 0.1  # initials-only records
    assert records["last_name"].str.contains(r", (?:de|van|van der|van den)$").any()
    kvk = records.loc[records["kvk_number"] != "", "kvk_number"]
    assert len(kvk) > 300 and kvk.map(lambda k: bsn.checksum(k.zfill(9)) == 0).all()
    assert records["email"].str.contains("@gmial.com|@hotmial.com").any()
    for name in ("moved", "partner_name", "swap_day_month", "infix_variant"):
        assert records["variations"].str.contains(name).sum() > 20, name


def test_postcodes_lie_in_their_place_range(records: pd.DataFrame):
    table = places().set_index("place")
    true = records[records["true_postcode"] != ""]
    pc4 = true["true_postcode"].str[:4].astype(int)
    lo, hi = table.loc[true["true_city"], "pc4_lo"].to_numpy(), table.loc[true["true_city"], "pc4_hi"].to_numpy()
    assert ((pc4.to_numpy() >= lo) & (pc4.to_numpy() <= hi)).all()
    assert not true["true_postcode"].str[4:].isin(["SA", "SD", "SS"]).any()


def test_same_seed_same_records():
    a, b = generate_records(500, seed=5), generate_records(500, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not generate_records(500, seed=6).equals(a)


def test_population_households_and_twins():
    pop = generate_population(3000, seed=2)
    twins = pop[pop["kind"] == "twins"].groupby("household_id")
    assert (twins["birth_date"].nunique() == 1).all() and (twins["last_name"].nunique() == 1).all()
    juniors = pop[pop["role"] == "junior"].set_index("household_id")
    fathers = pop[(pop["kind"] == "father_son") & (pop["role"] == "head")].set_index("household_id")
    same = juniors["initials"].str[0] == fathers.loc[juniors.index, "initials"].str[0]
    assert same.mean() > 0.6


def test_postcode_and_house_number_identify_one_address():
    flat = expand(street_table().iloc[:3000])
    assert not flat.duplicated(["postcode", "huisnummer", "huisletter", "huisnummertoevoeging"]).any()
    assert flat["nummeraanduiding_id"].is_unique


@pytest.mark.parametrize("text,r,expected", [("Jansen", 0.1, "Jnsen"), ("Jansen", 0.5, "Janssen"),
                                             ("Jansen", 0.0, "ansen"), ("Al", 0.5, "Al")])
def test_typo(text, r, expected):
    assert typo(text, r) == expected


def test_transpose_keeps_letters():
    assert sorted(transpose("Bakker", 0.3)) == sorted("Bakker")


def test_phone_notation_mobile():
    out = phone_notation(pd.Series(["0612345678"] * 3), pd.Series([2] * 3), np.array([1, 2, 4])).tolist()
    assert out == ["+31 6 12345678", "0031612345678", "612345678"]


def test_synthetic_bag_streams_exact_row_count(tmp_path: Path):
    path = tmp_path / "bag.csv"
    assert write_synthetic_bag(path, n_addresses=30_000, chunk_streets=100) == 30_000
    bag = pd.read_csv(path, sep=";", dtype=str)
    assert len(bag) == 30_000 and list(bag.columns) == BAG_COLUMNS
    assert bag["postcode"].str.match(r"^[1-9]\d{3}[A-Z]{2}$").all()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_cli_synth(tmp_path: Path, suffix: str):
    out = tmp_path / f"records{suffix}"
    result = CliRunner().invoke(app, ["synth", "--records", "300", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 300 records" in result.output
    frame = pd.read_csv(out, dtype=str) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 300 and "entity_id" in frame.columns


def test_cli_synth_rejects_unknown_format(tmp_path: Path):
    result = CliRunner().invoke(app, ["synth", "--records", "10", "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 2 and "unsupported output format" in result.output


@pytest.mark.slow
def test_office_fixtures_regenerate(tmp_path: Path):
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice not installed")
    truth = build(tmp_path, office=True)
    assert {"adviseur_de_vries.xls", "adviseur_bakker.ods"} <= set(truth["file"])
