"""stage(): header mapping, combined-field splits, lineage, raw columns, and accounting."""

from __future__ import annotations

import pandas as pd
import pytest

from cdq.columns import CANONICAL, RAW_PREFIX
from cdq.errors import InputError
from cdq.headers import MappingFile
from cdq.importers.base import RawTable
from cdq.staging import stage


def raw(rows: list[dict], **kwargs) -> RawTable:
    frame = pd.DataFrame(rows, dtype=object)
    return RawTable(frame=frame, rows=list(range(2, len(rows) + 2)), source_file="klanten.csv", **kwargs)


def test_dutch_headers_map_and_lineage_is_filled() -> None:
    staging, quarantine = stage(raw([
        {"Klantnummer": "000123", "Voornaam": "Jan", "Achternaam": "Vries", "Tussenvoegsel": "de",
         "Postcode": "1234 AB", "Plaats": "Utrecht", "Adviseur": "Bakker"},
    ]))
    row = staging.iloc[0]
    assert list(staging.columns[: len(CANONICAL)]) == CANONICAL
    assert (row.source_key, row.first_name, row.infix, row.last_name) == ("000123", "Jan", "de", "Vries")
    assert (row.source, row.source_file, row.source_row, row.record_id) == ("klanten", "klanten.csv", 2, "klanten#2")
    assert row.adviser == "Bakker"
    assert row[RAW_PREFIX + "Klantnummer"] == "000123"
    assert quarantine.empty


def test_combined_name_and_address_are_split() -> None:
    staging, _ = stage(raw([{"Naam": "Vries, J.P. de", "Adres": "Kerkstraat 12-A", "Postcode": "1234AB"}]))
    row = staging.iloc[0]
    assert (row.initials, row.infix, row.last_name) == ("J.P.", "de", "Vries")
    assert (row.street, row.house_number, row.house_letter) == ("Kerkstraat", "12", "A")
    assert row[RAW_PREFIX + "Naam"] == "Vries, J.P. de"


def test_company_in_name_column_goes_to_company_name() -> None:
    staging, _ = stage(raw([{"Naam": "Bakkerij Jansen B.V.", "Telefoon": "020-1234567"}]))
    row = staging.iloc[0]
    assert row.company_name == "Bakkerij Jansen B.V."
    assert row.last_name is None


def test_house_number_column_with_letter_is_split() -> None:
    staging, _ = stage(raw([{"Straat": "Dorpsweg", "Huisnummer": "7 hs", "Postcode": "1234AB"}]))
    row = staging.iloc[0]
    assert (row.house_number, row.house_letter, row.house_number_addition) == ("7", None, "HS")


def test_row_without_usable_fields_is_quarantined_with_file_and_row() -> None:
    staging, quarantine = stage(raw([
        {"Klantnummer": "1", "Achternaam": "Jansen"},
        {"Klantnummer": "2", "Achternaam": "  "},
    ]))
    assert len(staging) == 1
    q = quarantine.iloc[0]
    assert (q.source_file, q.source_row, q.reason_code) == ("klanten.csv", 3, "NO_USABLE_FIELDS")
    assert "2" in q.raw


def test_explicit_mapping_wins_and_sets_source() -> None:
    mapping = MappingFile(source="erp", columns={"Nr": "source_key", "Naam": "company_name"})
    staging, _ = stage(raw([{"Nr": "77", "Naam": "Jan de Vries"}]), mapping=mapping)
    row = staging.iloc[0]
    assert (row.source, row.source_key, row.company_name, row.last_name) == ("erp", "77", "Jan de Vries", None)


def test_unrecognised_table_is_an_input_error_naming_headers() -> None:
    with pytest.raises(InputError, match="no column is recognised.*Kleur"):
        stage(raw([{"Kleur": "rood", "Maat": "L"}]))


def test_adapter_premapping_is_used() -> None:
    table = raw([{"EMAIL;PREF": "a@b.nl"}], premapped={"EMAIL;PREF": "email"})
    staging, _ = stage(table)
    assert staging.iloc[0].email == "a@b.nl"


def test_keep_unusable_keeps_the_row_flagged() -> None:
    staging, quarantine = stage(raw([{"Klantnummer": "1", "Achternaam": "Jansen"}, {"Klantnummer": "2"}]),
                                keep_unusable=True)
    assert len(staging) == 2 and quarantine.empty
    assert staging["issues"].tolist() == ["", "NO_USABLE_FIELDS"]


def test_a_notes_sheet_beside_customer_sheets_is_quarantined_not_fatal(tmp_path) -> None:
    from openpyxl import Workbook

    from cdq.staging import import_inputs

    workbook = Workbook()
    customers = workbook.active
    customers.title = "Klanten"
    for row in (["Klantnummer", "Voornaam", "Achternaam"], ["1", "Jan", "Jansen"], ["2", "Els", "Evers"]):
        customers.append(row)
    notes = workbook.create_sheet("Toelichting")
    for row in (["Dit bestand"], ["is een export"], ["van 2026"]):
        notes.append(row)
    workbook.save(tmp_path / "two.xlsx")
    result = import_inputs([tmp_path / "two.xlsx"])
    assert len(result.staging) == 2
    assert result.quarantine["reason_code"].tolist() == ["TABLE_NOT_RECOGNISED"] * 2
    assert result.rows_in == len(result.staging) + len(result.quarantine)


def test_a_single_unrecognised_table_is_still_an_input_error(tmp_path) -> None:
    from cdq.staging import import_inputs

    (tmp_path / "x.csv").write_text("Kleur;Maat\nrood;L\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column is recognised"):
        import_inputs([tmp_path / "x.csv"])


def test_import_accounting_is_one_typed_record_per_table(tmp_path) -> None:
    """ImportResult.tables holds TableCount records (named fields, the adapter's notes beside them); the dict
    form callers used before (``t["rows_in"]``, ``t.get("note_delimiter")``) still reads the same values."""
    from cdq.staging import TableCount, import_inputs

    path = tmp_path / "klanten.csv"
    path.write_text("Voornaam;Achternaam;Email\nJan;Jansen;jan@x.nl\n;;\nPiet;Smit;piet@y.nl\n", encoding="utf-8")
    result = import_inputs([path])
    (t,) = result.tables
    assert isinstance(t, TableCount)
    assert (t.file, t.rows_in, t.staged) == (str(path), result.rows_in, len(result.staging))
    assert t.rows_in == t.staged + t.quarantined and t.staged == 2
    assert t.notes["delimiter"] == ";"
    assert (t["rows_in"], t["source"], t.get("note_delimiter"), t.get("note_nothing", "-")) == (t.rows_in, t.source,
                                                                                                   ";", "-")
    with pytest.raises(KeyError):
        t["nothing"]
