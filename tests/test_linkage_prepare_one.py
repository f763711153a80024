"""``prepare_one`` (one record, no frame: the service's path) derives exactly what ``prepare`` derives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdq.linkage.prepare import prepare, prepare_one
from cdq.synthetic import generate_records

ODD = [
    {"first_name": "J.P.", "initials": "J.P.", "last_name": "Jansen-de Vries", "infix": "van", "birth_date": "00-04-1956",
     "email": "Info@Bakkerij.NL", "phone": "+31 6 1234 5678", "street": "Kerkstraat 12a", "house_number": None},
    {"first_name": "onbekend", "last_name": "-", "birth_date": "1956", "email": "geen@geen.nl", "mobile": "0612345678",
     "house_number": 7, "postcode": "1234 ab", "city": "'s-Gravenhage", "company_name": "Koninklijke Philips N.V."},
    {"first_name": "Zoë Anne", "last_name": "Müller", "gender": "V", "birth_date": "1992-00-08", "kvk_number": "KvK 4192 1471",
     "issues": "EMAIL_ROLE_ADDRESS", "email": "jan.de.vries+crm@x.nl", "bag_address_id": "0363200000081086"},
    {"first_name": float("nan"), "last_name": None, "email": "not an address", "phone": "12", "street": "3320 W. Evergreen Ave."},
    {"company_name": "B.V.", "initials": "abcdefg", "house_number": "nr 12", "city": "--", "birth_date": "n/a"},
    {},
]


def _records(shared: Path | None) -> pd.DataFrame:
    frames = [generate_records(400, seed=4), pd.DataFrame(ODD)]
    if shared is not None:
        fake = pd.read_csv(shared / "splink" / "fake_1000.csv", dtype=str, keep_default_na=False)
        frames.append(fake.rename(columns={"surname": "last_name", "dob": "birth_date"}).head(300))
        febrl = pd.read_csv(shared / "febrl" / "dataset3.csv", dtype=str, skipinitialspace=True).head(300)
        frames.append(febrl.rename(columns={"given_name": "first_name", "surname": "last_name", "street_number":
                                            "house_number", "address_1": "street", "suburb": "city",
                                            "date_of_birth": "birth_date"}))
        patstat = pd.read_csv(shared / "patstat_nl" / "records.csv", dtype=str).head(200)
        frames.append(patstat.rename(columns={"applicant_name": "company_name"})[["company_name"]])
    return pd.concat(frames, ignore_index=True).astype(object)


def _same(a: object, b: object) -> bool:
    missing = [v is None or (isinstance(v, float) and np.isnan(v)) for v in (a, b)]
    return all(missing) or (not any(missing) and a == b)


def test_prepare_one_equals_prepare_on_real_and_synthetic_records(shared_data: Path):
    frame = _records(shared_data)
    batch = prepare(frame)
    rows = frame.to_dict("records")
    for i, record in enumerate(rows):
        one = prepare_one({k: v for k, v in record.items() if not (isinstance(v, float) and np.isnan(v))})
        assert list(one) == list(batch.columns)
        for column in batch.columns:
            if column == "company_rare":  # the file's rarest word: checked per one-row frame below
                continue
            assert _same(one[column], batch.at[i, column]), (i, column, one[column], batch.at[i, column])


@pytest.mark.parametrize("record", ODD + [dict(r) for r in generate_records(12, seed=8).to_dict("records")])
def test_prepare_one_equals_prepare_of_a_one_row_frame(record: dict):
    batch = prepare(pd.DataFrame([record]))
    one = prepare_one(record)
    for column in batch.columns:
        assert _same(one[column], batch.at[0, column]), (column, one[column], batch.at[0, column])
