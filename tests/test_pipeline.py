"""Pipeline definitions: every bundled YAML validates; batch cleanse and nightly runs do what they promise."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import ConfigError
from cdq.pipeline import load_pipeline
from conftest import REPO

runner = CliRunner()
PIPELINES = sorted((REPO / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("path", PIPELINES, ids=[p.stem for p in PIPELINES])
def test_bundled_pipelines_validate(path) -> None:
    spec = load_pipeline(path)
    assert spec.inputs and spec.stages


def test_pipeline_errors_name_file_line_and_key(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: x\ninputs:\n  - path: a.csv\nstages: [normalize, teleport]\nextra: 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_pipeline(path)
    message = str(error.value)
    assert f"{path}:4: stages.1" in message and "teleport" in message
    assert f"{path}:5: extra" in message


def test_cdq_run_with_a_bad_pipeline_exits_2_without_traceback(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: x\ninputs: []\nstages: [teleport]\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "teleport" in result.output


def test_batch_cleanse_writes_the_clean_list_and_accounts_for_every_row(tmp_path) -> None:
    result = runner.invoke(app, ["run", str(REPO / "pipelines" / "batch_cleanse.yaml"), "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    golden = pd.read_excel(tmp_path / "golden_records.xlsx", dtype=str)
    xref = pd.read_csv(tmp_path / "xref.csv", dtype=str)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype=str)
    assert golden["golden_id"].is_unique and set(xref["golden_id"]) == set(golden["golden_id"])
    rows_in = int(re.search(r"│ rows in\s+│ (\d+)", result.output).group(1))
    assert rows_in == len(xref) + len(quarantine)
    assert "loaded:" not in result.output  # a batch cleanse does not load a CRM


def test_nightly_twice_changes_nothing_the_second_time(tmp_path) -> None:
    pipeline = str(REPO / "pipelines" / "nightly.yaml")
    first = runner.invoke(app, ["run", pipeline, "--workdir", str(tmp_path)])
    second = runner.invoke(app, ["run", pipeline, "--workdir", str(tmp_path)])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    created = int(first.output.strip().splitlines()[-1].split()[1])
    assert second.output.strip().splitlines()[-1] == f"loaded: 0 created, 0 updated, 0 merged, {created} unchanged"


def test_dry_run_loads_nothing(tmp_path) -> None:
    pipeline = str(REPO / "pipelines" / "nightly.yaml")
    result = runner.invoke(app, ["run", pipeline, "--workdir", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^Would create \d+ / update 0 / merge 0 records", result.output, re.M)
    assert "loaded:" not in result.output
    engine = sa.create_engine(f"sqlite:///{tmp_path}/crm.sqlite")
    for table in ("contacts", "accounts"):
        if sa.inspect(engine).has_table(table):
            with engine.connect() as conn:
                assert conn.execute(sa.text(f"select count(*) from {table}")).scalar() == 0
