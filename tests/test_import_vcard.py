"""vCard import: every real vCard under ../shared/data/real_files/vcard, plus hand-made broken files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdq.errors import InputError
from cdq.importers import read_input
from cdq.importers.vcard import read_vcard
from cdq.staging import import_inputs

DATA = Path(__file__).parent / "data" / "import_mail"

#: file -> (number of cards, {column: value} expected in the first card).
REAL_VCARDS = {
    "android_2.1_cardme_john_doe.vcf": (6, {"email": "john.doe@company.com"}),
    "android_2.1_x_android_custom.vcf": (1, {"first_name": "Roid", "last_name": "Ando", "birth_date": "1975-08-20"}),
    "apple_3.0_utf16be.vcf": (1, {"first_name": "Ǽgean", "last_name": "ĽdaMonté", "country": "Perú"}),
    "apple_addressbook_3.0_ch_photo.vcf": (1, {"company_name": "Apple Computer AG", "city": "Wallisellen-Zürich"}),
    "blackberry_2.1_cardme_john_doe.vcf": (1, {"last_name": "Doe", "mobile": "+96123456789"}),
    "blackberry_2.1_png_photo.vcf": (1, {"email": "forrestgump@walladalla.com", "mobile": "+5555556"}),
    "davdroid_4.0_strange_rev.vcf": (1, {"phone": "+49000000", "other_phones": "fax:+49000000"}),
    "davx5_3.0_allfields_de.vcf": (1, {"full_name": "Ämi Display", "email": "private@example.com"}),
    "evolution_3.0_cardme_john_doe.vcf": (1, {"title": "Mr.", "email": "john.doe@ibm.com", "city": "Albaney"}),
    "evolution_3.0_two_photos.vcf": (1, {"email": "goodlooking@example.com"}),
    "evolution_ximian_qp_label.vcf": (1, {"company_name": "Ximian, Inc.", "phone": "(617) 236-0442"}),
    "fullcontact_4.0.vcf": (1, {"email": "home@example.com", "mobile": "555-555-1113"}),
    "german_4.0_label_param.vcf": (1, {"company_name": "Dummy GmbH", "city": "Bad Homburg"}),
    "gmail_3.0_all_fields.vcf": (1, {"email": "email@example.com", "phone": "5555551111"}),
    "gmail_3.0_cardme_john_doe.vcf": (1, {"first_name": "John", "mobile": "905-555-1234"}),
    "gmail_3.0_list.vcf": (3, {"email": "asmithk@gmail.com", "last_name": "Smith"}),
    "gmail_3.0_single.vcf": (1, {"email": "gdartmouth@hotmail.com", "birth_date": "1960-09-10"}),
    "google_3.0_de.vcf": (2, {"street": "Berliner Str. 85", "postcode": "06789", "city": "Halle"}),
    "ios613_3.0_photo_multiline.vcf": (1, {"company_name": "Smith Auto Repair", "mobile": "(650) 555-1212"}),
    "iphone_ios5_3.0_cardme_john_doe.vcf": (1, {"email": "john.doe@ibm.com", "postcode": "12345"}),
    "japanese_featurephone_2.1_shiftjis_qp.vcf": (1, {"last_name": "安藤", "postcode": "150-8512"}),
    "japanese_nec_2.1_multiple_entry.vcf": (3, {"last_name": "安藤ロイド3", "phone": "9"}),
    "kaddressbook_3.0_logo_de.vcf": (1, {"last_name": "Mustermann", "city": "Dresden", "mobile": "0173 223344"}),
    "kaddressbook_4.0_full.vcf": (1, {"last_name": "Holmes", "phone": "+44-555-555-5555 ext. 5555"}),
    "lotus_notes_3.0_cardme_john_doe.vcf": (1, {"email": "john.doe@ibm.com", "city": "New York"}),
    "macos_10.11_3.0_item_adr.vcf": (1, {"company_name": "SOME COMPANY", "street": "STREET", "city": "CITY"}),
    "macos_addressbook_3.0_cardme_john_doe.vcf": (1, {"email": "john.doe@ibm.com", "mobile": "905-555-1234"}),
    "netscape_mozilla_2.1_lowercase.vcf": (1, {"first_name": "ian", "email": "geiseri@yahoo.com"}),
    "outlook2003_2.1.vcf": (1, {"email": "jdoe@hotmail.com", "city": "Austin", "company_name": "Company, The"}),
    "outlook2007_2.1.vcf": (1, {"email": "mike.angstadt@gmail.com", "street": "222 Broadway"}),
    "outlook_2.1_cardme_john_doe.vcf": (1, {"phone": "(905) 555-1234", "city": "Albaney"}),
    "outlook_2.1_de_photo.vcf": (1, {"title": "Herr", "company_name": "Musterfirma GmbH", "city": "Wiesbaden"}),
    "outlook_2.1_de_three_addresses.vcf": (1, {"street": "Business-Straße 19", "city": "Schaffhausen"}),
    "outlook_2.1_de_windows1252.vcf": (1, {"street": "Lämmerweg 12", "city": "Kleindorf", "postcode": "98765"}),
    "owncloud_3.0_utf8_folding_mid_char.vcf": (1, {"full_name": "βγδεαβγδ1" * 11}),  # folded mid-character
    "rfc2426_example_3.0.vcf": (2, {"email": "Frank_Dawson@Lotus.com", "other_emails": "fdawson@earthlink.net"}),
    "rfc6350_example_4.0.vcf": (1, {"first_name": "Simon", "last_name": "Perreault", "birth_date": "--0203",
                                    "company_name": "Viagenie", "phone": "+1-418-656-9254 ext. 102",
                                    "mobile": "+1-418-262-6501", "postcode": "G1V 2M2",
                                    "email": "simon.perreault@viagenie.ca"}),
    "thebat_2.1_qp_iso8859-2.vcf": (1, {"first_name": "Piotr", "email": "piotr.iksinski@somedomain.com"}),
    "thunderbird_cardbook_3.0_photo.vcf": (1, {"last_name": "Musterfrau", "city": "Grünstadt OT Gelbdorf"}),
    "thunderbird_cardbook_4.0_de.vcf": (2, {"last_name": "Möhrke", "company_name": "KiTa Öhrdingen"}),
    "thunderbird_export_4.0.vcf": (2, {"email": "contact1@invalid", "last_name": "one"}),
    "thunderbird_morefunctions_3.0.vcf": (1, {"email": "doe.john@hotmail.com", "mobile": "555-555-5555"}),
    "vcard_2.1_adr_backslash_continuation_de.vcf": (1, {"street": "Grindelberg 999", "city": "Hamburg"}),
    "vcard_2.1_charset_windows1252.vcf": (1, {"last_name": "Doë", "email": "roundcube@gmail.com"}),
    "vcard_2.1_complicated_qp_photo.vcf": (1, {"last_name": "Gump", "company_name": "Gump Shrimp Co."}),
    "vcard_2.1_greek_windows1253.vcf": (1, {"last_name": "Παπαθανασίου", "city": "Αθήνα"}),
    "vcard_2.1_leading_blank_lines.vcf": (2, {"email": "john.doe@genericemail.invalid"}),
    "vcard_2.1_pref_multiple_org.vcf": (1, {"phone": "2", "other_phones": "home:1; isdn:3",
                                            "email": "test@example.com", "company_name": "Company"}),
    "vcard_2.1_qp_broken_softbreaks.vcf": (5, {"company_name": "Bike Shop"}),
    "vcard_3.0_ansi_windows1252.vcf": (2, {"last_name": "Kinzel", "street": "Berliner Str. 85"}),
    "vcard_3.0_quoted_param_value.vcf": (1, {"first_name": "G", "last_name": "F", "phone": "1"}),
    "vcard_3.0_utf16_bom.vcf": (2, {"last_name": "Kinzel", "email": "email1@wumms.de"}),
    "vcard_4.0_photo_data_uri.vcf": (1, {"full_name": "URI JPEG, version 4.0"}),
    "wab_2.1_qp_utf8.vcf": (1, {"last_name": "Mustermann", "street": "Firmenstraße"}),
    "whatsapp_3.0.vcf": (1, {"phone": "7yy-zzz-xxx", "other_phones": "whatsapp:7yy-zzz-xxx"}),
    "winmo65_2.1.vcf": (1, {"last_name": "Example"}),
}


def test_every_real_vcard_is_listed(real_files):
    assert sorted(p.name for p in (real_files / "vcard").iterdir()) == sorted(REAL_VCARDS)


@pytest.mark.parametrize("name", sorted(REAL_VCARDS))
def test_real_vcard(real_files, name):
    cards, expected = REAL_VCARDS[name]
    table = read_vcard(real_files / "vcard" / name)[0]
    assert table.rows_in == cards
    assert len(table.frame) + len(table.quarantine) == table.rows_in
    assert table.rows == list(range(1, len(table.frame) + 1))
    first = table.frame.iloc[0]
    assert {k: first.get(k) for k in expected} == expected
    assert all(table.premapped[c] in ("street_and_number", "address_line", c) for c in table.premapped)


@pytest.mark.parametrize("name, row, column, value", [
    ("google_3.0_de.vcf", 1, "company_name", "KMS Außenstelle"),
    ("google_3.0_de.vcf", 1, "email", "blablö@blub.com"),
    ("vcard_3.0_ansi_windows1252.vcf", 1, "email", "blablö@blub.com"),
    ("vcard_3.0_utf16_bom.vcf", 1, "other_phones", "homefax:03443-333440"),
    ("vcard_2.1_qp_broken_softbreaks.vcf", 1, "street", "AAAAAAA-AäAAAAA 11"),
    ("vcard_2.1_qp_broken_softbreaks.vcf", 3, "title", "Dr. med."),
    ("vcard_2.1_qp_broken_softbreaks.vcf", 3, "job_title", "Facharzt für Allgemeinmedizin"),
    ("android_2.1_cardme_john_doe.vcf", 4, "email", "bob@company.com"),
    ("gmail_3.0_list.vcf", 2, "email", "dwhite@gmail.com"),
    ("vcard_2.1_adr_backslash_continuation_de.vcf", 0, "other_addresses",
     "home: Hermann v. Brevern, 9999999, Packstation 999, Hamburg, 99999, Deutschland"),
    ("outlook_2.1_de_windows1252.vcf", 0, "source_updated_at", "2023-06-11T14:03:25Z"),
    ("vcard_2.1_pref_multiple_org.vcf", 0, "other_organisations", "Mystery | Poetry"),
    ("vcard_2.1_pref_multiple_org.vcf", 0, "other_emails", "cell:test2@examination.com"),
    ("rfc6350_example_4.0.vcf", 0, "street", "2875 Laurier"),
    ("rfc6350_example_4.0.vcf", 0, "address_extra", "Suite D2-630"),
    ("rfc6350_example_4.0.vcf", 0, "country", "Canada"),
])
def test_real_vcard_values(real_files, name, row, column, value):
    assert read_vcard(real_files / "vcard" / name)[0].frame[column].iloc[row] == value


def test_windows1252_umlauts_through_staging(real_files):
    result = import_inputs([real_files / "vcard" / "outlook_2.1_de_windows1252.vcf"])
    row = result.staging.iloc[0]
    assert (row["first_name"], row["last_name"], row["street"], row["house_number"], row["city"]) == (
        "Ralf", "Rastral", "Lämmerweg", "12", "Kleindorf")
    assert row["record_id"] == "outlook_2.1_de_windows1252#1"
    assert result.accounting_line() == "1 rows in = 1 staged + 0 quarantined"


def test_dutch_card_names_and_street_split(tmp_path):
    f = tmp_path / "nl.vcf"
    f.write_bytes(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Vries;Jan;de;Dhr.;\r\nFN:Jan de Vries\r\nORG:De Vries B.V.\r\n"
        "EMAIL;TYPE=HOME:jan@example.nl\r\nEMAIL;TYPE=WORK,PREF:j.devries@example.com\r\n"
        "TEL;TYPE=CELL:06-12345678\r\nTEL;TYPE=HOME:020-1234567\r\nTEL;TYPE=WORK:010-7654321\r\n"
        "ADR;TYPE=HOME:;;Kerkstraat 12-A;Amsterdam;;1012 AB;Nederland\r\nBDAY:1970-01-31\r\n"
        "UID:klant-42\r\nEND:VCARD\r\n".encode())
    staged = import_inputs([f]).staging.iloc[0]
    assert staged[["title", "first_name", "infix", "last_name", "company_name"]].tolist() == [
        "Dhr.", "Jan", "de", "Vries", "De Vries B.V."]
    assert staged[["email", "other_emails"]].tolist() == ["j.devries@example.com", "home:jan@example.nl"]
    assert staged[["mobile", "phone", "other_phones"]].tolist() == ["06-12345678", "020-1234567", "work:010-7654321"]
    assert staged[["street", "house_number", "house_letter", "postcode", "city"]].tolist() == [
        "Kerkstraat", "12", "A", "1012 AB", "Amsterdam"]
    assert staged[["birth_date", "source_key"]].tolist() == ["1970-01-31", "klant-42"]


@pytest.mark.parametrize("name, cards, staged, quarantined, reasons", [
    ("broken_card_in_middle.vcf", 3, 2, 1, {"VCARD_UNPARSEABLE"}),
    ("truncated_last_card.vcf", 2, 2, 0, set()),
    ("qp_and_garbage_lines.vcf", 2, 1, 1, {"NO_USABLE_FIELDS"}),
])
def test_broken_vcards(name, cards, staged, quarantined, reasons):
    result = import_inputs([DATA / name])
    assert result.rows_in == cards
    assert (len(result.staging), len(result.quarantine)) == (staged, quarantined)
    assert set(result.quarantine["reason_code"]) == reasons


def test_qp_continuation_and_stray_lines():
    table = read_vcard(DATA / "qp_and_garbage_lines.vcf")[0]
    first = table.frame.iloc[0]
    assert first[["first_name", "last_name", "street", "postcode", "city"]].tolist() == [
        "Jürgen", "Müller", "Straße 1, Hinterhaus", "52062", "Aachen"]
    assert first.get("country") is None
    assert table.notes["unreadable_lines"] == 1 and table.notes["lines_outside_cards"] == 1


def test_unparseable_card_keeps_its_ordinal():
    table = read_vcard(DATA / "broken_card_in_middle.vcf")[0]
    assert table.rows == [1, 3]
    assert table.quarantine["source_row"].tolist() == [2]
    assert table.frame["last_name"].tolist() == ["Jansen", "Bakker"]


@pytest.mark.parametrize("content", [b"", b"naam;email\nJan;jan@example.nl\n", b"\x00\x01\x02 binary"])
def test_no_vcard_at_all_is_an_input_error(tmp_path, content):
    f = tmp_path / "x.vcf"
    f.write_bytes(content)
    with pytest.raises(InputError, match="no vCard found"):
        read_vcard(f)


def test_detected_without_extension(tmp_path):
    f = tmp_path / "contacts.dat"
    f.write_bytes(b"\xef\xbb\xbfBEGIN:VCARD\nVERSION:3.0\nFN:Piet Klaassen\nEND:VCARD\n")
    assert read_input(f)[0].frame["full_name"].tolist() == ["Piet Klaassen"]


def test_cli_import_vcard(real_files, tmp_path):
    from cdq.cli.main import app

    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["import", str(real_files / "vcard" / "gmail_3.0_list.vcf"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 rows in = 3 staged + 0 quarantined" in result.output
    text = out.read_text(encoding="utf-8-sig")
    assert "asmithk@gmail.com" in text and "dwhite@gmail.com" in text


def test_cli_rejects_non_vcard(tmp_path):
    from cdq.cli.main import app

    f = tmp_path / "x.vcf"
    f.write_text("hello\n")
    result = CliRunner().invoke(app, ["import", str(f), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "no vCard found" in result.output


def test_quarantine_source_row_is_an_integer(tmp_path):
    """vCard and mailbox quarantines (built by contact_table) carry integer row numbers, never 2.0."""
    table = read_vcard(DATA / "broken_card_in_middle.vcf")[0]
    assert str(table.quarantine["source_row"].dtype) == "Int64"
    from cdq.cli.main import app

    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["import", str(DATA / "broken_card_in_middle.vcf"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    import pandas as pd

    rows = pd.read_csv(tmp_path / "o.quarantine.csv", dtype=str, keep_default_na=False)["source_row"].tolist()
    assert rows and all(r.isdigit() for r in rows)
