"""Spreadsheet import: every real workbook, broken/encrypted files, header detection, cell text conversion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import InputError
from cdq.importers.excel import cell_text, detect_header_row, phone_text, read_excel
from cdq.staging import import_inputs

DATA = Path(__file__).parent / "data" / "import"

# file -> {sheet: (header_row, first headers, rows)}
REAL_EXCEL = {
    "biff5_air_quality_export_text_dates.xls": {"worksheet1": (3, ["Date", "Time"], list(range(4, 18)))},
    "deaths_notes_above_header_mac_excel.xls": {
        "arts": (
            5,
            ["Name", "Profession", "Age", "Has kids", "Date of birth", "Date of death"],
            list(range(6, 20)),
        ),
        "other": (5, ["Name", "Profession", "Age"], list(range(6, 20))),
    },
    "deaths_notes_above_header_mac_excel.xlsx": {
        "arts": (
            5,
            ["Name", "Profession", "Age", "Has kids", "Date of birth", "Date of death"],
            list(range(6, 20)),
        ),
        "other": (5, ["Name", "Profession", "Age"], list(range(6, 20))),
    },
    "duplicated_and_unnamed_headers.xlsx": {
        "Sheet1": (1, ["Unnamed 1", "var2", "Unnamed 3", "var2 2"], [2, 3])
    },
    "excel_online_ods_repeated_rows.ods": {
        "Sheet1": (1, ["A", "B"], [2, 3, 6, 8]),
        "Sheet2": (2, ["A", "B"], [3, 4, 7, 9]),
        "Sheet3": (3, ["A", "B"], [4, 5, 8, 10]),
    },
    "german_currency_formats_tabelle1.xlsx": {
        "Tabelle1": (1, ["product", "cost_EUR", "cost_CHF", "cost_mixed"], [2, 3])
    },
    "gnumeric_contact_columns.xlsx": {
        "Sheet1": (1, ["Your Ref #", "Contact Name", "Contact Number", "Address", "City"], [2])
    },
    "google_sheets_export.xlsx": {"iris": (1, ["Sepal.Length", "Sepal.Width"], list(range(2, 152)))},
    "header_on_row9_mac_excel.xlsx": {"Sheet1": (9, ["Columns", "Column A", "Column B", "Column C"], [10])},
    "libreoffice5_dates_1900.xlsx": {"Sheet1": (None, ["column_1", "column_2"], [1])},
    "libreoffice73_dates_times.ods": {"Sheet1": (None, ["column_1", "column_2"], [1, 2, 3, 4])},
    "libreoffice74_merged_cells.ods": {"Sheet1": (1, ["A", "B", "C"], [2, 3])},
    "libreoffice_calc_german_sheetnames_dates.xls": {
        "Blätt1": (None, ["column_1", "column_2"], list(range(1, 11))),
        "ÖÄÜ": (None, ["column_1", "column_2", "column_3"], [1, 3]),
        "Blätt3": (None, ["column_1"], list(range(1, 13))),
        "Formate": (1, ["RED", "RED 2"], [2, 3]),
    },
    "mac_excel_dates_1904.xls": {"Sheet1": (None, ["column_1"], [1])},
    "merged_header_cells_excel.xls": {
        "Sheet1": (1, ["A1", "B1", "C1", "C1 2", "E1", "F1", "G1", "H1"], [3, 4]),
        "Sheet2": (1, ["A1", "B1", "C1", "C1 2", "E1", "F1", "F1 2", "F1 3"], [3, 4]),
    },
    "merged_header_cells_excel.xlsx": {
        "Sheet1": (1, ["A1", "B1", "C1", "C1 2", "E1", "F1", "G1", "H1"], [3, 4]),
        "Sheet2": (1, ["A1", "B1", "C1", "C1 2", "E1", "F1", "F1 2", "F1 3"], [3, 4]),
    },
    "ms_excel_saved_as_ods.ods": {
        "datatypes": (None, ["column_1"], [1, 2, 3, 4, 5, 6]),
        "Sheet1": (None, ["column_1"], [2]),
        "issue2": (None, ["column_1", "column_2"], [1, 2, 3]),
        "issue5": (None, ["column_1"], [1]),
        "issue6": (None, ["column_1"], [1, 2, 3, 4]),
        "spc_chrs": (1, ["&"], [2, 3, 4, 5, 6, 7, 8]),
    },
    "numbers_as_text_mac_excel.xls": {
        "Sheet1": (1, ["number", "number as text", "notes"], [2, 3, 4, 5, 6, 7])
    },
    "numbers_as_text_mac_excel.xlsx": {
        "Sheet1": (1, ["number", "number as text", "notes"], [2, 3, 4, 5, 6, 7])
    },
    "people_sample_text_dates_dmy.xls": {
        "Sheet1": (
            1,
            ["0", "First Name", "Last Name", "Gender", "Country", "Age", "Date", "Id"],
            list(range(2, 11)),
        )
    },
    "skipping_blank_rows_before_header_mac_excel.xls": {
        s: (3, ["var1", "var2"], [5, 7])
        for s in ("two_blank_rows", "occupied_row_and_blank_row", "two_occupied_rows")
    },
    "skipping_blank_rows_before_header_mac_excel.xlsx": {
        s: (3, ["var1", "var2"], [5, 7])
        for s in ("two_blank_rows", "occupied_row_and_blank_row", "two_occupied_rows")
    },
}


def _excel(real_files: Path, name: str) -> Path:
    return real_files / "excel" / name


def test_every_real_workbook_is_covered(real_files):
    assert sorted(p.name for p in (real_files / "excel").iterdir()) == sorted(REAL_EXCEL)


@pytest.mark.parametrize("name", sorted(REAL_EXCEL))
def test_real_workbook_facts(real_files, name):
    tables = read_excel(_excel(real_files, name))
    expected = REAL_EXCEL[name]
    assert [t.table for t in tables] == list(expected)
    for table in tables:
        header_row, first_headers, rows = expected[table.table]
        assert table.notes["sheet"] == table.table
        assert table.notes["header_row"] == header_row
        assert list(table.frame.columns)[: len(first_headers)] == first_headers
        assert table.rows == rows
        assert table.rows_in == len(table.frame) == len(rows)
        assert all(v is None or isinstance(v, str) for v in table.frame.to_numpy().ravel())


def test_header_on_row9(real_files):
    [table] = read_excel(_excel(real_files, "header_on_row9_mac_excel.xlsx"))
    assert table.notes["header_row"] == 9
    assert table.frame.iloc[0].tolist() == ["put data here", "1", "2", "3"]


@pytest.mark.parametrize("name", ["mac_excel_dates_1904.xls", "libreoffice5_dates_1900.xlsx"])
def test_dates_become_iso_in_both_date_systems(real_files, name):
    [table] = read_excel(_excel(real_files, name))
    assert table.frame.iloc[0].tolist() == ["2000-01-01"] * 5


@pytest.mark.parametrize("name", ["numbers_as_text_mac_excel.xlsx", "numbers_as_text_mac_excel.xls"])
def test_numbers_and_numbers_as_text_are_exact_text(real_files, name):
    [table] = read_excel(_excel(real_files, name))
    expected = ["blah blah", "2147483647", "2147483648", "2147483649", "-2147483648", "-2147483649"]
    assert table.frame["number"].tolist() == expected
    assert table.frame["number as text"].tolist() == expected


def test_deaths_dates_booleans_and_numbers(real_files):
    arts = read_excel(_excel(real_files, "deaths_notes_above_header_mac_excel.xlsx"), sheet="arts")[0]
    assert arts.frame.iloc[0].tolist() == [
        "David Bowie",
        "musician",
        "69",
        "TRUE",
        "1947-01-08",
        "2016-01-10",
    ]


def test_text_dates_stay_as_typed(real_files):
    [table] = read_excel(_excel(real_files, "people_sample_text_dates_dmy.xls"))
    assert table.frame["Date"].iloc[0] == "15/10/2017"
    assert table.frame[["First Name", "Id"]].iloc[0].tolist() == ["Dulce", "1562"]


def test_ods_datetimes_and_german_sheet_names(real_files):
    [ods] = read_excel(_excel(real_files, "libreoffice73_dates_times.ods"))
    assert ods.frame["column_1"].tolist()[:3] == ["2021-01-01", "2021-01-01 10:10:10", "10:10:10"]
    sheets = read_excel(_excel(real_files, "libreoffice_calc_german_sheetnames_dates.xls"))
    blatt = sheets[0]
    assert blatt.frame.iloc[:2].values.tolist() == [["Huber", "1907-07-03"], ["Äcker", "2005-02-23"]]
    assert blatt.frame["column_2"].iloc[3] == "06:34:00"


def test_every_real_workbook_stages_or_is_rejected_clearly(real_files):
    """Through staging, a workbook without customer columns is an InputError naming the headers."""
    result = import_inputs(
        [
            _excel(real_files, "gnumeric_contact_columns.xlsx"),
            _excel(real_files, "people_sample_text_dates_dmy.xls"),
        ]
    )
    assert result.rows_in == 10 == len(result.staging) + len(result.quarantine)
    assert result.staging["first_name"].iloc[1] == "Dulce"
    with pytest.raises(InputError, match="no column is recognised"):
        import_inputs([_excel(real_files, "google_sheets_export.xlsx")])


@pytest.mark.parametrize(
    "name, problem",
    [
        ("truncated.xlsx", "damaged or truncated"),
        ("password_protected.xlsx", "password-protected"),
        ("random_bytes.xlsx", "not an Excel or OpenDocument workbook"),
        ("empty.xlsx", "the file is empty"),
        ("csv_named.xlsx", "this is a text file"),
    ],
)
def test_broken_workbooks_are_rejected(name, problem):
    with pytest.raises(InputError, match=problem) as info:
        read_excel(DATA / name)
    assert "\n" not in str(info.value)


def test_cli_rejects_encrypted_workbook_with_exit_2(tmp_path):
    result = CliRunner().invoke(
        app, ["import", str(DATA / "password_protected.xlsx"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert "password-protected" in result.output


def test_unknown_sheet_is_an_input_error():
    with pytest.raises(InputError, match="no sheet 'Nope'"):
        read_excel(DATA / "good_small.xlsx", sheet="Nope")


def test_phone_leading_zero_and_postcode_and_customer_number():
    [table] = read_excel(DATA / "good_small.xlsx")
    first = table.frame.iloc[0]
    assert (first["Klantnummer"], first["Telefoon"], first["Postcode"]) == ("000001", "0612345601", "1001")


def _workbook(
    tmp_path: Path, rows: list[list[object]], merges: tuple[str, ...] = (), name: str = "in.xlsx"
) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for ref in merges:
        ws.merge_cells(ref)
    path = tmp_path / name
    wb.save(path)
    return path


def test_title_rows_merged_two_level_header_and_phone_recovery(tmp_path):
    path = _workbook(
        tmp_path,
        [
            ["Klantenoverzicht adviseur Jansen"],
            ["Stand per 1 januari"],
            [],
            ["Naam", "Adres", None, "Telefoon", "Mobiel", "Postcode", "Bedrag"],
            [None, "Straat", "Huisnummer", None, None, None, None],
            ["Jan de Vries", "Kerkstraat", 12, 201234567, 612345678.0, 1234, 12.5],
            [],
            ["Els Bakker", "Laan", 3, "0301234567", 31612345678, 9999, 1e20],
        ],
        merges=("B4:C4", "A4:A5", "D4:D5", "E4:E5", "F4:F5", "G4:G5"),
    )
    [table] = read_excel(path)
    assert table.notes["header_row"] == 4
    assert list(table.frame.columns) == [
        "Naam",
        "Straat",
        "Huisnummer",
        "Telefoon",
        "Mobiel",
        "Postcode",
        "Bedrag",
    ]
    assert table.rows == [6, 8]
    assert table.frame.iloc[0].tolist() == [
        "Jan de Vries",
        "Kerkstraat",
        "12",
        "0201234567",
        "0612345678",
        "1234",
        "12.5",
    ]
    assert table.frame.iloc[1].tolist() == [
        "Els Bakker",
        "Laan",
        "3",
        "0301234567",
        "31612345678",
        "9999",
        "100000000000000000000",
    ]


def test_header_row_override_and_sheet_selection(tmp_path):
    path = _workbook(tmp_path, [["a", "b"], ["Naam", "Plaats"], ["Jan", "Ede"]])
    [table] = read_excel(path, header_row=2, sheet="Sheet")
    assert list(table.frame.columns) == ["Naam", "Plaats"]
    assert table.rows == [3]


def test_empty_workbook_is_rejected(tmp_path):
    with pytest.raises(InputError, match="no data"):
        read_excel(_workbook(tmp_path, []))


def test_ods_written_by_pandas_keeps_text(tmp_path):
    path = tmp_path / "klanten.ods"
    pd.DataFrame(
        {"Klantnummer": ["000123"], "Telefoon": [612345678], "Geboortedatum": [dt.datetime(1980, 5, 17)]}
    ).to_excel(path, index=False, engine="odf")
    [table] = read_excel(path)
    assert table.frame.iloc[0].tolist() == ["000123", "0612345678", "1980-05-17"]


@pytest.mark.parametrize(
    "value, text",
    [
        (612345678.0, "612345678"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),
        (2**53 + 2.0, "9007199254740994"),
        (-7, "-7"),
        (False, "FALSE"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        (dt.time(8, 30), "08:30:00"),
        (dt.datetime(1999, 12, 31, 23, 59, 59, 900), "1999-12-31 23:59:59"),
        (float("nan"), None),
        ("  ", None),
        ("#N/A", "#N/A"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


@pytest.mark.parametrize(
    "value, text",
    [
        (612345678, "0612345678"),
        (101234567.0, "0101234567"),
        (912345678, "912345678"),
        (61234567, "61234567"),
        ("612345678", "612345678"),
        (None, None),
    ],
)
def test_phone_text_only_restores_certain_zeros(value, text):
    assert phone_text(value) == text


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([(1, ["Naam", "E-mail"]), (2, ["Jan", "j@x.nl"])], 1),
        ([(1, ["Export 2024"]), (2, ["Naam", "E-mail", "Plaats"]), (3, ["Jan", "j@x.nl", "Ede"])], 2),
        ([(1, ["jan@x.nl", "Jan"]), (2, ["piet@x.nl", "Piet"])], None),
        ([(1, [1, "a"]), (2, [2, "b"])], None),
        (
            [(1, [1, 2]), (2, ["Naam", "Plaats"]), (3, ["Jan", "Ede"])],
            None,
        ),  # numbers above: not a notes block
    ],
)
def test_detect_header_row(rows, expected):
    assert detect_header_row(rows) == expected


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_formula_without_cached_value_keeps_its_text():
    [table] = read_excel(FIXTURES / "adviseur_jansen.xlsx")
    row = table.frame.iloc[table.rows.index(40)]
    assert row["Opmerking"] == '=HYPERLINK("http://voorbeeld.invalid","klik")'


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("=HYPERLINK(\"https://x.invalid\",\"a & b\")", "=HYPERLINK(\"https://x.invalid\",\"a & b\")"),
        ("=1+1", "=1+1"),  # openpyxl writes no cached value: the formula text, not an empty cell
        ("gewone tekst", "gewone tekst"),
        (None, None),
    ],
)
def test_formula_cells_written_without_cache(tmp_path, cell, expected):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Naam", "Opmerking", "Extra"])
    ws.append(["Jan", cell, "x"])
    ws["E5"] = "=A2"  # a formula in an otherwise empty row is read as well
    path = tmp_path / "f.xlsx"
    book.save(path)
    [table] = read_excel(path)
    assert table.frame.loc[0, "Opmerking"] == expected
    assert table.rows[-1] == 5
