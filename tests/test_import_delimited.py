"""Delimited-text import: real contact CSV exports, hand-made broken files, detection, the CLI end to end."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cdq.cli.main import app
from cdq.errors import InputError
from cdq.importers.contacts_csv import detect_layout, premap
from cdq.importers.delimited import decode_bytes, detect_delimiter, read_delimited
from cdq.staging import import_inputs, stage

DATA = Path(__file__).parent / "data" / "import"

# file -> (encoding, delimiter, rows, header_row, first headers, layout)
REAL_CSV = {
    "google_legacy_export.csv": ("utf-8", ",", [2], 1, ["Name", "Given Name", "Additional Name"], "google"),
    "outlook_desktop_japanese_export.csv": ("utf-8", ",", [2], 1, ["肩書き", "名", "ミドル ネーム"], None),
    "outlook_email_columns_only.csv": (
        "utf-8",
        ",",
        [2],
        1,
        ["E-mail Address", "E-mail 2 Address"],
        "outlook",
    ),
    "roundcube_generic_bom.csv": (
        "utf-8-sig",
        ",",
        [2],
        1,
        ["Display Name", "Title", "First Name"],
        "outlook",
    ),
    "semicolon_delimited.csv": ("utf-8", ";", [2, 3], 1, ["Display Name", "First Name", "Last Name"], None),
    "tab_comma_mixed_no_header.csv": ("utf-8", "\t", [1, 2, 3, 4], None, ["column_1", "column_2"], None),
    "thunderbird_export.csv": (
        "utf-8",
        ",",
        [2, 3],
        1,
        ["First Name", "Last Name", "Display Name"],
        "thunderbird",
    ),
    "thunderbird_export_tab.txt": ("utf-8", "\t", [2, 3], 1, ["First Name", "Last Name"], "thunderbird"),
    "thunderbird_plain.csv": ("utf-8", ",", [2], 1, ["First Name", "Last Name"], "thunderbird"),
    "thunderbird_quote_crlf.csv": ("utf-8", ",", [2], 1, ["First Name", "Last Name"], "thunderbird"),
    "thunderbird_shiftjis.csv": ("shift_jis", ",", [2], 1, ["First Name", "Last Name"], "thunderbird"),
    "thunderbird_utf16.csv": ("utf-16", ",", [2], 1, ["First Name", "Last Name"], "thunderbird"),
}


def _real_csvs(real_files: Path) -> list[Path]:
    folder = real_files / "contacts_csv"
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".txt"))


def test_every_real_csv_is_covered(real_files):
    assert sorted(p.name for p in _real_csvs(real_files)) == sorted(REAL_CSV)


@pytest.mark.parametrize("name", sorted(REAL_CSV))
def test_real_csv_facts(real_files, name):
    encoding, delimiter, rows, header_row, first_headers, layout = REAL_CSV[name]
    [table] = read_delimited(real_files / "contacts_csv" / name)
    assert table.notes["encoding"] == encoding
    assert table.notes["delimiter"] == delimiter
    assert table.notes["header_row"] == header_row
    assert table.rows == rows
    assert table.rows_in == len(table.frame) + len(table.quarantine)
    assert list(table.frame.columns)[: len(first_headers)] == first_headers
    assert table.notes.get("layout") == layout
    assert all(v is None or isinstance(v, str) for v in table.frame.to_numpy().ravel())


def test_real_csv_every_file_stages(real_files):
    """Every real export goes through staging; rows in = staged + quarantined."""
    paths = _real_csvs(real_files)
    mappable = [
        p
        for p in paths
        if p.name not in ("tab_comma_mixed_no_header.csv", "outlook_desktop_japanese_export.csv")
    ]
    result = import_inputs(mappable)
    assert result.rows_in == len(result.staging) + len(result.quarantine) == 13


def test_thunderbird_quoted_delimiters_tabs_and_newlines(real_files):
    [table] = read_delimited(real_files / "contacts_csv" / "thunderbird_export.csv")
    second = table.frame.iloc[1]
    assert table.rows == [2, 3]
    assert (second["Custom 1"], second["Custom 2"], second["Custom 3"], second["Custom 4"]) == (
        "custom, 1",
        "custom\t2",
        "custom\r3",
        "custom\n4",
    )
    assert second["Job Title"] == '"worker"'
    assert second["Notes"] == "here's some unicode text…"


def test_shiftjis_and_utf16_are_decoded(real_files):
    [sjis] = read_delimited(real_files / "contacts_csv" / "thunderbird_shiftjis.csv")
    assert sjis.frame.iloc[0]["First Name"] == "権兵衛"
    assert sjis.frame.iloc[0]["Primary Email"] == "名無しの権兵衛@host.invalid"
    [utf16] = read_delimited(real_files / "contacts_csv" / "thunderbird_utf16.csv")
    assert utf16.frame.iloc[0][["First Name", "Last Name", "Primary Email"]].tolist() == [
        "John",
        "Doe",
        "johndoe@host.invalid",
    ]
    # the header's trailing comma (then the birth date made of Birth Year/Month/Day)
    assert list(utf16.frame.columns)[-2:] == ["Unnamed 38", "birth_date"]


def test_google_and_outlook_layouts_are_premapped(real_files):
    [google] = read_delimited(real_files / "contacts_csv" / "google_legacy_export.csv")
    assert google.premapped["Given Name"] == "first_name"
    assert google.premapped["E-mail 1 - Value"] == "email"
    staged, _ = stage(google)
    assert staged.loc[0, ["first_name", "last_name", "email"]].tolist() == [
        "Firstname",
        "Lastname",
        "home@aaa.pl",
    ]
    [outlook] = read_delimited(real_files / "contacts_csv" / "roundcube_generic_bom.csv")
    assert outlook.premapped["Middle Name"] == "infix"


@pytest.mark.parametrize(
    "headers, layout",
    [
        (
            ["First Name", "Middle Name", "Last Name", "E-mail Address", "Home Street", "Mobile Phone"],
            "outlook",
        ),
        (
            ["Voornaam", "Middelste naam", "Achternaam", "Huisadres, straat", "Huisadres, postcode"],
            "outlook_nl",
        ),
        (
            [
                "First Name",
                "Middle Name",
                "Last Name",
                "Phonetic First Name",
                "Labels",
                "E-mail 1 - Label",
                "E-mail 1 - Value",
                "Phone 1 - Value",
            ],
            "google",
        ),
        (["Klantnummer", "Voornaam", "Achternaam", "E-mail"], None),
    ],
)
def test_detect_layout(headers, layout):
    assert detect_layout(headers) == layout


def test_dutch_outlook_premap_targets():
    mapped, layout = premap(
        [
            "Voornaam",
            "Middelste naam",
            "Achternaam",
            "Huisadres, straat",
            "Huisadres, postcode",
            "Huisadres, plaats",
            "E-mailadres",
            "Mobiele telefoon",
            "Telefoon thuis",
        ]
    )
    assert layout == "outlook_nl"
    assert mapped == {
        "Voornaam": "first_name",
        "Middelste naam": "infix",
        "Achternaam": "last_name",
        "Huisadres, straat": "street_and_number",
        "Huisadres, postcode": "postcode",
        "Huisadres, plaats": "city",
        "E-mailadres": "email",
        "Mobiele telefoon": "mobile",
        "Telefoon thuis": "phone",
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ('Naam;Adres\n"Jan";"Kerkstraat 1, Utrecht"\n"Piet";"Laan 2, Ede"\n', ";"),
        ('Naam,Adres\n"Jan; de","Kerkstraat 1; Utrecht"\n', ","),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("a|b|c\n1|2|3\n4|5|6\n", "|"),
        ("a;b,c;d\n1;2,5;3\n", ";"),
        ('Naam,Opmerking\n"Jan","regel 1\nregel 2; met puntkomma"\n"Piet","x"\n', ","),
        ("alleen een kolom\nwaarde\n", ","),
    ],
)
def test_detect_delimiter(text, expected):
    assert detect_delimiter(text) == expected


@pytest.mark.parametrize(
    "data, encoding, text",
    [
        ("Zoë;Brüssel".encode("utf-8"), "utf-8", "Zoë;Brüssel"),
        (b"\xef\xbb\xbfZo\xc3\xab", "utf-8-sig", "\ufeffZoë"),
        ("Zoë;€".encode("cp1252"), "cp1252", "Zoë;€"),
        ("Zoë".encode("utf-16"), "utf-16", "Zoë"),
        (b"Zo\xeb;\x81\x8d", "latin-1", "Zoë;\x81\x8d"),  # 0x81/0x8D are undefined in cp1252
        ("名無しの権兵衛".encode("shift_jis"), "shift_jis", "名無しの権兵衛"),
    ],
)
def test_decode_bytes(data, encoding, text):
    decoded, detected = decode_bytes("x.csv", data)
    assert detected == encoding
    assert decoded.lstrip("\ufeff") == text.lstrip("\ufeff")


def test_ragged_rows_quoted_newline_and_blank_line():
    [table] = read_delimited(DATA / "ragged.csv")
    assert table.rows == [2, 5, 6]  # record 3 quarantined, record 4 is a blank line
    assert table.rows_in == 4
    assert table.frame["Klantnummer"].tolist() == ["000001", "000003", "000004"]
    assert table.frame.loc[0, "Adres"] == "Kerkstraat 1;\r\nUtrecht"
    assert table.frame.loc[1, "Adres"] is None  # too few fields: padded
    assert table.frame.loc[2, "Adres"] == "Laan 4"  # trailing empty fields are not "too many"
    q = table.quarantine
    assert q[["source_file", "source_row", "reason_code"]].values.tolist() == [
        [str(DATA / "ragged.csv"), 3, "ROW_TOO_MANY_FIELDS"]
    ]
    assert "row 3 has 4 fields" in q.loc[0, "detail"]


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_unbalanced_quote_quarantines_its_row_and_reads_the_next_rows():
    path = FIXTURES / "broken" / "ragged_rows.csv"
    [table] = read_delimited(path)
    assert table.rows_in == 5  # every physical data record counts
    assert table.frame["Klantnummer"].tolist() == ["1001", "1002", "1005"]
    assert table.frame.loc[2, "Naam"] == "Truus Visser"
    q = table.quarantine
    assert q[["source_row", "reason_code"]].values.tolist() == [
        [4, "ROW_TOO_MANY_FIELDS"],
        [5, "ROW_UNBALANCED_QUOTE"],
    ]
    assert q.loc[1, "raw"] == '1004;"Henk ""de"" Boer;9711 AB;Groningen'
    assert "row 5" in q.loc[1, "detail"]


@pytest.mark.parametrize(
    "body, rows, numbers, quarantined",
    [
        # a legitimate quoted line break in the middle of a record (the last line holds later fields)
        ('1;"Jan\nde";Vries;Ede\n2;Piet;Bos;Epe\n', ["1", "2"], [2, 3], []),
        # a stray quote followed by a whole record, closed by a quote further down
        ('1;"Jan;Vries;Ede\n2;Piet;Bos;Epe\n3;"Kees";Smit;Ede\n', ["2", "3"], [3, 4], [2]),
        # a stray quote before the last line
        ('1;Jan;Vries;Ede\n2;"Piet;Bos;Epe\n3;Kees;Smit;Ede\n', ["1", "3"], [2, 4], [3]),
    ],
)
def test_stray_quote_versus_quoted_line_break(tmp_path, body, rows, numbers, quarantined):
    p = tmp_path / "in.csv"
    p.write_text("Nr;Voornaam;Achternaam;Plaats\n" + body, encoding="utf-8")
    [table] = read_delimited(p)
    assert table.frame["Nr"].tolist() == rows
    assert table.rows == numbers
    assert table.quarantine["source_row"].tolist() == quarantined
    assert table.rows_in == len(rows) + len(quarantined)


def test_cli_unbalanced_quote_counts_every_row(tmp_path):
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(app, ["import", str(FIXTURES / "broken" / "ragged_rows.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 rows in = 3 staged + 2 quarantined" in result.output


def test_no_header_file_gets_generated_headers():
    [table] = read_delimited(DATA / "no_header.csv")
    assert list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert table.notes["no_header"] is True and table.rows == [1, 2]
    assert table.frame["column_3"].tolist() == ["0612345678", "0201234567"]


def test_blank_and_duplicated_headers_are_made_unique():
    [table] = read_delimited(DATA / "blank_headers_dupes.csv")
    assert list(table.frame.columns) == ["Naam", "Unnamed 2", "Naam 2", "E-mail"]


def test_forced_delimiter_and_encoding(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("Naam,Plaats;Land\nJosé,Ede;NL\n".encode("cp1252"))
    [table] = read_delimited(p, delimiter=";", encoding="cp1252")
    assert list(table.frame.columns) == ["Naam,Plaats", "Land"]
    assert table.frame.iloc[0].tolist() == ["José,Ede", "NL"]
    with pytest.raises(InputError, match="cannot decode the file as ascii"):
        read_delimited(p, encoding="ascii")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("empty.csv", "the file is empty"),
        ("random_bytes.csv", "binary data, not delimited text"),
    ],
)
def test_broken_delimited_files_are_rejected(name, problem):
    with pytest.raises(InputError, match=problem) as info:
        read_delimited(DATA / name)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"PK\x03\x04rest-of-a-zip", "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1ole", "OLE2 file"),
        (b"\n\n  \r\n", "the file is empty"),
        # a quote still open at the end of the file: that row is quarantined, the next line is a row
        (b'Naam;Plaats\n"Jan;Ede\n' + b"x" * 10, None),
    ],
)
def test_wrong_format_as_csv(tmp_path, content, problem):
    p = tmp_path / "in.csv"
    p.write_bytes(content)
    if problem is None:
        [table] = read_delimited(p)
        assert table.rows_in == 2 and table.rows == [3]
        assert table.quarantine["reason_code"].tolist() == ["ROW_UNBALANCED_QUOTE"]
        return
    with pytest.raises(InputError, match=problem):
        read_delimited(p)


# --- end to end: a 10,000-row Dutch cp1252 export through `cdq import` ---------------------------------

HEADER = (
    "Klantnummer;Voorletters;Tussenvoegsel;Achternaam;Straat;Huisnummer;Toevoeging;Postcode;Woonplaats;"
    "Telefoon;E-mail;Geboortedatum"
)
LAST = [
    "Jansen",
    "de Vries",
    "Bakker",
    "Müller",
    "Hoëkstra",
    "Dijkstra",
    "Visser",
    "Smit",
    "Meijer",
    "Brouwer",
]
INFIX = ["", "", "van", "de", "van der", "van den", "", "", "", "ter"]
STREET = ["Kerkstraat", "Rue de l'Église", "Dorpsstraat", "Brüggestraat", "Stationsweg", "Hoofdstraat"]
CITY = ["Utrecht", "Zwolle", "Ede", "Gießen", "Ölst", "Groningen", "Hengelo", "Maastricht"]


def _dutch_rows(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        rows.append(
            ";".join(
                [
                    f"{i:06d}",
                    rnd.choice(["J.", "A.B.", "P.", "M.C.", "É."]),
                    rnd.choice(INFIX),
                    rnd.choice(LAST),
                    rnd.choice(STREET),
                    str(rnd.randint(1, 300)),
                    rnd.choice(["", "", "A", "bis", "2hg"]),
                    f"{rnd.randint(1000, 9999)} {rnd.choice(['AB', 'CD', 'XY'])}",
                    rnd.choice(CITY),
                    f"06{rnd.randint(10000000, 99999999)}",
                    f"klant{i}@example.nl",
                    f"{rnd.randint(1, 28):02d}-{rnd.randint(1, 12):02d}-{rnd.randint(1930, 2005)}",
                ]
            )
        )
    return rows


def _write_cp1252(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("\r\n".join([HEADER] + rows) + "\r\n").encode("cp1252"))
    return path


def test_cli_imports_10000_row_dutch_cp1252_file(tmp_path):
    source = _write_cp1252(tmp_path / "klanten.csv", _dutch_rows(10_000, seed=7))
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["import", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "10000 rows in = 10000 staged + 0 quarantined" in result.output
    staged = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(staged) == 10_000
    assert staged["source_key"].iloc[:3].tolist() == ["000001", "000002", "000003"]
    assert staged["source_row"].iloc[:3].tolist() == ["2", "3", "4"]
    for column in [
        "initials",
        "infix",
        "last_name",
        "street",
        "house_number",
        "house_number_addition",
        "postcode",
        "city",
        "phone",
        "email",
        "birth_date",
    ]:
        assert (staged[column] != "").any(), column
    assert staged["phone"].str.startswith("06").all()
    assert set(staged["last_name"]) >= {"Müller", "Hoëkstra"}
    assert "Rue de l'Église" in set(staged["street"])


def test_cli_quarantines_bad_rows_with_file_and_row(tmp_path):
    rows = _dutch_rows(200, seed=3)
    rows[9] += ";onverwacht;veld"  # record 11: too many fields
    rows[49] = ";;;;;;;;;;;" + ";x"  # record 51: too many fields as well
    rows[99] = "000100;;;;;;;;Ede;;;01-01-1990"  # record 101: no name, address or contact
    source = _write_cp1252(tmp_path / "klanten_fout.csv", rows)
    out, quarantine = tmp_path / "out.csv", tmp_path / "q.csv"
    result = CliRunner().invoke(
        app, ["import", str(source), "--out", str(out), "--quarantine", str(quarantine)]
    )
    assert result.exit_code == 0, result.output
    assert "200 rows in = 197 staged + 3 quarantined" in result.output
    q = pd.read_csv(quarantine, dtype=str, keep_default_na=False)
    assert sorted(zip(q["source_row"].astype(int), q["reason_code"], strict=False)) == [
        (11, "ROW_TOO_MANY_FIELDS"),
        (51, "ROW_TOO_MANY_FIELDS"),
        (101, "NO_USABLE_FIELDS"),
    ]
    assert set(q["source_file"]) == {str(source)}


def test_cli_rejects_garbage_with_exit_2(tmp_path):
    result = CliRunner().invoke(
        app, ["import", str(DATA / "random_bytes.csv"), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert "binary data, not delimited text" in result.output
    assert "Traceback" not in result.output


# --- Google Contacts ' ::: ' multi-values --------------------------------------------------------------


def test_google_multi_values_are_split_in_the_fixture():
    [table] = read_delimited(FIXTURES / "google_contacts.csv")
    frame = table.frame
    assert not frame["Phone 1 - Value"].fillna("").str.contains(":::").any()
    row = frame[frame["Phone 1 - Value"] == "0657909075"].iloc[0]
    assert row["other_phones"] == "mobile:0507615952"
    second = frame[frame["Phone 1 - Value"] == "0647436121"].iloc[0]  # Phone 2 (Home) goes to the others too
    assert second["other_phones"] == "home:0306027478"
    assert table.premapped["other_phones"] == "other_phones" and "Phone 2 - Value" not in table.premapped
    staged = stage(table)[0]
    assert set(staged.loc[staged["phone"] == "0657909075", "other_phones"]) == {"mobile:0507615952"}


@pytest.mark.parametrize(
    "cells, expected",
    [
        (
            {"E-mail 1 - Label": "* Home ::: Work", "E-mail 1 - Value": "a@x.nl ::: b@y.nl"},
            {"E-mail 1 - Value": "a@x.nl", "other_emails": "work:b@y.nl"},
        ),
        (
            {"Phone 1 - Label": "Mobile", "Phone 1 - Value": "06 1 ::: 06 2 ::: 050 3",
             "Phone 2 - Label": "Work", "Phone 2 - Value": "010 4 ::: 010 5"},
            {"Phone 1 - Value": "06 1", "other_phones": "mobile:06 2; mobile:050 3; work:010 4; work:010 5"},
        ),
        (
            {"Address 1 - Label": "Home ::: Work", "Address 1 - Formatted": "Laan 1\n1234 AB Ede ::: Weg 2\nEpe",
             "Address 1 - Street": "Laan 1 ::: Weg 2", "Address 1 - City": "Ede ::: Epe",
             "Address 1 - Postal Code": "1234 AB ::: "},
            {"Address 1 - Street": "Laan 1", "Address 1 - City": "Ede", "Address 1 - Postal Code": "1234 AB",
             "Address 1 - Formatted": "Laan 1\n1234 AB Ede", "other_addresses": "work: Weg 2, Epe"},
        ),
        (
            {"Phone 1 - Label": "Mobile", "Phone 1 - Value": "0612345678"},
            {"Phone 1 - Value": "0612345678", "other_phones": None},
        ),
    ],
)
def test_google_multi_values(cells, expected):
    from cdq.importers.contacts_csv import google_multi_values

    out = google_multi_values(pd.DataFrame({k: [v] for k, v in cells.items()}, dtype="object"))
    assert {k: out.loc[0, k] for k in expected} == expected


@pytest.mark.parametrize("rows", [[4.0, 5.0], [4, None], ["4", "5"]])
def test_raw_table_quarantine_rows_are_integers(rows):
    from cdq.importers._tabular import quarantine_frame
    from cdq.importers.base import RawTable

    q = quarantine_frame([{"source_row": r, "reason_code": "ROW_TOO_MANY_FIELDS"} for r in rows])
    table = RawTable(frame=pd.DataFrame(), rows=[], source_file="x.csv", quarantine=q.astype({"source_row": object}))
    assert str(table.quarantine["source_row"].dtype) == "Int64"
    assert table.quarantine["source_row"].tolist()[0] == 4


def test_cli_quarantine_file_has_integer_row_numbers(tmp_path):
    out = tmp_path / "x.csv"
    result = CliRunner().invoke(app, ["import", str(FIXTURES / "broken" / "ragged_rows.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    q = pd.read_csv(tmp_path / "x.quarantine.csv", dtype=str, keep_default_na=False)
    assert q["source_row"].tolist() == ["4", "5"]
