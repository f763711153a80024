"""The normalize stage contract, the reason code registry and its docs, settings, and `cdq clean`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq import reasons
from cdq.cli.main import app
from cdq.columns import CANONICAL, FINDINGS
from cdq.errors import ConfigError
from cdq.normalize import ADDED_COLUMNS, normalize
from cdq.normalize.settings import load_config

REPO = Path(__file__).resolve().parents[1]


def _staging(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c) for c in CANONICAL} for r in rows])
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    frame["issues"] = [r.get("issues", "") for r in rows]
    frame["src:Achternaam"] = [r.get("last_name") for r in rows]
    return frame


def test_reason_docs_are_up_to_date():
    assert (REPO / "docs" / "reason_codes.md").read_text(encoding="utf-8") == reasons.markdown(), (
        "docs/reason_codes.md is stale: regenerate it with cdq.reasons.markdown()"
    )


def test_register_is_stable():
    assert reasons.register("POSTCODE_INVALID", reasons.describe("POSTCODE_INVALID")) == "POSTCODE_INVALID"
    with pytest.raises(ValueError, match="already registered"):
        reasons.register("POSTCODE_INVALID", "something else")
    with pytest.raises(ValueError, match="UPPER_SNAKE"):
        reasons.register("postcode-bad", "lower case")
    assert {"POSTCODE_INVALID", "PHONE_NOT_DIALABLE", "EMAIL_DOMAIN_TYPO", "NAME_INFIX_MOVED"} <= set(
        reasons.REASONS
    )


def test_contract_columns_findings_and_originals():
    frame = _staging(
        [
            {
                "last_name": "VRIES DE",
                "initials": "jp",
                "postcode": "1234ab",
                "phone": "06-12345678",
                "issues": "OLD_CODE",
                "email": "Jan@Gmial.COM",
                "birth_date": "3 maart 1961",
                "house_number": "12a",
            },
            {"company_name": "Bakkerij Jansen bv", "postcode": "0123 AB", "phone": "12345"},
        ]
    )
    original = frame.copy()
    out, findings = normalize(frame)
    pd.testing.assert_frame_equal(frame, original)  # the input is not modified
    assert set(ADDED_COLUMNS) <= set(out.columns) and set(CANONICAL) <= set(out.columns)
    assert list(findings.columns) == FINDINGS
    assert set(findings["reason_code"]) <= set(reasons.REASONS)
    first = out.loc[0]
    assert (first["infix"], first["last_name"], first["initials"]) == ("de", "Vries", "J.P.")
    assert (first["postcode"], first["postcode_pc4"], first["mobile"]) == ("1234 AB", "1234", "+31612345678")
    assert (first["email"], first["email_suggestion"], first["birth_date"]) == (
        "jan@gmial.com",  # lower-cased whole (issue 15)
        "jan@gmail.com",
        "1961-03-03",
    )
    assert (first["house_number"], first["house_letter"]) == ("12", "A")
    assert first["issues"].split(";")[0] == "OLD_CODE" and "EMAIL_DOMAIN_TYPO" in first["issues"]
    assert first["orig:last_name"] == "VRIES DE" and first["orig:postcode"] == "1234ab"
    second = out.loc[1]
    assert (second["party_type"], second["legal_form"]) == ("organisation", "B.V.")
    assert set(second["issues"].split(";")) == {"POSTCODE_INVALID", "PHONE_NOT_DIALABLE", "COUNTRY_DEFAULTED"}
    assert pd.isna(second["orig:last_name"]) and second["postcode"] == "0123 AB"
    assert second["envelope_name"] == "Bakkerij Jansen bv"


def test_findings_rows_name_record_and_value():
    out, findings = normalize(_staging([{"postcode": "1234 SS"}]))
    row = findings[findings["reason_code"] == "POSTCODE_INVALID"].iloc[0]
    assert (row["stage"], row["column"], row["record_id"], row["value"], row["severity"]) == (
        "normalize",
        "postcode",
        "r0",
        "1234 SS",
        "error",
    )


def test_empty_and_partial_frames():
    out, findings = normalize(pd.DataFrame({"record_id": pd.Series([], dtype=object)}))
    assert len(out) == 0 and list(findings.columns) == FINDINGS
    out, _ = normalize(pd.DataFrame({"last_name": ["de Vries"], "postcode": [1234]}))
    assert out.loc[0, "infix"] == "de" and out.loc[0, "issues"] == "NAME_INFIX_MOVED;POSTCODE_INVALID;COUNTRY_DEFAULTED"


def test_idempotent():
    frame = _staging(
        [
            {
                "last_name": "Jansen-de Vries",
                "initials": "A",
                "title": "mevr",
                "postcode": "1234-ab",
                "phone": "+31 (0)6 1234 5678",
                "house_number": "12 hs",
                "email": "a@ZIGGO.nl",
            }
        ]
    )
    once, _ = normalize(frame)
    twice, _ = normalize(once[CANONICAL + ["src:Achternaam"]].assign(issues=""))
    for column in [
        "initials",
        "infix",
        "last_name",
        "postcode",
        "mobile",
        "house_number",
        "house_number_addition",
        "email",
    ]:
        assert once.loc[0, column] == twice.loc[0, column], column


def test_settings_file_errors_name_file_and_key(tmp_path):
    bad = tmp_path / "normalization.yaml"
    bad.write_text("region: NL\nname_convention: french\nunknown_key: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert "name_convention" in str(e.value) and "unknown_key" in str(e.value) and ":2:" in str(e.value)
    assert load_config().belgian is False and load_config(belgian=True).belgian is True


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_clean(tmp_path):
    src = _csv(
        tmp_path / "k.csv",
        "Klantnr;Voorletters;Achternaam;Postcode;Telefoon\n"
        "1;J.P.;de Vries;1234ab;06-12345678\n2;A;Van den Broeck;0123 AB;12345\n",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["clean", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cleaned: 2 rows, 2 with issues" in result.output and "POSTCODE_INVALID" in result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert (
        frame["last_name"].tolist() == ["Vries", "Broeck"] and frame["src:Achternaam"][1] == "Van den Broeck"
    )
    assert (tmp_path / "out.findings.csv").exists()
    result = CliRunner().invoke(app, ["clean", str(src), "--out", str(out), "--belgian"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out, dtype=str, keep_default_na=False)["last_name"].tolist() == [
        "de Vries",
        "Van den Broeck",
    ]


def test_cli_clean_errors(tmp_path):
    result = CliRunner().invoke(
        app, ["clean", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2 and "file not found" in result.output
    src = _csv(tmp_path / "k.csv", "Achternaam\nJansen\n")
    rules = _csv(tmp_path / "r.yaml", "families: [names, horoscope]\n")
    result = CliRunner().invoke(
        app, ["clean", str(src), "--out", str(tmp_path / "o.csv"), "--rules", str(rules)]
    )
    assert result.exit_code == 2 and "families.1" in result.output


def test_clean_has_help():
    result = CliRunner().invoke(app, ["clean", "--help"])
    assert result.exit_code == 0 and "--belgian" in result.output and "--mapping" in result.output
