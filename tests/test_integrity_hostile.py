"""Hostile input and mistakes (issue 16, defects 2-8): every command stays up, prints no value, writes valid files.

The hostile file has a NUL in a field, a vertical tab, a terminal escape sequence, byte-order marks in the
middle of the file, a form feed, a 70,000-character field, a 250-character adviser name, an adviser named
like a formula, and two advisers whose names sanitise to one file name.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdq.cli.main import app

runner = CliRunner()
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
#: Values of the hostile file that no message may print (they would be customer data).
SECRET_VALUES = ["Xantippe", "Quirinus", "kees@x.nl"]


def hostile_csv(folder: Path) -> Path:
    long = "X" * 70_000
    rows = [
        "Klantnummer;Voornaam;Achternaam;Adres;Postcode;Plaats;E-mail;Adviseur",
        "K1;Jan\x00;Xantippe\x0bJansen;Kerkstraat 1;1234 AB;Amsterdam;jan@x.nl;M. Jansen",
        "K2;Piet;\x1b[31mBakker\x1b[0m;Dorpsstraat 2;2345 BC;Utrecht;piet@x.nl;M Jansen",
        "\ufeffK3;Anna;de Vries\ufeff;Laan 3;3456 CD;Leiden;anna@x.nl;" + "A" * 250,
        f"K4;Quirinus;{long};Weg 4;4567 DE;Delft;kees@x.nl;=HYPERLINK(\"http://evil\")",
        "K5;Els;Smit\x00\x00;Plein 5\x0c;5678 EF;Gouda;els@x.nl;M. Jansen",
        "K6;Bob;Brood;Straat 6;6789 FG;Ede;bob@x.nl;" + "B" * 40 + " " + "y" * 2000,
    ]
    path = folder / "hostile.csv"
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return path


def _ok(result, *allowed: int) -> str:
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in (allowed or (0,)), text
    assert "Traceback" not in text and "unexpected error" not in text, text
    for value in SECRET_VALUES:
        assert value not in text, f"a customer value was printed: {value}"
    assert not CONTROL.search(text)
    return text


def _valid_csv(path: Path) -> pd.DataFrame:
    raw = path.read_text(encoding="utf-8")
    assert not CONTROL.search(raw), f"{path.name} holds a control character"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _valid_xlsx(path: Path) -> list[list]:
    workbook = load_workbook(path)  # openpyxl refuses invalid cells on write; reading back proves the file
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name}!{sheet.title}{cell.coordinate} is a formula"
                if isinstance(cell.value, str):
                    assert not CONTROL.search(cell.value) and len(cell.value) <= 32_767
                    cells.append(cell.value)
    return cells


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_cleans_control_characters_once_with_reason_codes(tmp_path, suffix):
    out = tmp_path / f"staged{suffix}"
    _ok(runner.invoke(app, ["import", str(hostile_csv(tmp_path)), "--out", str(out)]))
    frame = _valid_csv(out) if suffix == ".csv" else pd.read_excel(out, dtype=str).fillna("")
    if suffix == ".xlsx":
        _valid_xlsx(out)
    by_key = frame.set_index("source_key")
    assert by_key.loc["K1", "first_name"] == "Jan" and "NUL_REMOVED" in by_key.loc["K1", "issues"]
    assert by_key.loc["K1", "last_name"] == "Xantippe Jansen"
    assert "CONTROL_CHARACTER_REPLACED" in by_key.loc["K1", "issues"]
    assert by_key.loc["K2", "last_name"] == "Bakker"
    assert by_key.loc["K3", "last_name"] == "de Vries"
    # A 70,000-character surname or a 2,041-character adviser is no real value: quarantined, with a reason.
    assert "K4" not in by_key.index and "K6" not in by_key.index
    quarantine = _valid_csv(out.with_name(out.stem + ".quarantine.csv"))
    long = quarantine[quarantine["reason_code"] == "FIELD_TOO_LONG"]
    assert long["source_row"].tolist() == ["5", "7"] and long["column"].tolist() == ["last_name", "adviser"]
    assert len(frame) + len(quarantine) == 6  # nothing lost


def test_clean_and_dedupe_write_valid_files(tmp_path):
    path = hostile_csv(tmp_path)
    _ok(runner.invoke(app, ["clean", str(path), "--out", str(tmp_path / "clean.xlsx")]), 0, 1)
    _valid_xlsx(tmp_path / "clean.xlsx")
    _ok(runner.invoke(app, ["dedupe", str(path), "--out", str(tmp_path / "clusters.xlsx")]))
    _valid_xlsx(tmp_path / "clusters.xlsx")
    _ok(runner.invoke(app, ["dedupe", str(path), "--out", str(tmp_path / "clusters.csv")]))
    assert len(_valid_csv(tmp_path / "clusters.csv")) == 6


def test_printouts_of_hostile_advisers_one_file_each_valid_and_neutralised(tmp_path):
    out = tmp_path / "printouts"
    _ok(runner.invoke(app, ["printouts", str(hostile_csv(tmp_path)), "--adviser-column", "Adviseur",
                            "--out", str(out)]))
    summary = _valid_csv(out / "overzicht.csv")
    assert summary["pdf"].is_unique and len(summary) == 5  # M. Jansen and M Jansen: two printouts
    assert int(summary["customers"].astype(int).sum()) == 6  # every customer on a printout
    for name in summary["pdf"]:
        assert len(name.encode()) <= 100
        assert (out / name).read_bytes().startswith(b"%PDF")
    for form in summary["form"]:
        cells = _valid_xlsx(out / form)  # the hidden cdq sheet too: the formula adviser is text
        assert not any(str(c).startswith("http://evil") for c in cells)


def test_printouts_apply_only_writes_to_the_store_the_user_names(tmp_path):
    from cdq.printouts.apply import _target_store

    form = tmp_path / "controle.xlsx"
    meta = {"key_kind": "golden_id", "source": f"sqlite:///{tmp_path / 'evil.sqlite'}"}
    with pytest.raises(Exception, match="name the store to apply it to"):
        _target_store(form, meta, None)
    with pytest.raises(Exception, match="was printed from golden store"):
        _target_store(form, meta, f"sqlite:///{tmp_path / 'golden.sqlite'}")
    assert _target_store(form, meta, meta["source"]) == meta["source"]


def _pipeline(folder: Path, store: str, crm: str | None, stages: str, inputs: list[Path]) -> Path:
    path = folder / "p.yaml"
    lines = [f"  - path: \"{p}\"" for p in inputs]
    path.write_text("name: hostile\ninputs:\n" + "\n".join(lines) + f"\nstore: \"{store}\"\n"
                    + (f"crm: \"{crm}\"\n" if crm else "crm: null\n") + f"stages: {stages}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_hostile_file_through_store_and_crm_on_sqlite_and_postgresql(tmp_path, backend, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'g.sqlite'}"
    crm = url if backend == "postgresql" else f"sqlite:///{tmp_path / 'crm.sqlite'}"
    pipeline = _pipeline(tmp_path, url, crm, "[normalize, linkage, golden, load, export]", [hostile_csv(tmp_path)])
    text = _ok(runner.invoke(app, ["run", str(pipeline), "--workdir", str(tmp_path / "w")]))
    assert "loaded:" in text
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        data = [r[0] for r in conn.execute(sa.text("select data from golden_records"))]
        payloads = [r[0] for r in conn.execute(sa.text("select payload from source_records"))]
    engine.dispose()
    assert len(data) == 4  # 6 rows, the two with a runaway field quarantined
    for text in data + payloads:
        assert "\\u0000" not in text and "\\u000b" not in text and "\\u001b" not in text
    _valid_xlsx(tmp_path / "w" / "golden_records.xlsx")
    _valid_csv(tmp_path / "w" / "quarantine.csv")


def test_rich_markup_in_a_header_is_text_in_the_error(tmp_path):
    path = tmp_path / "markup.csv"
    path.write_text("[/bold];[red]x\nwaarde;andere\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(path), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2, result.output
    assert "[/bold]" in result.output and "Traceback" not in result.output


def test_an_unexpected_error_prints_no_value(tmp_path, monkeypatch):
    import cdq.cli.commands.imports as imports

    def boom(*_args, **_kwargs):
        raise ValueError("Xantippe Jansen, Kerkstraat 1")

    monkeypatch.setattr(imports, "import_inputs", boom)
    result = runner.invoke(app, ["import", str(hostile_csv(tmp_path)), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "ValueError" in result.output and "Xantippe" not in result.output


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize(("umask", "expected"), [(None, 0o600), ("007", 0o660)])
def test_files_holding_personal_data_are_private(tmp_path, umask, expected):
    fixtures = Path(__file__).parents[1] / "fixtures"
    pipeline = _pipeline(tmp_path, "sqlite:///{workdir}/golden.sqlite", "sqlite:///{workdir}/crm.sqlite",
                         "[normalize, linkage, golden, load, export, report]", [fixtures / "backoffice_export.csv"])
    before = os.umask(0o022)
    try:
        prefix = ["--umask", umask] if umask else []
        _ok(runner.invoke(app, [*prefix, "run", str(pipeline), "--workdir", str(tmp_path / "w")]))
        _ok(runner.invoke(app, [*prefix, "printouts", str(fixtures / "backoffice_export.csv"),
                                "--adviser-column", "Adviseur", "--out", str(tmp_path / "p")]))
    finally:
        os.umask(before)
    modes = {**_modes(tmp_path / "w"), **{f"p/{k}": v for k, v in _modes(tmp_path / "p").items()}}
    for name in ("golden.sqlite", "crm.sqlite", "golden_records.xlsx", "xref.csv", "run_report.html"):
        assert name in modes
    assert any(k.endswith(".pdf") for k in modes) and any(k.endswith(".xlsx") for k in modes)
    # Nobody but the owner (default) or the owner's group (--umask 007) may read any of them.
    wrong = {k: oct(v) for k, v in modes.items() if v & ~expected or not v & 0o400}
    assert not wrong, wrong


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_sql_import_is_read_only(tmp_path, backend, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{tmp_path / 'v.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table victim (naam varchar(40))"))
        conn.execute(sa.text("insert into victim values ('Jan Jansen')"))
    sep = "&" if "?" in url else "?"
    for query in ("DROP TABLE victim", "SELECT 1; DROP TABLE victim", "DELETE FROM victim",
                  "WITH d AS (DELETE FROM victim RETURNING *) SELECT * FROM d"):
        result = runner.invoke(app, ["import", f"{url}{sep}query={query}", "--out", str(tmp_path / "x.csv")])
        assert result.exit_code == 2, (query, result.output)
        assert "Traceback" not in result.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from victim")).scalar_one() == 1
    engine.dispose()


def test_credential_query_parameters_are_refused_before_any_stage(tmp_path):
    from cdq.crm.registry import credential_params

    for url in ("hubspot+https://api.example/?pat=abc", "teamleader+https://x/?api-key=abc",
                "hubspot+https://x/?private_app_token=abc", "dynamics+https://x/?bearer=abc",
                "postgresql://db/crm?sslpassword=abc"):
        assert credential_params(url), url
        pipeline = _pipeline(tmp_path, "sqlite:///{workdir}/golden.sqlite", url, "[normalize, linkage, golden, load]",
                             [Path(__file__).parents[1] / "fixtures" / "backoffice_export.csv"])
        result = runner.invoke(app, ["run", str(pipeline), "--workdir", str(tmp_path / "w")])
        assert result.exit_code == 2, result.output
        assert "abc" not in result.output
        assert not (tmp_path / "w" / "golden.sqlite").exists()  # refused before the golden merge
    assert credential_params("postgresql://db/crm?sslmode=require&sslkey=/k.pem&options=-csearch_path%3Dx") == []


def test_a_store_url_with_a_scheme_typo_does_not_print_its_password(tmp_path):
    from cdq.errors import UsageError
    from cdq.store import GoldenStore

    with pytest.raises(UsageError) as caught:
        GoldenStore("postgresq://cdq:Geheim123@db/golden")
    assert "Geheim123" not in str(caught.value) and "***" in str(caught.value)


def test_crm_state_from_the_url_or_environment_is_honoured(tmp_path, monkeypatch):
    from cdq.crm.registry import target_from_url

    monkeypatch.setenv("CDQ_CRM_TOKEN", "t")
    in_url = f"sqlite:///{tmp_path / 'from_url.sqlite'}"
    target = target_from_url(f"bottlecrm+http://127.0.0.1:9?state={in_url}", state="sqlite:///ignored.sqlite")
    assert str(target.state.engine.url) == in_url
    monkeypatch.setenv("CDQ_CRM_STATE", f"sqlite:///{tmp_path / 'from_env.sqlite'}")
    target = target_from_url("bottlecrm+http://127.0.0.1:9", state="sqlite:///ignored.sqlite")
    assert str(target.state.engine.url).endswith("from_env.sqlite")


def test_address_reference_is_built_once_atomically_and_reused(tmp_path):
    from cdq.address import AddressStore
    from cdq.resources import resource
    from cdq.stages import built_reference

    source = tmp_path / "bag.csv"
    source.write_bytes(Path(resource("reference_data", "demo_bag.csv")).read_bytes())
    built = tmp_path / "w" / "address_reference.sqlite"
    first = built_reference(source, built).stat().st_ino
    assert built_reference(source, built).stat().st_ino == first  # reused, not rebuilt
    os.utime(source, ns=(1, 1))
    assert built_reference(source, built).stat().st_ino != first  # the source changed: rebuilt, renamed in
    assert sorted(p.name for p in built.parent.iterdir()) == ["address_reference.sqlite",
                                                              "address_reference.sqlite.source.json"]
    AddressStore.open(built).close()


def test_two_threads_building_one_reference_never_see_half_of_it(tmp_path):
    import threading

    from cdq.address import AddressStore
    from cdq.resources import resource
    from cdq.stages import built_reference

    source = Path(resource("reference_data", "demo_bag.csv"))
    built = tmp_path / "address_reference.sqlite"
    errors: list[BaseException] = []

    def build() -> None:
        try:
            for _ in range(3):
                store = AddressStore.open(built_reference(source, built))
                assert store.conn.execute("select count(*) from meta").fetchone()[0] > 0
                store.close()
                built.with_name(built.name + ".source.json").unlink(missing_ok=True)  # force a rebuild
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.postgres
def test_concurrent_first_opens_of_an_empty_postgresql_store(pg_url):
    import threading

    from cdq.store import GoldenStore

    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            GoldenStore(pg_url).engine.dispose()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_a_field_taller_than_a_page_is_cut_with_a_marker_not_a_crash(tmp_path):
    import datetime as dt

    from cdq.printouts.layout import CUT, Entry, render_pdf

    tall = " ".join(["Jansen"] * 4000)  # ~28,000 characters: hundreds of lines in the name column
    entry = Entry(1, "erp|K1", [tall], ["Kerkstraat 1", "1234 AB  AMSTERDAM"], [("E-mail", "x" * 5000)],
                  problems=["y " * 3000])
    pages = render_pdf(tmp_path / "p.pdf", "M. Jansen", "M. Jansen " * 40, [entry], dt.date(2025, 1, 1))
    assert pages == 2  # the cover letter and one page for the customer
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(tmp_path / "p.pdf"), "-"], capture_output=True, text=True).stdout
        assert CUT.strip() in text.replace("\n", " ")
