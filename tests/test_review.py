"""Review loop: workbook export, decisions read back (also after a LibreOffice re-save), stored, respected."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import InputError
from cdq.review import apply_decisions, apply_review, export_review, load_decisions, recluster
from cdq.review.workbook import read_decisions

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def records(run: int = 1) -> pd.DataFrame:
    """Six made-up records; record ids change per run, the (source, source_key) refs do not."""
    rows = [
        ("erp", "K1", "Jan", "Vries", "de", "1234 AB", "Utrecht", "+31301234567"),
        ("xls", "A7", "Johannes", "Vries", "de", "1234 AB", "Utrecht", "+31301234567"),
        ("erp", "K2", "Piet", "Bakker", None, "2511 CV", "Den Haag", None),
        ("xls", "B3", "P.", "Bakker", None, "2511 CV", "Den Haag", "+31701112222"),
        ("erp", "K3", "Anna", "Jansen", None, "9711 LM", "Groningen", None),
        ("crm", "C9", "Anne", "Janssen", None, "9711 LM", "Groningen", None),
    ]
    frame = pd.DataFrame(rows, columns=["source", "source_key", "first_name", "last_name", "infix", "postcode",
                                        "city", "phone"])
    frame.insert(0, "record_id", [f"r{run}-{i}" for i in range(len(frame))])
    return frame


def pairs(run: int = 1) -> pd.DataFrame:
    ids = records(run)["record_id"]
    return pd.DataFrame({
        "record_id_l": [ids[0], ids[2], ids[4], ids[0]], "record_id_r": [ids[1], ids[3], ids[5], ids[2]],
        "match_weight": [3.1, 1.2, 0.9, -9.0], "match_probability": [0.89, 0.70, 0.65, 0.002],
        "decision": ["review", "review", "review", "non_match"],
        "first_name_level": ["similar", "initial", "very_similar", "different"],
        "first_name_weight": [1.5, 0.5, 2.0, -3.0],
        "surname_level": ["exact", "exact", "similar", "different"], "surname_weight": [6.0, 6.0, 2.0, -6.0],
    })


@pytest.fixture()
def store(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'golden.sqlite'}"


def decide(path: Path, choices: dict[int, str]) -> None:
    """Type decisions into the workbook the way a person does (by pair number)."""
    book = load_workbook(path)
    sheet = book["review"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        pair = row[header.index("pair")].value
        if pair in choices:
            row[header.index("decision")].value = choices[pair]
    book.save(path)


def test_export_one_row_per_review_pair_side_by_side(tmp_path):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    sheet = load_workbook(path)["review"]
    header = [c.value for c in sheet[1]]
    assert sheet.max_row == 1 + 3
    assert header[:6] == ["pair", "decision", "note", "match probability", "match weight", "explanation"]
    assert header.index("first_name B") == header.index("first_name A") + 1
    row = {h: c for h, c in zip(header, sheet[2])}
    assert row["explanation"].value == "surname: exact (+6.0); first_name: similar (+1.5)"
    assert (row["ref A"].value, row["ref B"].value) == ("erp|K1", "xls|A7")
    # Differences are highlighted, equal values are not.
    assert row["first_name A"].fill.fgColor.rgb.endswith("FFF2CC") and row["first_name B"].font.bold
    assert row["postcode A"].fill.fill_type is None
    assert row["phone A"].value == "+31301234567" and row["phone A"].quotePrefix
    rules = sheet.data_validations.dataValidation
    assert len(rules) == 1 and rules[0].formula1 == '"match,no match,force match"' and "B2:B4" in str(rules[0].sqref)


@pytest.mark.parametrize(("typed", "stored"), [
    ("match", "match"), ("no match", "non_match"), (" No Match ", "non_match"), ("MATCH", "match"),
    ("ja", "match"), ("nee", "non_match"), ("no_match", "non_match"),
])
def test_decision_words_are_read_tolerantly(tmp_path, typed, stored):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: typed})
    assert read_decisions(path)[["ref_a", "ref_b", "decision"]].values.tolist() == [["erp|K1", "xls|A7", stored]]


def test_unknown_decision_names_row_and_stores_nothing(tmp_path, store):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: "match", 2: "misschien"})
    with pytest.raises(InputError, match=r"row 3: 'misschien'"):
        apply_review(path, store)
    assert load_decisions(store).empty


def test_decisions_hold_on_rerun_and_are_not_asked_again(tmp_path, store):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: "match", 2: "no match"})
    result = apply_review(path, store, decided_by="steward-a")
    assert result.counts == {"match": 1, "non_match": 1}
    stored = load_decisions(store)
    assert set(stored["decided_by"]) == {"steward-a"} and len(stored) == 2

    # Next run: new record ids, same refs; the model still calls them 'review' but the steward decided.
    second = apply_decisions(pairs(run=2), load_decisions(store), records(run=2))
    assert second["decision"].tolist()[:3] == ["match", "non_match", "review"]
    assert second["steward_decision"].tolist()[:3] == ["match", "non_match", None]
    again = export_review(pairs(run=2), records(run=2), tmp_path / "again.xlsx", load_decisions(store))
    assert load_workbook(again)["review"].max_row == 2  # only the undecided pair is asked


def test_model_cannot_override_a_steward(store, tmp_path):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: "no match", 3: "match"})
    apply_review(path, store)
    confident = pairs(run=3).assign(decision="match", match_probability=0.999, match_weight=20.0)
    decided = apply_decisions(confident, load_decisions(store), records(run=3))
    assert decided["decision"].tolist() == ["non_match", "match", "match", "match"]
    clusters = recluster(decided, records(run=3)["record_id"])
    by_id = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    assert by_id["r3-0"] != by_id["r3-1"]  # the steward's no match splits them


def test_steward_match_on_a_pair_the_model_did_not_score(store, tmp_path):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {3: "match"})
    apply_review(path, store)
    unscored = pairs(run=4).iloc[[0, 1, 3]]  # blocking did not produce the Jansen/Janssen pair this time
    decided = apply_decisions(unscored, load_decisions(store), records(run=4))
    extra = decided[decided["steward_decision"].eq("match")]
    assert [sorted(p) for p in extra[["record_id_l", "record_id_r"]].values.tolist()] == [["r4-4", "r4-5"]]
    clusters = recluster(decided, records(run=4)["record_id"])
    assert clusters.set_index("record_id").loc[["r4-4", "r4-5"], "cluster_id"].nunique() == 1


def test_a_later_decision_replaces_an_earlier_one(store, tmp_path):
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: "match"})
    apply_review(path, store)
    decide(path, {1: "no match"})
    apply_review(path, store)
    assert load_decisions(store)["decision"].tolist() == ["non_match"]


def _soffice_convert(path: Path, to: str, outdir: Path) -> Path:
    profile = tempfile.mkdtemp(prefix="cdq-lo-")
    try:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", to,
                        "--outdir", str(outdir), str(path)], check=True, capture_output=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return outdir / f"{path.stem}.{to.split(':')[0]}"


@pytest.mark.slow  # LibreOffice: run by .ci/run's second step
def test_round_trip_through_libreoffice(tmp_path, store):
    if SOFFICE is None:
        from helpers import need

        need(False, "LibreOffice (apt-get install libreoffice-calc)")
    path = export_review(pairs(), records(), tmp_path / "review.xlsx")
    decide(path, {1: "match", 2: "no match"})
    resaved_dir = tmp_path / "resaved"
    resaved_dir.mkdir()
    xlsx = _soffice_convert(path, "xlsx:Calc MS Excel 2007 XML", resaved_dir)
    ods = _soffice_convert(path, "ods", resaved_dir)
    assert xlsx.exists() and ods.exists()
    for resaved in (xlsx, ods):
        result = apply_review(resaved, store)
        assert result.decisions[["ref_a", "ref_b", "decision"]].values.tolist() == [
            ["erp|K1", "xls|A7", "match"], ["erp|K2", "xls|B3", "non_match"]]
    # LibreOffice keeps the drop-down in its xlsx.
    assert load_workbook(xlsx)["review"].data_validations.dataValidation
    decided = apply_decisions(pairs(run=5), load_decisions(store), records(run=5))
    assert decided["decision"].tolist()[:3] == ["match", "non_match", "review"]


def test_cli_export_and_apply(tmp_path, store):
    pairs().to_csv(tmp_path / "pairs.csv", index=False)
    records().to_parquet(tmp_path / "records.parquet")
    out = tmp_path / "wb.xlsx"
    runner = CliRunner()
    result = runner.invoke(app, ["review", "export", "--pairs", str(tmp_path / "pairs.csv"), "--records",
                                 str(tmp_path / "records.parquet"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    decide(out, {1: "match"})
    result = runner.invoke(app, ["review", "apply", str(out), "--store", store, "--by", "anna"])
    assert result.exit_code == 0, result.output
    assert "review: 1 match, 0 no match from wb.xlsx; 1 stored, 0 refused" in result.output
    result = runner.invoke(app, ["review", "export", "--pairs", str(tmp_path / "pairs.csv"), "--records",
                                 str(tmp_path / "records.parquet"), "--out", str(out), "--store", store])
    assert result.exit_code == 0 and load_workbook(out)["review"].max_row == 3


@pytest.mark.parametrize(("name", "content", "exit_code", "text"), [
    ("missing.xlsx", None, 2, "file not found"),
    ("notes.txt", "hello", 2, "unsupported format"),
    ("broken.xlsx", "not a zip", 2, "cannot read the workbook"),
])
def test_cli_apply_bad_workbook(tmp_path, store, name, content, exit_code, text):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(app, ["review", "apply", str(path), "--store", store])
    assert result.exit_code == exit_code and text in " ".join(result.output.split())
