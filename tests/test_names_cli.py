"""``cdq names check|train`` and ``cdq reference load-names`` through the real CLI."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app

runner = CliRunner()

CSV = ("Klantnummer;Naam;Plaats\n1;J. de Vries;Utrecht\n2;asdfgh;Delft\n3;Bakkerij Jansen B.V.;Gouda\n"
       "4;Fatma Yılmaz;Rotterdam\n5;Dhr.;Zeist\n6;klant 42;Ede\n")


@pytest.fixture()
def isolated(tmp_path, monkeypatch):
    """No user store or model from the machine: the built-in knowledge and model only."""
    monkeypatch.setenv("CDQ_NAMES_STORE", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("CDQ_NAMES_MODEL", str(tmp_path / "model.json.gz"))
    path = tmp_path / "klanten.csv"
    path.write_text(CSV, encoding="utf-8")
    return tmp_path, path


@pytest.mark.parametrize("extra", [[], ["--column", "Naam"]])
def test_names_check_keeps_every_row_and_column(isolated, extra):
    tmp, path = isolated
    out = tmp / "out.csv"
    result = runner.invoke(app, ["names", "check", str(path), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    assert "names: 6 rows, 3 plausible, 3 implausible" in result.output
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["Klantnummer", "Naam", "Plaats", "name_plausibility", "name_plausible",
                                   "name_issues"]
    assert frame["name_plausible"].tolist() == ["True", "False", "True", "True", "False", "False"]
    assert frame.loc[4, "name_issues"] == "NAME_TITLE_ONLY"
    assert "NAME_PLACEHOLDER" in frame.loc[5, "name_issues"]


def test_names_check_unknown_column_is_exit_2(isolated):
    tmp, path = isolated
    result = runner.invoke(app, ["names", "check", str(path), "--out", str(tmp / "o.csv"), "--column", "Nope"])
    assert result.exit_code == 2
    assert "no column 'Nope'" in result.output


def test_names_check_missing_input_is_exit_2(isolated):
    tmp, _ = isolated
    result = runner.invoke(app, ["names", "check", str(tmp / "missing.csv"), "--out", str(tmp / "o.csv")])
    assert result.exit_code == 2


def test_load_names_then_train_then_check_uses_them(isolated):
    tmp, _ = isolated
    surnames = tmp / "surnames.lst"
    surnames.write_text("Xyqorrap\nXyqorrapa\n", encoding="utf-8")
    result = runner.invoke(app, ["reference", "load-names", str(surnames), "--kind", "surname"])
    assert result.exit_code == 0, result.output
    assert "loaded 2 surname names" in result.output
    result = runner.invoke(app, ["names", "train", "--order", "3"])
    assert result.exit_code == 0, result.output
    assert (tmp / "model.json.gz").exists()
    data = tmp / "in.csv"
    data.write_text("Voornaam;Achternaam\nJan;Xyqorrap\n", encoding="utf-8")
    result = runner.invoke(app, ["names", "check", str(data), "--out", str(tmp / "o.csv")])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp / "o.csv")["name_plausibility"].tolist() == [1.0]  # now a known surname


def test_load_names_bad_kind_is_exit_2(isolated):
    tmp, path = isolated
    result = runner.invoke(app, ["reference", "load-names", str(path), "--kind", "middle"])
    assert result.exit_code == 2
    assert "--kind" in result.output
