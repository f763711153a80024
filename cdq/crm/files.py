"""Import files a person loads by hand: Salesforce Data Loader CSV and Dynamics 365 import workbook.

Both take golden rows (``golden_frame``: ``golden_id, status, party_type`` + values), keep the active
ones, and write one file per entity through :func:`cdq.export.write_table` (formula-like cells are
neutralised). Salesforce: API field names as headers, for a Data Loader *upsert* on the External ID
field ``CDQ_Golden_Id__c`` (create it on Contact and Account first). Dynamics: display-name headers as
the Data Import wizard maps them automatically, plus the alternate key column ``cdq_goldenid``.

Examples:
    >>> golden = pd.DataFrame({"golden_id": ["G1", "G2"], "status": ["active", "retired"],
    ...     "party_type": ["person", "person"], "first_name": ["Jan", "X"], "last_name": ["Smit", "Y"]})
    >>> salesforce_frame(golden, "person").iloc[0][["CDQ_Golden_Id__c", "FirstName", "LastName"]].tolist()
    ['G1', 'Jan', 'Smit']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cdq.export import write_table
from cdq.normalize.name_lines import surname_as_used

SALESFORCE = {
    "person": ("Contact", {"CDQ_Golden_Id__c": "golden_id", "Salutation": "title", "FirstName": "first_name",
                           "LastName": "last_name", "Email": "email", "Phone": "phone", "MobilePhone": "mobile",
                           "MailingStreet": "street_line", "MailingPostalCode": "postcode",
                           "MailingCity": "city", "MailingCountry": "country", "Birthdate": "birth_date"}),
    "organisation": ("Account", {"CDQ_Golden_Id__c": "golden_id", "Name": "company_name", "Phone": "phone",
                                 "BillingStreet": "street_line", "BillingPostalCode": "postcode",
                                 "BillingCity": "city", "BillingCountry": "country"}),
}
DYNAMICS = {
    "person": ("Contact", {"cdq_goldenid": "golden_id", "First Name": "first_name", "Last Name": "last_name",
                           "Email": "email", "Business Phone": "phone", "Mobile Phone": "mobile",
                           "Address 1: Street 1": "street_line", "Address 1: ZIP/Postal Code": "postcode",
                           "Address 1: City": "city", "Address 1: Country/Region": "country"}),
    "organisation": ("Account", {"cdq_goldenid": "golden_id", "Account Name": "company_name", "Main Phone": "phone",
                                 "Email": "email", "Address 1: Street 1": "street_line",
                                 "Address 1: ZIP/Postal Code": "postcode", "Address 1: City": "city",
                                 "Address 1: Country/Region": "country"}),
}


def _rows(golden: pd.DataFrame, party_type: str) -> pd.DataFrame:
    kind = golden.get("party_type", pd.Series("person", index=golden.index)).fillna("person")
    rows = golden[(golden["status"] == "active") & (kind == party_type)].copy()
    parts = [rows.get(c, pd.Series(None, index=rows.index)).astype("string")
             for c in ("street", "house_number", "house_letter", "house_number_addition")]
    number = parts[1].fillna("") + parts[2].fillna("") + ("-" + parts[3]).fillna("")
    rows["street_line"] = (parts[0].fillna("") + " " + number).str.strip().replace("", None)
    # one surname field: the surname as used ("Hendriks-de Wit"), name use applied
    rows["last_name"] = [surname_as_used(r) for r in rows.to_dict("records")]
    return rows


def _frame(golden: pd.DataFrame, party_type: str, columns: dict[str, str]) -> pd.DataFrame:
    rows = _rows(golden, party_type)
    frame = pd.DataFrame({head: rows.get(field, pd.Series(None, index=rows.index)) for head, field in columns.items()})
    frame = frame.astype(object)  # plain objects: the export neutralises formula-like text in those
    return frame.where(frame.notna(), None).reset_index(drop=True)


def salesforce_frame(golden: pd.DataFrame, party_type: str) -> pd.DataFrame:
    """Data Loader rows (API field names) for ``person`` (Contact) or ``organisation`` (Account)."""
    return _frame(golden, party_type, SALESFORCE[party_type][1])


def write_salesforce_dataloader(golden: pd.DataFrame, folder: str | Path) -> list[Path]:
    """``Contact.csv`` and ``Account.csv`` for a Data Loader upsert on ``CDQ_Golden_Id__c``."""
    return [write_table(salesforce_frame(golden, kind), Path(folder) / f"{obj}.csv")
            for kind, (obj, _) in SALESFORCE.items()]


def write_dynamics_workbook(golden: pd.DataFrame, folder: str | Path) -> list[Path]:
    """``Contact.xlsx`` and ``Account.xlsx`` for the Dynamics 365 Data Import wizard."""
    return [write_table(_frame(golden, kind, cols), Path(folder) / f"{obj}.xlsx", sheet_name=obj)
            for kind, (obj, cols) in DYNAMICS.items()]
