"""The Excel return form of one adviser: the printout's rows, a status column and correction columns.

Sheet ``Controle``: one row per customer in print order. The key columns (``Nr.``, ``Sleutel``) and the
current values are locked (sheet protection without a password: it prevents accidents, not intent); the
``Status`` column offers :data:`~cdq.printouts.dutch.STATUSES` as a drop-down, and the ``Nieuw(e) ...``
columns take corrections. A hidden sheet ``cdq`` records where the rows came from (input file or golden
store URL), the adviser and the run date, so :mod:`cdq.printouts.apply` can find its way back.
"""

from __future__ import annotations

import datetime as dt
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from cdq.export import safe_cell, safe_sheet, xlsx_text
from cdq.printouts.dutch import STATUSES
from cdq.printouts.layout import Entry
from cdq.store import masked_url

__all__ = ["write_form", "FORM_VERSION", "KEY_COLUMN", "STATUS_COLUMN", "CORRECTIONS", "SHEET", "META_SHEET"]

FORM_VERSION = "cdq-controleformulier/1"
SHEET, META_SHEET = "Controle", "cdq"
KEY_COLUMN, NR_COLUMN, STATUS_COLUMN, NOTE_COLUMN = "Sleutel", "Nr.", "Status", "Opmerking"
#: Correction column header -> the canonical field it corrects (the house number column takes "12A-2").
CORRECTIONS = {
    "Nieuwe straat": "street",
    "Nieuw huisnummer": "house_number_full",
    "Nieuwe postcode": "postcode",
    "Nieuwe plaats": "city",
    "Nieuw telefoon": "phone",
    "Nieuw mobiel": "mobile",
    "Nieuw e-mail": "email",
    "Nieuwe voorletters": "initials",
    "Nieuw tussenvoegsel": "infix",
    "Nieuwe achternaam": "last_name",
    "Nieuwe bedrijfsnaam": "company_name",
}
_CURRENT = ["Naam", "Adres", "Postcode en plaats", "Telefoon", "Mobiel", "E-mail", "Opvallend"]
_WIDTHS = {NR_COLUMN: 6, KEY_COLUMN: 22, "Naam": 30, "Adres": 28, "Postcode en plaats": 24, "Telefoon": 15,
           "Mobiel": 15, "E-mail": 28, "Opvallend": 40, STATUS_COLUMN: 16, NOTE_COLUMN: 30}
_HEAD_FILL = PatternFill("solid", fgColor="1F3A5F")
_EDIT_FILL = PatternFill("solid", fgColor="FFF8DC")


def _text(value: str) -> str | None:
    return value or None


def _current(entry: Entry) -> list:
    contact = dict(entry.contact)
    address = entry.address_lines + ["", ""]
    return [" / ".join(entry.name_lines), address[0], address[1], contact.get("Telefoon"), contact.get("Mobiel"),
            contact.get("E-mail"), "; ".join(entry.problems) or None]


def headers() -> list[str]:
    """The form's column headers in order."""
    return [NR_COLUMN, KEY_COLUMN, *_CURRENT, STATUS_COLUMN, *CORRECTIONS, NOTE_COLUMN]


def _meta(workbook: Workbook, meta: dict) -> None:
    sheet = workbook.create_sheet(META_SHEET)
    for key, value in {"format": FORM_VERSION, **meta}.items():
        sheet.append([key, None if value is None else str(value)])
    safe_sheet(sheet)  # an adviser named =HYPERLINK(...) is text in the hidden sheet too
    sheet.sheet_state = "hidden"


def _style_sheet(sheet, n_rows: int) -> None:
    names = headers()
    editable = {i for i, h in enumerate(names, start=1) if h == STATUS_COLUMN or h in CORRECTIONS or h == NOTE_COLUMN}
    for i, name in enumerate(names, start=1):
        cell = sheet.cell(row=1, column=i)
        safe_cell(cell)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(name, 18)
    unlocked = None  # the first editable cell's style ids, copied to the others as openpyxl's own sheet copy does
    for row in sheet.iter_rows(min_row=2, max_row=n_rows + 1):
        for cell in row:
            if cell.column in editable:
                if unlocked is None:
                    cell.protection = Protection(locked=False)
                    cell.fill = _EDIT_FILL
                    unlocked = copy(cell._style)
                else:  # the same style without hashing a Protection and a fill per cell (a third of the form's time)
                    cell._style = copy(unlocked)
            safe_cell(cell)  # this loop visits every cell of the sheet's rows: safe_sheet's pass, not a second one
    status_col = get_column_letter(names.index(STATUS_COLUMN) + 1)
    choices = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True,
                             showErrorMessage=True, errorTitle="Status",
                             error="Kies: " + ", ".join(STATUSES))
    choices.add(f"{status_col}2:{status_col}{max(n_rows + 1, 2)}")
    sheet.add_data_validation(choices)
    sheet.freeze_panes = "C2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{n_rows + 1}"
    protection = sheet.protection
    protection.sheet = True
    protection.autoFilter = protection.sort = False  # people may still filter (sorting breaks nothing: keys)
    protection.formatColumns = protection.formatRows = False


def write_form(path: str | Path, entries: list[Entry], *, adviser: str | None, source: str, key_kind: str,
               run_date: dt.date) -> Path:
    """Write the return form for one adviser's ``entries`` (the printout's rows, in the same order).

    Args:
        path: the ``.xlsx`` to write.
        entries: the printout entries. adviser: the adviser (None: records without an adviser).
        source: the input file or golden store URL, recorded so corrections find their way back.
        key_kind: ``golden_id`` (store) or ``record_ref`` (file). run_date: the printout's date.
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    sheet.append(headers())
    blank = [None] * (1 + len(CORRECTIONS) + 1)
    for entry in entries:
        sheet.append([entry.nr, xlsx_text(entry.key), *map(xlsx_text, _current(entry)), *blank])
    _style_sheet(sheet, len(entries))
    _meta(workbook, {"source": masked_url(source) if "://" in source else source, "key_kind": key_kind, "adviser": adviser or "",
                     "run_date": run_date.isoformat(), "rows": len(entries)})
    path = Path(path)
    workbook.save(path)
    return path
