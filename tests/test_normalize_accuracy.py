# ruff: noqa: T201 - the acceptance numbers are printed on purpose (pytest -s shows them)
"""Acceptance: `cdq clean` on a messy Dutch back-office export, measured against the generator's truth."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app

sys.path.insert(0, str(Path(__file__).parent))
from normalize_messy_export import generate  # noqa: E402

THRESHOLDS = {
    "infix_split": 0.97,
    "postcode": 0.995,
    "house_number": 0.99,
    "phone_e164": 0.99,
    "partner_split": 0.97,
}


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    # write_table neutralises formula-like cells ("=..." → "'=...") for spreadsheets.
    return frame.apply(lambda c: c.str.replace(r"^'(?=[=+\-@])", "", regex=True))


def _none(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def scores(cleaned: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """The acceptance percentages: each one's share of rows right, over the rows it applies to."""
    merged = truth.merge(cleaned, left_on="Klantnummer", right_on="source_key", suffixes=("_t", ""))
    assert len(merged) == len(truth), "every generated row comes out of cdq clean once"
    with_infix = merged[merged["infix_t"].notna()]
    infix_ok = (with_infix["infix"] == with_infix["infix_t"]) & (
        with_infix["last_name"] == with_infix["last_name_t"]
    )
    valid_pc = merged[merged["postcode_t"].notna()]
    invalid_pc = merged[merged["postcode_t"].isna()]
    house_ok = (
        (merged["house_number"] == merged["number"])
        & (merged["house_letter"] == merged["letter"].map(_none))
        & (merged["house_number_addition"] == merged["addition"].map(_none))
        & (merged["street"] == merged["street_t"])
    )
    dialable = merged[merged["phone_t"].notna()]
    phone_ok = (dialable["phone"] == dialable["phone_t"]) | (dialable["mobile"] == dialable["phone_t"])
    undialable = merged[merged["phone_t"].isna()]
    partnered = merged[merged["partner"].notna()]
    return {
        "infix_split": infix_ok.mean(),
        "postcode": (valid_pc["postcode"] == valid_pc["postcode_t"]).mean(),
        "postcode_invalid_flagged": invalid_pc["issues"].str.contains("POSTCODE_INVALID").mean(),
        "house_number": house_ok.mean(),
        "phone_e164": phone_ok.mean(),
        "phone_undialable_flagged": undialable["issues"].str.contains("PHONE_NOT_DIALABLE").mean(),
        "partner_split": (partnered["partner_last_name"] == partnered["partner"]).mean(),
    }


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    folder = tmp_path_factory.mktemp("messy")
    export_a, truth_a = generate(3000, seed=11, infix_column=True)
    export_b, truth_b = generate(1500, seed=12, infix_column=False)
    export_a.to_csv(folder / "klanten_erp.csv", sep=";", index=False, encoding="utf-8-sig")
    export_b.to_csv(folder / "klanten_oud.csv", sep=";", index=False, encoding="cp1252")
    out = folder / "schoon.csv"
    result = CliRunner().invoke(
        app, ["clean", str(folder / "klanten_erp.csv"), str(folder / "klanten_oud.csv"), "--out", str(out)]
    )
    return _read(out), pd.concat([truth_a, truth_b], ignore_index=True), result


def test_clean_exits_zero_and_reports(cleaned):
    _, _, result = cleaned
    assert result.exit_code == 0, result.output
    assert "cleaned: 4500 rows" in result.output
    assert "POSTCODE_INVALID" in result.output and "PHONE_NOT_DIALABLE" in result.output


def test_accuracy_thresholds(cleaned):
    frame, truth, _ = cleaned
    got = scores(frame, truth)
    print("\nnormalize accuracy on the messy export:")
    for name, value in got.items():
        print(f"  {name:26s} {value:7.2%}")
    for name, threshold in THRESHOLDS.items():
        assert got[name] >= threshold, f"{name}: {got[name]:.2%} < {threshold:.1%}"
    assert got["postcode_invalid_flagged"] == 1.0
    assert got["phone_undialable_flagged"] == 1.0


def test_raw_and_original_values_are_kept(cleaned):
    frame, _, _ = cleaned
    assert {"src:Achternaam", "src:Postcode", "src:Telefoon", "orig:postcode", "orig:last_name"} <= set(
        frame.columns
    )
    changed = frame[frame["orig:postcode"] != ""]
    assert (
        changed["orig:postcode"] == changed["src:Postcode"].str.strip().str.replace(r"\s+", " ", regex=True)
    ).all()
