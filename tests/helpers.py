"""Helpers shared by several test modules (test modules never import each other).

Data builders for the CRM tests (``people``, ``nightly``) and for the gates and run report tests
(``clean_staging``, ``planted_staging``, ``golden_of``). Fixtures shared by many modules live in conftest.py.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from cdq.golden import merge_batch
from cdq.survivorship import Rules, load_rules

RULES = load_rules()
#: The bundled rules without their ``require`` checks: lets a test plant an invalid value in a golden record
#: (to see what a CRM does with it), which the real rules keep out.
LENIENT = Rules(tuple(replace(g, require=None) for g in RULES.groups), RULES.source_priority, RULES.outputs)


def people(n, email="p{i}@x.nl", city="Utrecht"):
    rows = [{"record_id": f"r{i}", "source": "erp", "source_key": str(i), "first_name": f"Naam{i}",
             "last_name": "Jansen", "email": email.format(i=i), "city": city, "source_updated_at": "2024-01-01"}
            for i in range(n)]
    rows.append({"record_id": "org", "source": "erp", "source_key": "org", "party_type": "organisation",
                 "company_name": "Bakkerij De Vries", "city": "Utrecht", "source_updated_at": "2024-01-01"})
    return pd.DataFrame(rows)


def nightly(store, staging, clusters=None, rules=RULES):
    clusters = clusters if clusters is not None else pd.DataFrame(
        {"record_id": staging["record_id"], "cluster_id": staging["record_id"]})
    return merge_batch(staging, clusters, store, rules, store.start_run("nightly"))


SOURCES = {"backoffice": 40, "advisers_xls": 30, "outlook": 30}
STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein"]
CITIES = ["Utrecht", "Delft", "Zwolle", "Antwerpen"]


def clean_staging() -> pd.DataFrame:
    """100 cleaned records from three sources, all in canonical formats (made up, not real people)."""
    rows = []
    for source, n in SOURCES.items():
        for i in range(n):
            k = len(rows)
            rows.append({
                "record_id": f"{source}:{i}", "source": source, "source_key": f"K{i}",
                "source_file": f"{source}.csv", "source_row": i + 2,
                "first_name": f"Voornaam{k % 7}", "last_name": f"Achternaam{k % 11}",
                "street": STREETS[k % 4], "house_number": str(k % 90 + 1),
                "postcode": f"{1000 + k * 37 % 8999} {'ABCDEFGH'[k % 8]}{'KLMNPRTV'[k % 8]}",
                "city": CITIES[k % 4], "email": f"klant{k}@voorbeeld.nl", "phone": f"+3130{k:07d}",
                "mobile": f"+316{k:08d}" if k % 3 else None,
                "address_status": ["verified", "completed", "not_found", "corrected"][k % 4],
                "name_plausibility": (k % 10) / 10 + 0.05, "issues": "PHONE_REFORMATTED" if k % 5 == 0 else "",
            })
    return pd.DataFrame(rows)


def planted_staging() -> pd.DataFrame:
    """The clean frame, but the source ``advisers_xls`` has its postcodes in the city column."""
    frame = clean_staging()
    shifted = frame["source"].eq("advisers_xls")
    frame.loc[shifted, "city"] = frame.loc[shifted, "postcode"]
    frame.loc[shifted, "postcode"] = None
    return frame


def golden_of(staging: pd.DataFrame) -> pd.DataFrame:
    golden = staging.drop(columns=["record_id"]).copy()
    golden.insert(0, "golden_id", [f"G{i + 1:07d}" for i in range(len(golden))])
    return golden
