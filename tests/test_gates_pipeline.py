"""Gates before the store: bad records held with their row references, a stopped run leaves the store as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import ConfigError
from cdq.gates import check_suites

runner = CliRunner()
HEADER = "Klantnummer;Voornaam;Achternaam;Straat;Huisnummer;Postcode;Woonplaats;E-mail"
FIRST = ["Anna", "Bram", "Cor", "Daan", "Eva", "Fleur", "Gijs", "Hanna", "Ivo", "Joost"]
LAST = ["Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters", "Hendriks", "Dekker"]


def export(path: Path, n: int = 50, shifted: tuple[int, ...] = ()) -> Path:
    """``n`` distinct customers; the rows in ``shifted`` have their postcode typed into the city column."""
    rows = [HEADER]
    for i in range(n):
        city = f"{1011 + i} AB" if i in shifted else "Amsterdam"
        postcode = "" if i in shifted else f"{1011 + i} AB"
        rows.append(f"K{i};{FIRST[i % 10]};{LAST[i // 10 % 10]};Kerkstraat;{i + 1};{postcode};{city};"
                    f"c{i}@voorbeeld.nl")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def pipeline(tmp_path: Path, data: Path, policy: str | None = None) -> Path:
    spec = tmp_path / f"p_{data.stem}.yaml"
    spec.write_text(
        f"name: gated\ninputs:\n  - path: {data}\n    source: crm_export\n"
        "store: 'sqlite:///{workdir}/golden.sqlite'\ncrm: 'sqlite:///{workdir}/crm.sqlite'\n"
        + (f"gate_policy: {policy}\n" if policy else "")
        + "stages: [normalize, names, gates, linkage, golden, load, report]\n", encoding="utf-8")
    return spec


#: Lock bookkeeping, not customer data: the writer lock's generation counter and the run-lock row move
#: whenever a run takes and releases the store, also when it then stops.
BOOKKEEPING = {("counters", "generation"), ("store_lock", "golden")}


def dump(db: Path) -> dict[str, list]:
    """Every row of every table (lock bookkeeping left out), to compare a store before and after a run."""
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        out = {t: sorted((tuple(r) for r in conn.execute(sa.text(f'select * from "{t}"')).all()
                          if (t, r[0]) not in BOOKKEEPING), key=repr)
               for t in sa.inspect(conn).get_table_names()}
    engine.dispose()
    return out


def test_a_few_bad_records_are_held_with_their_rows_and_the_rest_is_loaded(tmp_path):
    data = export(tmp_path / "klanten.csv", shifted=(4, 17, 33))
    workdir = tmp_path / "run"
    result = runner.invoke(app, ["run", str(pipeline(tmp_path, data)), "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^loaded: 47 created, 0 updated, 0 merged, 0 unchanged$", result.output, re.M)
    held = pd.read_csv(workdir / "quarantine.csv", dtype=str)
    assert held["reason_code"].tolist() == ["GATE_HELD"] * 3
    assert sorted(held["source_row"].astype(int)) == [6, 19, 35]  # the lines a person sees (header = 1)
    assert held["detail"].str.contains("staging: expect_column_values_to_not_match_regex on city").all()
    engine = sa.create_engine(f"sqlite:///{workdir}/golden.sqlite")
    with engine.connect() as conn:
        refs = set(conn.execute(sa.text("select ref from source_records")).scalars())
        assert conn.execute(sa.text("select status from runs")).scalars().all() == ["ok"]
    assert len(refs) == 47 and not refs & {"crm_export|K4", "crm_export|K17", "crm_export|K33"}
    html = (workdir / "run_report.html").read_text(encoding="utf-8")
    assert "Records held by the gates (3)" in html and "crm_export|19" in html


def test_a_run_that_stops_leaves_the_golden_store_untouched(tmp_path):
    workdir = tmp_path / "run"
    first = runner.invoke(app, ["run", str(pipeline(tmp_path, export(tmp_path / "good.csv"), "stop")),
                                "--workdir", str(workdir)])
    assert first.exit_code == 0, first.output
    before = dump(workdir / "golden.sqlite")
    bad = export(tmp_path / "bad.csv", n=60, shifted=(4, 17, 33, 55))
    second = runner.invoke(app, ["run", str(pipeline(tmp_path, bad, "stop")), "--workdir", str(workdir)])
    assert second.exit_code == 1, second.output
    assert "gate failed" in second.output and "loaded:" not in second.output
    assert dump(workdir / "golden.sqlite") == before  # no new run row, no source record, no golden version


def test_a_failing_golden_gate_rolls_the_batch_back(tmp_path):
    """A check that fails inside merge_batch's transaction leaves nothing behind."""
    from cdq.errors import CheckFailed
    from cdq.golden import merge_batch
    from cdq.store import GoldenStore
    from cdq.survivorship import load_rules

    store = GoldenStore(f"sqlite:///{tmp_path / 'g.sqlite'}")
    frame = pd.DataFrame({"record_id": ["r1", "r2"], "source": ["erp", "erp"], "source_key": ["1", "2"],
                          "last_name": ["Bakker", "Visser"]})
    clusters = pd.DataFrame({"record_id": ["r1", "r2"], "cluster_id": ["a", "b"]})
    seen = []

    def gate(result):
        seen.append(len(result.golden))
        raise CheckFailed("golden gate failed")

    before = dump(tmp_path / "g.sqlite")
    with pytest.raises(CheckFailed):
        merge_batch(frame, clusters, store, load_rules(), 1, check=gate)
    assert seen == [2] and dump(tmp_path / "g.sqlite") == before


def test_a_typo_in_an_expectation_is_a_clear_error_not_a_dropped_check(tmp_path):
    suites = Path(__file__).resolve().parents[1] / "rules" / "expectations"
    for name in ("staging", "golden", "accounting"):
        (tmp_path / f"{name}.json").write_text((suites / f"{name}.json").read_text(encoding="utf-8"), encoding="utf-8")
    text = (tmp_path / "golden.json").read_text(encoding="utf-8")
    text = text.replace("expect_column_values_to_match_regex", "expect_column_values_to_match_regx", 1)
    text = text.replace('"value_set": [true]', '"value_sett": [true]')
    (tmp_path / "golden.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        check_suites(tmp_path)
    message = str(e.value)
    assert "golden.json, line 9: expectations[3] (expect_column_values_to_match_regx): unknown expectation type" \
        in message and "did you mean 'expect_column_values_to_match_regex'" in message
    assert "(expect_column_values_to_be_in_set): invalid parameters: value_set: field required; value_sett: extra fields not permitted" in message
    frame = tmp_path / "golden.csv"
    frame.write_text("golden_id,last_name\nG0000001,Bakker\n", encoding="utf-8")
    cli = runner.invoke(app, ["gates", "check", str(frame), "--suite", "golden", "--suites", str(tmp_path)])
    assert cli.exit_code == 2 and "Traceback" not in cli.output and "match_regx" in cli.output


def test_data_docs_load_nothing_from_another_host(tmp_path):
    data = export(tmp_path / "klanten.csv", shifted=(4,))
    workdir = tmp_path / "run"
    assert runner.invoke(app, ["run", str(pipeline(tmp_path, data)), "--workdir", str(workdir)]).exit_code == 0
    pages = list((workdir / "data_docs").rglob("*.html")) + [workdir / "run_report.html"]
    assert len(pages) >= 4
    remote = re.compile(r"(?:https?:)?//(?!localhost|127\.0\.0\.1)[a-z0-9.-]+\.[a-z]{2,}", re.I)
    namespace = re.compile(r"""xmlns(?::\w+)?=["'][^"']*["']""")  # an XML namespace name is never fetched
    for page in pages + list((workdir / "data_docs").rglob("*.css")):
        found = remote.findall(namespace.sub("", page.read_text(encoding="utf-8", errors="replace")))
        assert not found, f"{page}: {sorted(set(found))[:5]}"
    index = (workdir / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert "staging" in index and "golden" in index  # every suite on the one site


def test_records_behind_a_failing_golden_record_are_held_and_the_batch_merged_again(tmp_path):
    """8% bad postcodes pass the staging suite (mostly 0.9) but not the golden one (mostly 0.95)."""
    data = export(tmp_path / "klanten.csv")
    text = data.read_text(encoding="utf-8").splitlines()
    for i in (3, 11, 27, 40):
        text[i + 1] = text[i + 1].replace(f";{1011 + i} AB;", f";{1011 + i} SA;")
    data.write_text("\n".join(text) + "\n", encoding="utf-8")
    workdir = tmp_path / "run"
    result = runner.invoke(app, ["run", str(pipeline(tmp_path, data)), "--workdir", str(workdir)])
    assert result.exit_code == 0, result.output
    assert re.search(r"^loaded: 46 created, 0 updated, 0 merged, 0 unchanged$", result.output, re.M)
    held = pd.read_csv(workdir / "quarantine.csv", dtype=str)
    assert sorted(held["source_row"].astype(int)) == [5, 13, 29, 42]
    assert held["detail"].str.contains("golden: expect_column_values_to_match_regex on postcode").all()
    engine = sa.create_engine(f"sqlite:///{workdir}/golden.sqlite")
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from source_records")).scalar() == 46
        assert conn.execute(sa.text("select status from runs")).scalars().all() == ["ok"]  # the retry's only
