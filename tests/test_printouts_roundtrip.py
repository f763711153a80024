"""The round trip: printouts from a golden store, a form filled in as a person would (typed numbers, 'Klopt
niet', a postcode that does not exist) and re-saved by LibreOffice, then ``cdq printouts apply``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdq.address import load_demo_reference
from cdq.cli.main import app
from cdq.golden import merge_batch
from cdq.normalize import normalize
from cdq.printouts.forms import headers
from cdq.staging import import_inputs
from cdq.store import GoldenStore
from cdq.survivorship import load_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REFERENCE = Path(__file__).resolve().parents[1] / "reference_data" / "demo_bag.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A golden store of the back-office fixture (one golden record per row), the demo reference, printouts."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    staging, _ = normalize(import_inputs([FIXTURES / "backoffice_export.csv"]).staging)
    url = f"sqlite:///{tmp / 'golden.sqlite'}"
    store = GoldenStore(url)
    clusters = pd.DataFrame({"record_id": staging["record_id"], "cluster_id": staging["record_id"]})
    run = store.start_run("test")
    merge_batch(staging, clusters, store, load_rules(), run)
    load_demo_reference(tmp / "ref.sqlite").close()
    out = tmp / "printouts"
    result = runner.invoke(app, ["printouts", url, "--adviser-column", "adviser", "--out", str(out),
                                 "--reference", str(tmp / "ref.sqlite"), "--run-date", "2025-03-04"])
    assert result.exit_code == 0, result.output
    return {"tmp": tmp, "url": url, "store": store, "out": out, "ref": tmp / "ref.sqlite"}


def _golden(store: GoldenStore, golden_id: str) -> dict:
    with store.engine.connect() as conn:
        row = store.golden(conn, [golden_id]).iloc[0]
    return {**json.loads(row["data"]), "_lineage": json.loads(row["lineage"])}


def _resave_with_libreoffice(path: Path, tmp: Path) -> Path:
    """Open and save the workbook in LibreOffice Calc, as an adviser's office would."""
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) not installed")
    outdir = tmp / "resaved"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp / 'lo_profile'}", "--headless",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(path)],
                   check=True, capture_output=True, timeout=120)
    return outdir / path.name


@pytest.mark.slow  # LibreOffice: run by .ci/run's second step
def test_round_trip_through_libreoffice(world: dict) -> None:
    ref = pd.read_csv(REFERENCE, sep=";", dtype=str)
    single = ref.groupby(["postcode", "huisnummer"])["straat"].transform("size").eq(1)
    existing = ref[single & ref["huisletter"].isna() & ref["huisnummertoevoeging"].notna()].iloc[5]
    typed_number = f"{existing['huisnummer']} - {existing['huisnummertoevoeging'].lower()}"
    form = world["out"] / "controle_S_Visser.xlsx"
    workbook = load_workbook(form)
    sheet = workbook["Controle"]
    col = {h: i + 1 for i, h in enumerate(headers())}
    keys = [sheet.cell(r, col["Sleutel"]).value for r in range(2, 8)]
    fill = {  # as a person types: numbers as numbers, statuses in their own words
        2: {"Status": "Klopt niet", "Nieuwe postcode": existing["postcode"].lower(),
            "Nieuw huisnummer": typed_number, "Nieuwe straat": "", "Nieuwe plaats": None},
        3: {"Status": "verhuisd", "Nieuwe postcode": "9999 ZZ", "Nieuw huisnummer": 3},
        4: {"Nieuw e-mail": " nieuw.adres@Example.NL "},
        5: {"Status": "OK"},
        6: {"Status": "overleden", "Opmerking": "overleden in januari"},
        7: {"Status": "klopt niet", "Nieuw mobiel": 612345678, "Nieuw telefoon": "12"},
    }
    for row, values in fill.items():
        for header, value in values.items():
            sheet.cell(row, col[header]).value = value
    filled = world["tmp"] / "ingevuld" / form.name
    filled.parent.mkdir()
    workbook.save(filled)
    returned = _resave_with_libreoffice(filled, world["tmp"])
    result = runner.invoke(app, ["printouts", "apply", str(returned), "--reference", str(world["ref"]),
                                 "--date", "2025-03-20", "--store", world["url"]])
    assert result.exit_code == 0, result.output
    assert "applied: 4 changed, 3 rejected, 0 not applied, 1 confirmed unchanged" in result.output
    changes = pd.read_csv(returned.with_name(returned.stem + "_wijzigingen.csv"), dtype=str)
    rejected = changes[changes["outcome"] == "rejected"].set_index("field")
    assert rejected.loc["postcode", "reason_code"] == "ADDRESS_NOT_FOUND"
    assert "bestaat niet" in rejected.loc["postcode", "detail"]
    assert rejected.loc["phone", "reason_code"] == "PHONE_NOT_DIALABLE"

    store = world["store"]
    moved = _golden(store, keys[0])
    assert (moved["postcode"], moved["house_number"], moved["house_number_addition"]) == (
        f"{existing['postcode'][:4]} {existing['postcode'][4:]}", existing["huisnummer"],
        existing["huisnummertoevoeging"])  # as the register writes it (issue 19: case kept)
    assert moved["street"] == existing["straat"]  # completed from the reference
    assert any(lin[0] == "postcode" and lin[2] == f"adviser_verification|{keys[0]}" for lin in moved["_lineage"])
    assert _golden(store, keys[2])["email"] == "nieuw.adres@example.nl"
    assert _golden(store, keys[5])["mobile"] == "+31612345678"  # the leading zero Excel dropped is back
    not_moved = _golden(store, keys[1])
    assert not_moved["postcode"] != "9999 ZZ"
    assert "overleden" in result.output and "verhuisd" in result.output  # follow-up list


def test_apply_to_a_file_writes_a_corrected_copy(tmp_path: Path) -> None:
    out = tmp_path / "printouts"
    result = runner.invoke(app, ["printouts", str(FIXTURES / "backoffice_export.csv"), "--adviser-column",
                                 "Adviseur", "--out", str(out), "--run-date", "2025-03-04"])
    assert result.exit_code == 0, result.output
    form = out / "controle_P_Jansen.xlsx"
    workbook = load_workbook(form)
    sheet = workbook["Controle"]
    col = {h: i + 1 for i, h in enumerate(headers())}
    key = sheet.cell(2, col["Sleutel"]).value
    sheet.cell(2, col["Status"]).value = "klopt niet"
    sheet.cell(2, col["Nieuw e-mail"]).value = "gecorrigeerd@example.nl"
    sheet.cell(3, col["Nieuwe postcode"]).value = "1234 SS"
    workbook.save(form)
    corrected = tmp_path / "gecorrigeerd.csv"
    result = runner.invoke(app, ["printouts", "apply", str(form), "--out", str(corrected)])
    assert result.exit_code == 0, result.output
    assert "applied: 1 changed, 1 rejected" in result.output
    frame = pd.read_csv(corrected, dtype=str)
    row = frame[frame["row_key"] == key].iloc[0]
    assert row["email"] == "gecorrigeerd@example.nl" and row["verification_status"] == "klopt niet"
    assert row["verified_by"] == "P. Jansen"
    assert len(frame) == 123  # every customer of the file, not only this adviser's
    assert "src:Klantnummer" in frame.columns


def test_apply_rejects_a_file_that_is_not_a_form(tmp_path: Path) -> None:
    bogus = tmp_path / "retour.xlsx"
    bogus.write_text("not a workbook")
    result = runner.invoke(app, ["printouts", "apply", str(bogus)])
    assert result.exit_code == 2
    assert "cannot read the returned form" in result.output
