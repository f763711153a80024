"""Issue 15 defect 6: invalid values stay findings, never golden values; survivorship's validity checks are
normalize's own verdicts (one implementation); ISO country codes; e-mail lower-cased."""

from __future__ import annotations

import pandas as pd
import pytest

from cdq.columns import CANONICAL
from cdq.normalize import normalize
from cdq.normalize.dates import parse_date
from cdq.normalize.emails import canonical_emails
from cdq.normalize.phones import canonical_phones
from cdq.survivorship import load_rules, survive
from cdq.survivorship.strategies import CHECKS

RULES = load_rules()
PHONES = ["612345678", "0987 /6543", "+31 20 123 4567", "+31991234567", "0800-1234", "+31 (0)6 1234 5678",
          "06-1234567", "+4930123456", "+3212345678", None]
EMAILS = ["Jan.Jansen@Gmail.com", "jan@@x.nl", "jan@x", "a b@x.nl", "jan@localhost", "x@y.nl.", "p@ziggo.nl",
          None]
DATES = ["31-02-1980", "29-02-1981", "29-02-1980", "1980-13-01", "12-03-1961", "0-0-00", None]


def test_survivorship_checks_are_normalizes_verdicts():
    cand = pd.DataFrame({"phone": PHONES})
    assert CHECKS["phone_valid"](cand, "phone").tolist() == canonical_phones(cand["phone"])["e164"].notna().tolist()
    cand = pd.DataFrame({"email": EMAILS})
    assert CHECKS["email_valid"](cand, "email").tolist() == canonical_emails(cand["email"])["email"].notna().tolist()
    cand = pd.DataFrame({"birth_date": DATES})
    assert CHECKS["date_valid"](cand, "birth_date").tolist() == [parse_date(d)[0] is not None for d in DATES]


def _records(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c) for c in CANONICAL} for r in rows])
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    frame["source"] = "erp"
    frame["issues"] = ""
    return normalize(frame)[0]


def test_invalid_values_are_findings_but_never_golden_values():
    frame = _records([{"first_name": "Jan", "last_name": "Bos", "birth_date": "31-02-1980", "phone": "0987 /6543",
                       "mobile": "06-1234567", "email": "jan@@bos.nl", "other_emails": "nope;jan.bos@ziggo.nl"}])
    assert {"DATE_INVALID", "PHONE_NOT_DIALABLE", "EMAIL_INVALID"} <= set(frame.loc[0, "issues"].split(";"))
    golden, lineage = survive(frame, pd.DataFrame({"record_id": ["r0"], "cluster_id": ["c"]}), RULES)
    row = golden.iloc[0]
    assert row["birth_date"] is None and row["phone"] is None and row["mobile"] is None and row["email"] is None
    assert row["all_emails"] == "other:jan.bos@ziggo.nl"
    assert row["all_phones"] is None


def test_a_valid_value_of_another_record_wins_over_an_invalid_one():
    frame = _records([
        {"last_name": "Bos", "birth_date": "31-02-1980", "phone": "0987 /6543", "source_updated_at": "2025-01-01"},
        {"last_name": "Bos", "birth_date": "28-02-1980", "phone": "020-1234567", "source_updated_at": "2020-01-01"},
    ])
    golden, _ = survive(frame, pd.DataFrame({"record_id": ["r0", "r1"], "cluster_id": ["c", "c"]}), RULES)
    assert (golden.loc[0, "birth_date"], golden.loc[0, "phone"]) == ("1980-02-28", "+31201234567")


@pytest.mark.parametrize("typed,expected", [
    ("Nederland", "NL"), ("NL", "NL"), ("nl", "NL"), ("the Netherlands", "NL"), ("Holland", "NL"), (None, "NL"),
    ("Belgium", "BE"), ("België", "BE"), ("Belgie", "BE"), ("BEL", "BE"), ("Duitsland", "DE"), ("Deutschland", "DE"),
    ("Marokko", "MA"), ("Turkije", "TR"), ("Verenigd Koninkrijk", "GB"), ("UK", "GB"), ("Suriname", "SR"),
])
def test_country_is_an_iso_code(typed, expected):
    frame = _records([{"last_name": "Bos", "street": "Kerkstraat", "house_number": "1", "city": "Ergens",
                       "country": typed}])
    assert frame.loc[0, "country"] == expected


def test_unknown_country_is_kept_and_flagged_and_no_address_gets_no_country():
    frame = _records([{"last_name": "Bos", "city": "Ergens", "country": "Atlantis"},
                      {"last_name": "Bos", "email": "bos@ziggo.nl"}])
    assert frame.loc[0, "country"] == "Atlantis" and "COUNTRY_UNKNOWN" in frame.loc[0, "issues"]
    assert frame.loc[1, "country"] is None


def test_email_is_lower_cased():
    frame = _records([{"last_name": "Bos", "email": " Jan.Jansen@Gmail.COM "}])
    assert frame.loc[0, "email"] == "jan.jansen@gmail.com"
