"""`cdq dedupe` and `cdq evaluate` end to end through the CLI; Febrl accuracy on shared data."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app

runner = CliRunner()

CSV = """Klantnummer;Voornaam;Tussenvoegsel;Achternaam;Postcode;Huisnummer;Geboortedatum;E-mail
K1;Jan;de;Vries;1234 AB;12;01-05-1950;jan@devries.nl
K2;Johannes;;de Vries;1234AB;12;1950-05-01;jan@devries.nl
K3;Marie;de;Vries;1234AB;12;30-11-1952;
K4;Piet;;Bakker;9999ZZ;1;02-02-1960;piet@bakker.nl
"""


def test_dedupe_and_evaluate_cli(tmp_path):
    source = tmp_path / "klanten.csv"
    source.write_text(CSV, encoding="utf-8")
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(out), "--id-column", "Klantnummer"])
    assert result.exit_code == 0, result.output
    clusters = pd.read_csv(out, dtype=str)
    assert sorted(clusters["record_id"]) == ["K1", "K2", "K3", "K4"]
    c = dict(zip(clusters["record_id"], clusters["cluster_id"]))
    assert c["K1"] == c["K2"] != c["K3"] != c["K4"]
    truth = tmp_path / "truth.csv"
    truth.write_text("id,entity\nK1,a\nK2,a\nK3,b\nK4,c\n")
    result = runner.invoke(app, ["evaluate", str(out), "--truth", str(truth), "--truth-id-column", "id",
                                 "--truth-cluster-column", "entity"])
    assert result.exit_code == 0, result.output
    assert "precision 1.0000 recall 1.0000 f1 1.0000" in result.output


def test_dedupe_unknown_id_column_is_usage_error(tmp_path):
    source = tmp_path / "klanten.csv"
    source.write_text(CSV, encoding="utf-8")
    result = runner.invoke(app, ["dedupe", str(source), "--out", str(tmp_path / "c.csv"), "--id-column", "Nope"])
    assert result.exit_code == 2
    assert "Nope" in result.output


def test_evaluate_missing_truth_column(tmp_path):
    clusters = tmp_path / "c.csv"
    clusters.write_text("record_id,cluster_id\n1,1\n")
    truth = tmp_path / "t.csv"
    truth.write_text("id,entity\n1,a\n")
    result = runner.invoke(app, ["evaluate", str(clusters), "--truth", str(truth), "--truth-id-column", "id",
                                 "--truth-cluster-column", "cluster"])
    assert result.exit_code == 2
    assert "cluster" in result.output


@pytest.mark.slow  # an acceptance run over a labelled set: run by .ci/run's second step
def test_febrl3_f1_at_least_099(shared_data):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_linkage import load_febrl, run_cdq

    data = load_febrl(shared_data, "dataset3")
    scores = run_cdq(data)[0]
    assert scores["f1"] >= 0.99
    assert scores["records"] == 5000 and scores["missing_in_predicted"] == 0


def test_same_personal_email_and_birth_date_link_despite_other_first_names() -> None:
    """Fixture customers whose first names differ (Liesbeth / E.K., Leo / LLeonardus, a partner surname)
    but who share a personal e-mail address and an exact birth date are one customer."""
    from helpers import FIXTURES

    from cdq.linkage import dedupe
    from cdq.normalize import normalize
    from cdq.staging import import_inputs

    staged = import_inputs([FIXTURES / "adviseur_jansen.xlsx", FIXTURES / "backoffice_export.csv",
                            FIXTURES / "contacts.vcf"]).staging
    frame, _ = normalize(staged)
    clusters = dedupe(frame).clusters.set_index("record_id")["cluster_id"]
    for email in ("liesbeth.jansen@gmail.com", "vandenheuvel.leo@home.nl", "a.kuiper@outlook.com"):
        ids = frame.loc[frame["email"] == email, "record_id"]
        assert len(ids) >= 2, email
        assert clusters[ids].nunique() == 1, email
