"""Writers for the fixture files: each takes varied records and returns where each record landed.

Every writer returns a frame ``table, row, ordinal`` aligned with its input records: ``row`` is the row (or
line) number a person sees when opening the file, ``ordinal`` the record's position among the data records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import quopri
import shutil
import sqlite3
import subprocess
import tempfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def full_address(rec: pd.Series) -> str:
    """"Kerkstraat 12-A" from street, number, letter and addition."""
    tail = "".join(x for x in (rec["house_letter"],) if x)
    extra = f"-{rec['house_number_addition']}" if rec["house_number_addition"] else ""
    return " ".join(x for x in (rec["street"], f"{rec['house_number']}{tail}{extra}") if x).strip()


def display_name(rec: pd.Series, style: int = 0) -> str:
    """A person's name as one field: "J. de Vries", "Jan de Vries" or "Vries, J. de"."""
    first = rec["first_name"] or rec["initials"]
    if style == 2 and rec["infix"]:
        return f"{rec['last_name']}, {first} {rec['infix']}".strip()
    return " ".join(x for x in (first, rec["infix"], rec["last_name"]) if x)


def _excel_number(text: str) -> object:
    """Digits-only values are stored as numbers (what Excel does to a typed phone or house number)."""
    return int(text) if text.isdigit() and len(text) < 15 else (text or None)


def _excel_date(text: str) -> object:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return text or None


def write_adviser_xlsx(records: pd.DataFrame, path: Path, adviser: str) -> pd.DataFrame:
    """A typical adviser sheet: a title, a blank row, Dutch headers on row 3, numbers stored as numbers."""
    from openpyxl import Workbook

    headers = ["Klantnummer", "Aanhef", "Voorletters", "Voornaam", "Tussenvoegsel", "Achternaam", "Straat",
               "Huisnummer", "Toevoeging", "Postcode", "Woonplaats", "Telefoon", "Mobiel", "E-mail",
               "Geboortedatum", "Bedrijfsnaam", "KvK-nummer", "Opmerking"]
    book = Workbook()
    sheet = book.active
    sheet.title = "Klanten"
    sheet.append([f"Klantenoverzicht adviseur {adviser} - peildatum 01-03-2024"])
    sheet.append([])
    sheet.append(headers)
    for _, r in records.iterrows():
        addition = (r["house_letter"] + r["house_number_addition"]) or None
        sheet.append([_excel_number(r["source_key"]), r["title"] or None, r["initials"] or None,
                      r["first_name"] or None, r["infix"] or None, r["last_name"] or None, r["street"] or None,
                      _excel_number(r["house_number"]), addition, r["postcode"] or None, r["city"] or None,
                      _excel_number(r["phone"].replace("-", "")), _excel_number(r["mobile"]), r["email"] or None,
                      _excel_date(r["birth_date"]), r["company_name"] or None, _excel_number(r["kvk_number"]),
                      r.get("note") or None])
        sheet.cell(sheet.max_row, 15).number_format = "DD-MM-YYYY"
    book.properties.created = dt.datetime(2024, 3, 1, 9, 0)
    book.save(path)
    return pd.DataFrame({"table": "Klanten", "row": np.arange(len(records)) + 4, "ordinal": np.arange(len(records)) + 1})


def write_office_copy(records: pd.DataFrame, path: Path, adviser: str) -> pd.DataFrame:
    """An .xls or .ods made the way a person's office suite makes it: LibreOffice converts our xlsx.

    The workbook has two sheets, "Particulier" (persons, with a combined Naam and Adres) and "Zakelijk".
    """
    from openpyxl import Workbook

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is needed for .xls/.ods fixtures: apt-get install libreoffice-calc")
    book = Workbook()
    persons = records[records["party_type"] == "person"]
    orgs = records[records["party_type"] != "person"]
    sheet = book.active
    sheet.title = "Particulier"
    sheet.append(["Relatienr", "Naam", "Adres", "Postcode", "Plaats", "Tel", "Mobiel", "E-mailadres", "Geb. datum"])
    for _, r in persons.iterrows():
        sheet.append([r["source_key"], display_name(r, int(r["source_key"][-1]) % 3), full_address(r),
                      r["postcode"], r["city"], r["phone"], r["mobile"], r["email"], _excel_date(r["birth_date"])])
        sheet.cell(sheet.max_row, 9).number_format = "DD-MM-YYYY"
    zak = book.create_sheet("Zakelijk")
    zak.append(["Relatienr", "Bedrijfsnaam", "Rechtsvorm", "KvK", "Adres", "Postcode", "Plaats", "Telefoon", "E-mail"])
    for _, r in orgs.iterrows():
        zak.append([r["source_key"], r["company_name"], r["legal_form"], _excel_number(r["kvk_number"]),
                    full_address(r), r["postcode"], r["city"], r["phone"], r["email"]])
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / (path.stem + ".xlsx")
        book.save(source)
        target = "xls:MS Excel 97" if path.suffix == ".xls" else "ods"
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                        target, "--outdir", tmp, str(source)], check=True, capture_output=True, timeout=180)
        shutil.copyfile(Path(tmp) / path.name, path)
    table = ["Particulier"] * len(persons) + ["Zakelijk"] * len(orgs)
    rows = list(np.arange(len(persons)) + 2) + list(np.arange(len(orgs)) + 2)
    where = pd.DataFrame({"table": table, "row": rows, "ordinal": np.arange(len(records)) + 1},
                         index=list(persons.index) + list(orgs.index))
    return where.loc[records.index].reset_index(drop=True)


def _csv_text(header: list[str], rows: list[list[str]], delimiter: str, quoting: Literal[0, 1, 2, 3]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _positions(n: int, first_row: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"table": "", "row": np.arange(n) + first_row, "ordinal": np.arange(n) + 1})


def write_backoffice_csv(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The back-office export: semicolons, Windows-1252, combined Naam/Adres, zero-padded numbers, Dutch dates."""
    header = ["Klantnummer", "Naam", "Adres", "Postcode", "Plaats", "Land", "Telefoon", "Mobiel", "E-mail",
              "Geboortedatum", "Bedrijfsnaam", "KvK-nummer", "Adviseur", "Klant sinds"]
    rows = []
    for _, r in records.iterrows():
        birth = r["birth_date"]
        birth = f"{birth[8:10]}-{birth[5:7]}-{birth[:4]}" if len(birth) == 10 else birth
        since = f"{1 + int(r['source_key']) % 28:02d}-{1 + int(r['source_key']) % 12:02d}-{2005 + int(r['source_key']) % 19}"
        rows.append([r["source_key"], display_name(r, int(r["source_key"]) % 3) if r["party_type"] == "person" else "",
                     full_address(r), r["postcode"], r["city"], "Nederland", r["phone"], r["mobile"], r["email"],
                     birth, r["company_name"], r["kvk_number"], r["adviser"], since])
    text = _csv_text(header, rows, ";", csv.QUOTE_MINIMAL)
    path.write_bytes(text.encode("cp1252", errors="replace"))
    return _positions(len(records))


OUTLOOK_HEADERS = ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
                   "Job Title", "Business Street", "Business City", "Business State", "Business Postal Code",
                   "Business Country/Region", "Home Street", "Home City", "Home State", "Home Postal Code",
                   "Home Country/Region", "Business Phone", "Home Phone", "Mobile Phone", "Birthday", "Gender",
                   "E-mail Address", "E-mail Type", "E-mail Display Name", "E-mail 2 Address", "Notes", "Categories"]


def write_outlook_csv(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Outlook's "Comma Separated Values" export (English headers, every field quoted, tussenvoegsel as middle name)."""
    rows = []
    for _, r in records.iterrows():
        b = r["birth_date"]
        birthday = f"{int(b[8:10])}-{int(b[5:7])}-{b[:4]}" if len(b) == 10 and b[8:10].isdigit() else "0-0-00"
        gender = {"M": "Male", "F": "Female"}.get(r["gender"], "Unspecified")
        org = r["party_type"] != "person"
        rows.append([r["title"], r["first_name"] or r["initials"], r["infix"], r["last_name"], "", r["company_name"],
                     "", "", full_address(r) if org else "", r["city"] if org else "", "", r["postcode"] if org else "",
                     "Nederland" if org else "", "" if org else full_address(r), "" if org else r["city"], "",
                     "" if org else r["postcode"], "" if org else "Nederland", r["phone"] if org else "",
                     "" if org else r["phone"], r["mobile"], birthday, gender, r["email"], "SMTP" if r["email"] else "",
                     f"{display_name(r)} ({r['email']})" if r["email"] else "", "", "", "Klanten"])
    path.write_bytes(_csv_text(OUTLOOK_HEADERS, rows, ",", csv.QUOTE_ALL).encode("cp1252", errors="replace"))
    return _positions(len(records))


GOOGLE_HEADERS = ["First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name",
                  "Phonetic Last Name", "Name Prefix", "Name Suffix", "Nickname", "File As", "Organization Name",
                  "Organization Title", "Organization Department", "Birthday", "Notes", "Photo", "Labels",
                  "E-mail 1 - Label", "E-mail 1 - Value", "Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label",
                  "Phone 2 - Value", "Address 1 - Label", "Address 1 - Formatted", "Address 1 - Street",
                  "Address 1 - City", "Address 1 - PO Box", "Address 1 - Region", "Address 1 - Postal Code",
                  "Address 1 - Country", "Address 1 - Extended Address"]


def write_google_csv(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Google Contacts' CSV export (UTF-8, "Phone 1 - Value" style columns, ' ::: ' between multiple values)."""
    rows = []
    for i, (_, r) in enumerate(records.iterrows()):
        phones = [p for p in (r["mobile"], r["phone"]) if p]
        both = i % 4 == 0 and len(phones) == 2  # Google joins several numbers of one label into one cell
        street = full_address(r)
        formatted = f"{street}\n{r['postcode']} {r['city']}\nNL".strip() if street else ""
        rows.append([r["first_name"] or r["initials"], r["infix"], r["last_name"], "", "", "", r["title"], "",
                     r["first_name"] if r["first_name"] != r["initials"] else "", "", r["company_name"], "", "",
                     r["birth_date"], "", "", "* myContacts", "* Home" if r["email"] else "", r["email"],
                     "Mobile" if phones else "", " ::: ".join(phones) if both else (phones[0] if phones else ""),
                     "Home" if len(phones) == 2 and not both else "", phones[1] if len(phones) == 2 and not both else "",
                     "Home" if street else "", formatted, street, r["city"], "", "", r["postcode"],
                     "NL" if street else "", ""])
    path.write_text(_csv_text(GOOGLE_HEADERS, rows, ",", csv.QUOTE_MINIMAL), encoding="utf-8", newline="")
    return _positions(len(records))


def _qp(text: str) -> str:
    return quopri.encodestring(text.encode("utf-8")).decode("ascii").replace("=\n", "")


def _vcard(r: pd.Series, version: str, qp: bool) -> str:
    n = f"{r['last_name']};{r['first_name'] or r['initials']};{r['infix']};{r['title']};"
    fn = display_name(r) or r["company_name"]
    adr = f";;{full_address(r)};{r['city']};;{r['postcode']};Nederland"
    lines = ["BEGIN:VCARD", f"VERSION:{version}"]
    if qp:
        lines += [f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(n)}",
                  f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(fn)}"]
    else:
        lines += [f"N:{n}", f"FN:{fn}"]
    if r["company_name"]:
        lines.append(f"ORG:{r['company_name']}")
    cell, home = ("TEL;CELL", "TEL;HOME;VOICE") if version == "2.1" else ("TEL;TYPE=CELL", "TEL;TYPE=HOME,VOICE")
    for kind, value in ((cell, r["mobile"]), (home, r["phone"])):
        if value:
            lines.append(f"{kind}:{value}")
    for i, email in enumerate(x for x in (r["email"], r.get("email2", "")) if x):
        kind = "EMAIL;INTERNET" if version == "2.1" else ("EMAIL;TYPE=INTERNET,HOME" if i == 0 else "EMAIL;TYPE=INTERNET,WORK")
        lines.append(f"{kind}:{email}")
    if full_address(r):
        lines.append(("ADR;HOME:" if version == "2.1" else "ADR;TYPE=HOME:") + adr)
    if r["birth_date"]:
        lines.append(f"BDAY:{r['birth_date']}")
    lines.append("END:VCARD")
    return "\r\n".join(lines) + "\r\n"


def write_vcards(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """vCard 3.0 cards and some 2.1 cards (phone exports), one name quoted-printable, several TEL/EMAIL."""
    cards = []
    for i, (_, r) in enumerate(records.iterrows()):
        version = "2.1" if i % 3 == 2 else "3.0"
        cards.append(_vcard(r, version, qp=version == "2.1" and not r["last_name"].isascii() or i == 2))
    path.write_text("".join(cards), encoding="utf-8", newline="")
    return _positions(len(records), first_row=1).assign(row=np.arange(len(records)) + 1)


def write_sqlite(records: pd.DataFrame, path: Path) -> pd.DataFrame:
    """An ERP database with a ``klanten`` table (integer keys, one row per customer)."""
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("""create table klanten (klantnr integer primary key, relatietype text, bedrijfsnaam text,
        rechtsvorm text, kvk_nummer text, voorletters text, tussenvoegsel text, achternaam text, straat text,
        huisnummer integer, toevoeging text, postcode text, plaats text, land text, telefoon text, email text,
        gewijzigd_op text)""")
    for _, r in records.iterrows():
        conn.execute("insert into klanten values (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            int(r["source_key"]), "zakelijk" if r["party_type"] != "person" else "particulier",
            r["company_name"] or None, r["legal_form"] or None, r["kvk_number"] or None, r["initials"] or None,
            r["infix"] or None, r["last_name"] or None, r["street"] or None,
            int(r["house_number"]) if r["house_number"].isdigit() else None,
            (r["house_letter"] + r["house_number_addition"]) or None, r["postcode"] or None, r["city"] or None,
            "NL", r["phone"] or None, r["email"] or None, f"2024-02-{1 + int(r['source_key']) % 28:02d} 22:15:00"))
    conn.commit()
    conn.close()
    return pd.DataFrame({"table": "klanten", "row": records["source_key"].astype(int).to_numpy(),
                         "ordinal": np.arange(len(records)) + 1})


ADVISER_DOMAIN = "adviespunt-voorbeeld.nl"


def adviser_address(adviser: str) -> str:
    """"P. Jansen" -> "p.jansen@adviespunt-voorbeeld.nl"."""
    return adviser.lower().replace(" ", "") + "@" + ADVISER_DOMAIN


def _message(sender: str, to: str, subject: str, body: str, when: dt.datetime, key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{key}@{ADVISER_DOMAIN}>"
    msg.set_content(body)
    return msg


def customer_messages(records: pd.DataFrame) -> list[tuple[EmailMessage, list[tuple[str, int]]]]:
    """Mail between customers and their adviser, plus a newsletter from a noreply sender.

    Returns each message with the records it names: ``(role, record position)``.
    """
    out = []
    start = dt.datetime(2024, 2, 5, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    for i, (_, r) in enumerate(records.iterrows()):
        name = display_name(r) or r["company_name"]
        adviser = f"{r['adviser']} <{adviser_address(r['adviser'])}>"
        signature = "\n".join(x for x in (name, full_address(r), f"{r['postcode']} {r['city']}".strip(),
                                          f"Tel: {r['mobile'] or r['phone']}") if x.strip() and x != "Tel: ")
        body = f"Beste {r['adviser']},\n\nMijn adres is gewijzigd, kunt u dat aanpassen?\n\nMet vriendelijke groet,\n{signature}\n"
        when = start + dt.timedelta(days=i, hours=i % 5)
        out.append((_message(f"{name} <{r['email']}>", adviser, "Adreswijziging", body, when, f"m{i}a"),
                    [("from", i)]))
        if i % 2 == 0:
            reply = f"Beste {name},\n\nDank voor uw bericht, wij hebben het aangepast.\n\nGroet,\n{r['adviser']}\n"
            out.append((_message(adviser, f"{name} <{r['email']}>", "RE: Adreswijziging", reply,
                                 when + dt.timedelta(hours=3), f"m{i}b"), [("to", i)]))
    newsletter = _message("Nieuwsbrief <noreply@nieuwsbrief-voorbeeld.nl>", adviser_address("P. Jansen"),
                          "Uw nieuwsbrief van februari", "Dit bericht is automatisch verzonden.\n",
                          start + dt.timedelta(days=40), "news1")
    out.append((newsletter, []))
    return out


def _truth_rows(messages, file: str, records: pd.DataFrame) -> list[dict]:
    rows = []
    for ordinal, (_, named) in enumerate(messages, start=1):
        for role, pos in named:
            rows.append({"file": file, "table": "", "row": ordinal, "ordinal": ordinal, "role": role,
                         "email": records.iloc[pos]["email"], "record": pos})
    return rows


def write_mbox(records: pd.DataFrame, path: Path) -> list[dict]:
    """An mbox (``From `` separated, body lines starting with "From" escaped)."""
    from email.generator import Generator

    messages = customer_messages(records)
    buffer = io.StringIO()
    for msg, _ in messages:
        when = dt.datetime.strptime(msg["Date"], "%a, %d %b %Y %H:%M:%S %z")
        sender = msg["From"].split("<")[-1].rstrip(">")
        buffer.write(f"From {sender} {when.strftime('%a %b %d %H:%M:%S %Y')}\n")
        Generator(buffer, mangle_from_=True, maxheaderlen=78).flatten(msg)
        buffer.write("\n")
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="\n")
    return _truth_rows(messages, path.name, records)


def write_eml_folder(records: pd.DataFrame, folder: Path) -> list[dict]:
    """One .eml file per message (``mail/001_adreswijziging.eml`` ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        old.unlink()
    rows = []
    for ordinal, (msg, named) in enumerate(customer_messages(records), start=1):
        name = f"{ordinal:03d}_{msg['Subject'].lower().replace(':', '').replace(' ', '_')}.eml"
        (folder / name).write_bytes(msg.as_bytes())
        for role, pos in named:
            rows.append({"file": f"{folder.name}/{name}", "table": "", "row": 1, "ordinal": 1, "role": role,
                         "email": records.iloc[pos]["email"], "record": pos})
    return rows


def write_broken(folder: Path, good_xlsx: Path, seed: int) -> None:
    """Files an importer must reject clearly or read partly."""
    from msoffcrypto.format.ooxml import OOXMLFile

    folder.mkdir(parents=True, exist_ok=True)
    data = good_xlsx.read_bytes()
    (folder / "truncated.xlsx").write_bytes(data[: len(data) // 2])
    with open(good_xlsx, "rb") as plain, open(folder / "password_protected.xlsx", "wb") as out:
        OOXMLFile(plain).encrypt("geheim", out)
    (folder / "garbage.csv").write_bytes(np.random.default_rng(seed).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    ragged = ("Klantnummer;Naam;Postcode;Plaats\r\n"
              "1001;Jan de Vries;1234 AB;Amsterdam\r\n"
              "1002;Piet Jansen\r\n"
              "1003;Kees Bakker;3511 AA;Utrecht;extra;velden;hier\r\n"
              '1004;"Henk ""de"" Boer;9711 AB;Groningen\r\n'
              "1005;Truus Visser;2011 AA;Haarlem\r\n")
    (folder / "ragged_rows.csv").write_text(ragged, encoding="utf-8", newline="")
