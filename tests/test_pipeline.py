"""Pipeline definitions: every bundled YAML validates; batch cleanse and nightly runs do what they promise."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa
from helpers import REPO
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import ConfigError
from cdq.pipeline import load_pipeline

runner = CliRunner()
PIPELINES = sorted((REPO / "pipelines").glob("*.yaml"))


@pytest.mark.parametrize("path", PIPELINES, ids=[p.stem for p in PIPELINES])
def test_bundled_pipelines_validate(path) -> None:
    spec = load_pipeline(path)
    assert spec.inputs and spec.stages


def test_every_stage_a_pipeline_may_name_is_registered_once() -> None:
    from typing import get_args

    from cdq.pipeline import StageName
    from cdq.stages import STAGES

    assert sorted(STAGES) == sorted(["import", *get_args(StageName)])
    assert all(callable(stage) and stage.__name__ == f"stage_{name}" for name, stage in STAGES.items())


def test_a_golden_stage_without_linkage_stops_with_a_clear_error(tmp_path) -> None:
    path = tmp_path / "p.yaml"
    (tmp_path / "a.csv").write_text("voornaam;achternaam;postcode\nJan;Bos;1234AB\n", encoding="utf-8")
    path.write_text("name: x\ninputs:\n  - path: a.csv\nstages: [normalize, golden]\ncrm: null\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(path), "--workdir", str(tmp_path / "w")])
    assert result.exit_code == 2, result.output
    assert "needs the stage 'linkage' before it" in result.output


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
    rows_in = int(re.search(r"^(\d+) rows in = \d+ staged \+ \d+ quarantined$", result.output, re.M).group(1))
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


def test_planted_problem_fails_the_gate_loads_nothing_and_the_report_says_why(tmp_path) -> None:
    """A source whose postcodes were shifted into the city column must stop the nightly run before the load."""
    rows = ["Klantnummer;Voornaam;Achternaam;Straat;Huisnummer;Postcode;Woonplaats"]
    for i in range(60):
        rows.append(f"{i};Jan{i};Jansen{i};Kerkstraat;{i + 1};;{1011 + i} AB")  # postcode sits in Woonplaats
    export = tmp_path / "shifted.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        f"name: planted\ninputs:\n  - path: {export}\nstore: 'sqlite:///{{workdir}}/golden.sqlite'\n"
        "crm: 'sqlite:///{workdir}/crm.sqlite'\nstages: [normalize, names, gates, linkage, golden, load, report]\n",
        encoding="utf-8",
    )
    workdir = tmp_path / "run"
    result = runner.invoke(app, ["run", str(pipeline), "--workdir", str(workdir)])
    assert result.exit_code == 1, result.output
    assert "gate failed" in result.output and "city" in result.output and "nothing was written" in result.output
    assert "loaded:" not in result.output
    crm = sa.create_engine(f"sqlite:///{workdir}/crm.sqlite")
    assert not any(sa.inspect(crm).has_table(t) for t in ("contacts", "accounts")) or all(
        pd.read_sql(f"select count(*) n from {t}", crm)["n"].iat[0] == 0 for t in ("contacts", "accounts"))
    html = (workdir / "run_report.html").read_text(encoding="utf-8")
    assert "FAILED" in html and "city" in html
    assert (workdir / "data_docs" / "index.html").exists()


def test_annual_verification_writes_one_printout_and_form_per_adviser(tmp_path) -> None:
    result = runner.invoke(app, ["run", str(REPO / "pipelines" / "annual_verification.yaml"),
                                 "--workdir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    overview = pd.read_csv(tmp_path / "printouts" / "overzicht.csv", dtype=str)
    pdfs = sorted(p.name for p in (tmp_path / "printouts").glob("*.pdf"))
    assert len(pdfs) == len(overview) >= 5 and sorted(overview["pdf"]) == pdfs
    assert all((tmp_path / "printouts" / f).exists() for f in overview["form"])
    golden = sa.create_engine(f"sqlite:///{tmp_path}/golden.sqlite")
    with golden.connect() as conn:
        active = conn.execute(sa.text("select count(*) from golden_records where status = 'active'")).scalar()
    assert overview["customers"].astype(int).sum() == active


def _contacts_pipeline(tmp_path, export) -> str:
    pipeline = tmp_path / "contacts.yaml"
    pipeline.write_text(
        f"name: contacts\ninputs:\n  - path: {export}\n    source: outlook\nstore: 'sqlite:///{{workdir}}/golden.sqlite'\n"
        "crm: 'sqlite:///{workdir}/crm.sqlite'\nstages: [normalize, names, linkage, golden, load]\n", encoding="utf-8")
    return str(pipeline)


def test_keyless_export_losing_a_row_changes_no_other_customer(tmp_path) -> None:
    """Contacts exports have no customer number: a shifted row must not hand golden ids to other people."""
    export = tmp_path / "in" / "outlook_contacts.csv"
    export.parent.mkdir()
    lines = (REPO / "fixtures" / "outlook_contacts.csv").read_bytes().split(b"\r\n")
    export.write_bytes(b"\r\n".join(lines))
    pipeline = _contacts_pipeline(tmp_path, export)
    first = runner.invoke(app, ["run", pipeline, "--workdir", str(tmp_path / "w")])
    created = int(LOADED.findall(first.output)[-1][0])
    export.write_bytes(b"\r\n".join([lines[0], *lines[2:]]))  # the first customer left the export
    moved = tmp_path / "elsewhere"
    export.parent.rename(moved)  # ... and the export now lives in another folder
    second = runner.invoke(app, ["run", _contacts_pipeline(tmp_path, moved / "outlook_contacts.csv"),
                                 "--workdir", str(tmp_path / "w")])
    assert second.exit_code == 0, second.output
    assert LOADED.findall(second.output)[-1] == ("0", "0", "0", str(created))


LOADED = re.compile(r"^loaded: (\d+) created, (\d+) updated, (\d+) merged, (\d+) unchanged$", re.M)


@pytest.mark.slow  # the whole nightly on PostgreSQL: .ci/run's second step (the default run: nightly twice on SQLite, the
# PostgreSQL store and CRM in the [postgres] cases of test_store, test_crm and test_organisations)
@pytest.mark.postgres
def test_nightly_on_postgresql_store_and_crm(tmp_path, pg_url) -> None:
    """The PostgreSQL path end to end: golden store and CRM tables in one PostgreSQL schema."""
    text = (REPO / "pipelines" / "nightly.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^store: .*$", f"store: '{pg_url}'", text, flags=re.M)
    text = re.sub(r"^crm: .*$", f"crm: '{pg_url}'", text, flags=re.M)
    pipeline = tmp_path / "nightly_pg.yaml"
    pipeline.write_text(text.replace('"{fixtures}', f'"{REPO}/fixtures').replace(
        '"{reference_data}', f'"{REPO}/reference_data'), encoding="utf-8")
    first = runner.invoke(app, ["run", str(pipeline), "--workdir", str(tmp_path / "w")])
    assert first.exit_code == 0, first.output
    created = int(LOADED.findall(first.output)[-1][0])
    assert created > 50
    second = runner.invoke(app, ["run", str(pipeline), "--workdir", str(tmp_path / "w")])
    assert LOADED.findall(second.output)[-1] == ("0", "0", "0", str(created))
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        in_crm = sum(conn.execute(sa.text(f"select count(*) from {t}")).scalar()
                     for t in ("contacts", "accounts", "organisations"))
        golden = sum(conn.execute(sa.text(f"select count(*) from {t} where status = 'active'")).scalar()
                     for t in ("golden_records", "golden_organisations"))
    assert in_crm == golden == created


def test_full_extract_soft_deletes_a_customer_missing_from_the_next_export(tmp_path) -> None:
    export = tmp_path / "outlook_contacts.csv"
    lines = (REPO / "fixtures" / "outlook_contacts.csv").read_bytes().split(b"\r\n")
    export.write_bytes(b"\r\n".join(lines))
    pipeline = tmp_path / "full.yaml"
    pipeline.write_text(
        f"name: full\ninputs:\n  - path: {export}\n    source: outlook\n    full_extract: true\n"
        "store: 'sqlite:///{workdir}/golden.sqlite'\ncrm: 'sqlite:///{workdir}/crm.sqlite'\n"
        "stages: [normalize, names, linkage, golden, load]\n", encoding="utf-8")
    workdir = tmp_path / "w"
    assert runner.invoke(app, ["run", str(pipeline), "--workdir", str(workdir)]).exit_code == 0
    export.write_bytes(b"\r\n".join([lines[0], *lines[2:]]))  # the first contact was deleted in Outlook
    second = runner.invoke(app, ["run", str(pipeline), "--workdir", str(workdir)])
    assert second.exit_code == 0, second.output
    created, updated, merged, _ = LOADED.findall(second.output)[-1]
    assert (created, merged) == ("0", "0")
    store = sa.create_engine(f"sqlite:///{workdir}/golden.sqlite")
    with store.connect() as conn:
        deleted_sources = conn.execute(sa.text("select count(*) from source_records where deleted_run is not null")).scalar()
    assert deleted_sources == 1
