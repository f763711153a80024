"""Annual adviser printouts: Dutch texts, sorting, the PDFs (checked through pdftotext/pdftoppm), the forms.

The round trip (printout from a golden store -> form filled in and re-saved by LibreOffice -> apply) is
in ``test_printouts_roundtrip.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdq import reasons
from cdq.cli.main import app
from cdq.printouts import make_printouts
from cdq.printouts.dutch import STATUSES, issue_texts, problems_nl
from cdq.printouts.forms import CORRECTIONS, headers
from cdq.printouts.sorting import company_core, core_surname, sort_frame, text_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RUN_DATE = dt.date(2025, 3, 4)
runner = CliRunner()
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def pdf_pages(path: Path) -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def test_every_reason_code_has_a_dutch_text() -> None:
    reasons._load_all()
    texts = issue_texts()
    missing = sorted(set(reasons.REASONS) - set(texts))
    assert not missing, f"add Dutch texts to reference_data/issue_texts_nl.yaml for: {missing}"
    assert not sorted(set(texts) - set(reasons.REASONS)), "texts for codes that are not registered"


@pytest.mark.parametrize(("issues", "expected"), [
    ("POSTCODE_INVALID", ["postcode bestaat niet (ongeldige postcode)"]),
    ("NAME_INITIALS_DERIVED;GENDER_DERIVED", []),  # fixes cdq made itself: nothing to check
    ("NAME_TITLE_ONLY;NAME_TITLE_ONLY", ["naam lijkt onvolledig (alleen een aanhef of titel)"]),
    ("SOME_FUTURE_CODE", ["SOME_FUTURE_CODE"]),  # never hidden silently
    (None, []),
])
def test_problems_in_plain_dutch(issues, expected) -> None:
    assert problems_nl(issues) == expected


@pytest.mark.parametrize(("func", "value", "expected"), [
    (core_surname, "de Vries", "Vries"),
    (core_surname, "van der Berg", "Berg"),
    (core_surname, "Van 't Hek", "Hek"),
    (core_surname, "El Amrani", "El Amrani"),  # 'El' is part of the surname
    (company_core, "Bakkerij Jansen B.V.", "Bakkerij Jansen"),
    (company_core, "De Graaf Accountants", "Graaf Accountants"),
    (company_core, "Stichting Het Anker", "Anker"),
    (text_key, "IJzerman", "yzerman"),
    (text_key, "Öztürk", "ozturk"),
])
def test_sort_parts(func, value, expected) -> None:
    assert func(value) == expected


def test_dutch_order_and_grouped_locations() -> None:
    frame = pd.DataFrame({
        "last_name": ["Zwart", "Vries", None, "Dam", "Yildiz", "IJsselmuiden", None],
        "infix": [None, "de", None, "van", None, None, None],
        "first_name": ["A", "B", None, "C", "D", "E", None],
        "company_name": [None, None, "Bakkerij Abel B.V.", None, None, None, "Bakkerij Abel"],
        "kvk_number": [None, None, "12345678", None, None, None, "12345678"],
        "city": [None, None, "Zwolle", None, None, None, "Assen"],
    })
    order = sort_frame(frame)
    names = order["last_name"].fillna(order["company_name"]).tolist()
    assert names == ["Bakkerij Abel", "Bakkerij Abel B.V.", "Dam", "Vries", "Yildiz", "IJsselmuiden", "Zwart"]
    assert order.loc[0, "group_key"] == order.loc[1, "group_key"] == "kvk:12345678"


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("printouts")
    result = runner.invoke(app, ["printouts", str(FIXTURES / "backoffice_export.csv"), "--adviser-column",
                                 "Adviseur", "--out", str(out), "--run-date", RUN_DATE.isoformat()])
    assert result.exit_code == 0, result.output
    assert "wrote 6 PDFs and return forms" in result.output and "123 customers" in result.output
    return out


def test_one_pdf_and_form_per_adviser(printed: Path) -> None:
    advisers = pd.read_csv(FIXTURES / "backoffice_export.csv", sep=";", dtype=str, encoding="latin-1")["Adviseur"]
    expected = {f"controle_{re.sub(r'[^A-Za-z0-9]+', '_', a).strip('_')}" for a in advisers.dropna().unique()}
    expected.add("controle_zonder_adviseur")
    assert {p.stem for p in printed.glob("*.pdf")} == expected
    assert {p.stem for p in printed.glob("*.xlsx")} == expected


@needs_poppler
def test_every_record_on_exactly_one_printout(printed: Path) -> None:
    keys = pd.read_csv(FIXTURES / "backoffice_export.csv", sep=";", dtype=str, encoding="latin-1")["Klantnummer"]
    seen: dict[str, list[str]] = {}
    for pdf in printed.glob("*.pdf"):
        text = "\n".join(pdf_pages(pdf))
        for key in re.findall(r"Sleutel: \S+\|(\d+)", text):
            seen.setdefault(key, []).append(pdf.stem)
    assert sorted(seen) == sorted(keys)
    assert all(len(files) == 1 for files in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}


@needs_poppler
def test_letter_header_footer_and_dutch_problems(printed: Path) -> None:
    pages = pdf_pages(printed / "controle_S_Visser.pdf")
    assert "Geachte S. Visser," in pages[0]
    assert "4 maart 2025" in pages[0]
    for number, page in enumerate(pages, start=1):
        assert "Adviseur: S. Visser" in page and "Rundatum: 4 maart 2025" in page
        assert f"pagina {number} van {len(pages)}" in page
    body = "\n".join(pages[1:])
    assert "postcode bestaat niet" in body  # 7609 SA
    assert all(s in body for s in STATUSES)
    assert "Geachte collega," in pdf_pages(printed / "controle_zonder_adviseur.pdf")[0]


@needs_poppler
def test_customer_blocks_never_split_and_come_in_dutch_order(printed: Path) -> None:
    numbers = []
    for pdf in printed.glob("*.pdf"):
        for page in pdf_pages(pdf)[1:]:
            on_page = re.findall(r"Nr\.\s(\d+)", page)
            assert len(on_page) == page.count("Correcties:") == page.count("Sleutel:"), pdf.name
            numbers += [(pdf.stem, int(n)) for n in on_page]
    for stem in {s for s, _ in numbers}:
        mine = [n for s, n in numbers if s == stem]
        assert mine == list(range(1, len(mine) + 1))


@needs_poppler
def test_organisation_locations_are_grouped(printed: Path) -> None:
    body = "\n".join(pdf_pages(printed / "controle_R_El_Amrani.pdf"))
    assert "De Graaf Accountants: 2 vestigingen" in body


@needs_poppler
def test_page_renders_to_png(printed: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "2", "-l", "2", str(printed / "controle_P_Jansen.pdf"),
                    str(tmp_path / "page")], check=True)
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    info = subprocess.run(["pdfinfo", str(printed / "controle_P_Jansen.pdf")], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)


def test_return_form_rows_validation_and_protection(printed: Path) -> None:
    workbook = load_workbook(printed / "controle_S_Visser.xlsx")
    sheet = workbook["Controle"]
    assert [c.value for c in sheet[1]] == headers()
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert all(str(r[1]).startswith("backoffice_export|") for r in rows)
    assert sheet.protection.sheet
    col = {h: i + 1 for i, h in enumerate(headers())}
    assert sheet.cell(2, col["Sleutel"]).protection.locked
    assert not sheet.cell(2, col["Status"]).protection.locked
    assert all(not sheet.cell(2, col[h]).protection.locked for h in CORRECTIONS)
    (validation,) = sheet.data_validations.dataValidation
    assert validation.formula1 == '"' + ",".join(STATUSES) + '"'
    assert workbook["cdq"].sheet_state == "hidden"


def test_library_call_returns_pdfs(tmp_path: Path) -> None:
    frame = pd.DataFrame({"record_id": ["a", "b", "c"], "adviser": ["X. Een", None, "X. Een"],
                          "last_name": ["Jansen", "Bakker", "de Boer"], "postcode": ["1234AB", "1234 SA", None],
                          "company_name": [None, "Bakkerij & Zn <test>", None]})
    pdfs = make_printouts(frame, "adviser", tmp_path, RUN_DATE)
    assert [p.name for p in pdfs] == ["controle_X_Een.pdf", "controle_zonder_adviseur.pdf"]
    if shutil.which("pdftotext"):
        text = "\n".join(pdf_pages(pdfs[1]))
        assert "Bakkerij & Zn <test>" in text  # escaped, not read as markup


@pytest.mark.parametrize("args", [["printouts", "apply"], ["printouts", "x.csv"], ["printouts", "nope.csv",
                                                                                    "--out", "d"]])
def test_cli_usage_errors(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "error:" in result.output


@pytest.mark.parametrize(("row", "expected"), [
    ({"street": "Veldlaan", "house_number": "34", "postcode": "7530 TE", "city": "Enschede"}, []),
    ({"street": None, "house_number": "76", "postcode": "7009 PF", "city": "Doetinchem"},
     ["adres is onvolledig: straat ontbreekt"]),
    ({"street": "Veldlaan", "house_number": "34", "postcode": None, "city": None},
     ["adres is onvolledig: postcode en woonplaats ontbreken"]),
    ({}, ["adres ontbreekt"]),
])
def test_missing_address_parts_are_named(row, expected) -> None:
    from cdq.printouts.records import missing_parts

    assert missing_parts(row) == expected


@pytest.mark.parametrize("module", ["cdq.printouts", "cdq.printouts.sorting", "cdq.printouts.dutch",
                                    "cdq.printouts.records"])
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
