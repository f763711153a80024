"""``cdq.address.one.complete_one`` (the service's one-record path) gives exactly what ``complete`` gives a file.

A seeded register with every shape the batch rules know (letters, additions, floor and Amsterdam notations,
case, withdrawn addresses, one number on two streets, a twice-listed address) and a few thousand typed
variants of its addresses (right, wrong, abbreviated, ranged, Postbus, invalid, no postcode, Belgian): each
one through both paths, compared column by column and finding by finding.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdq.address import AddressStore, complete, load_bag, lookup
from cdq.address.keys import canonical_postcode, encode_postcodes
from cdq.address.one import complete_one, encode_postcode, squash_postcode

STREETS = ["Kerkstraat", "Burgemeester van der Plasstraat", "Prins Hendriklaan", "Sint Jansstraat", "Dorpsweg",
           "De Ruijterkade", "Rue de l'Église", "Molenweg"]
PLACES = [("Amsterdam", "Amsterdam", "Noord-Holland"), ("'s-Gravenhage", "'s-Gravenhage", "Zuid-Holland"),
          ("Sneek", "Súdwest-Fryslân", "Fryslân"), ("Hoofddorp", "Haarlemmermeer", "Noord-Holland")]
SUFFIXES = [("", ""), ("A", ""), ("b", ""), ("", "1"), ("", "2"), ("", "H"), ("", "1L"), ("", "1R"), ("A", "2"),
            ("", "3hoog"), ("", "bis")]


def _register(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(60):
        pc = f"{1011 + k * 37}{chr(65 + k % 26)}{chr(66 + (k * 7) % 24)}"
        street, (city, muni, prov) = STREETS[k % len(STREETS)], PLACES[k % len(PLACES)]
        for number in range(1, 30):
            shape = rng.integers(0, 6)
            suffixes = [("", "")] if shape < 3 else [SUFFIXES[i] for i in rng.choice(len(SUFFIXES), shape, False)]
            for letter, addition in suffixes:
                status = "Verblijfsobject ingetrokken" if rng.random() < 0.04 else "Verblijfsobject in gebruik"
                rows.append((pc, number, letter, addition, street, city, muni, prov, status))
        rows.append((pc, 40, "", "", "Andere Straat", city, muni, prov, "Verblijfsobject in gebruik"))
        rows.append((pc, 40, "", "1", street, city, muni, prov, "Verblijfsobject in gebruik"))
        rows.append((pc, 41, "", "", street, city, muni, prov, "Verblijfsobject in gebruik"))
        rows.append((pc, 41, "", "", "Tweede Straat", city, muni, prov, "Verblijfsobject in gebruik"))  # listed twice
    frame = pd.DataFrame(rows, columns=["postcode", "huisnummer", "huisletter", "huisnummertoevoeging", "straat",
                                       "woonplaats", "gemeente", "provincie", "status"])
    frame["nummeraanduiding_id"] = [f"{i + 363200000000001:016d}" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AddressStore:
    folder: Path = tmp_path_factory.mktemp("one")
    _register().to_csv(folder / "bag.csv", sep=";", index=False)
    load_bag(folder / "bag.csv", fmt="flat", out=folder / "s.sqlite")
    with AddressStore.open(folder / "s.sqlite") as opened:
        yield opened


def _typed(seed: int = 9) -> list[dict]:
    """Typed variants of register addresses and of things that are not one."""
    reg = _register()
    rng = np.random.default_rng(seed)
    out = []
    for k in rng.choice(len(reg), 500, replace=False):
        r = reg.iloc[int(k)]
        pc, n, letter, addition = r["postcode"], int(r["huisnummer"]), r["huisletter"], r["huisnummertoevoeging"]
        spaced = f"{pc[:4]} {pc[4:].lower()}"
        base = {"postcode": pc, "house_number": str(n), "street": None, "city": None}
        out += [
            {**base, "house_letter": letter or None, "house_number_addition": addition or None},
            {**base, "house_number": f"{n}{letter}-{addition}" if addition else f"{n}{letter}", "postcode": spaced},
            {**base, "house_number_addition": rng.choice(["Z9", "hs", "1 hoog", "II", "1e", "h", "a", "1 links", "bov"])},
            {**base, "house_number": rng.choice([f"{n}-{n + 2}", f"{n} t/m {n + 1}", f"{n}/{n + 4}", f"{n} en {n + 2}"])},
            {**base, "street": rng.choice([r["straat"], r["straat"].upper(), r["straat"][:-1], "Kerkstr.",
                                           "Burg. v.d. Plasstraat", "Pr. Hendrikln", "Geheel Anders"]),
             "city": rng.choice([r["woonplaats"], "Den Haag", r["gemeente"], "Rotterdam", "amsterdm", None])},
            {**base, "house_number": str(n + 200)},
            {**base, "postcode": f"{pc[:4]}ZZ"},
        ]
    out += [
        {"postcode": "0123AB", "house_number": "1"}, {"postcode": "1234SS", "house_number": "1"},
        {"postcode": "1011AB", "house_number": "abc"}, {"postcode": "1011AB", "house_number": None},
        {"postcode": None, "house_number": "12"}, {"postcode": "1011 ab", "house_number": "0"},
        {"postcode": None, "house_number": "3", "street": "Kerkstraat", "city": "Amsterdam"},
        {"postcode": None, "house_number": None, "street": "36A"}, {"postcode": "1011AB", "street": "12-2"},
        {"postcode": "1011AB", "house_number": "99999999"}, {"postcode": "1000", "house_number": "1", "country": "BE"},
        {"postcode": "1000", "house_number": "1", "street": "Rue Neuve", "country": "België"},
        {"postcode": "1011 AB", "house_number": "1", "country": "NL"},
    ]
    for pc in ("1011AB", "1048AH", "9999ZZ", "123", None):
        for street in ("Postbus 123", "Antwoordnummer", "P.O. Box 4", "pb. 1234567", "Postbus"):
            for city in ("Amsterdam", "Rotterdam", None):
                out.append({"postcode": pc, "street": street, "house_number": "77", "city": city})
    return out


def _plain(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _findings(rows: list[dict]) -> list[tuple]:
    return sorted(tuple((k, repr(_plain(v))) for k, v in sorted(f.items())) for f in rows)


def test_one_record_path_gives_the_batch_answer_for_every_kind(store: AddressStore):
    typed = _typed()
    frame = pd.DataFrame(typed)
    frame.insert(0, "record_id", [f"r{i}" for i in range(len(frame))])
    done, findings = complete(frame, store)
    by_record = {rid: g.to_dict("records") for rid, g in findings.groupby("record_id")}
    seen = set()
    for i, record in enumerate(frame.to_dict("records")):
        row, found = complete_one(record, store, record["record_id"])
        batch = {k: _plain(v) for k, v in done.iloc[i].to_dict().items()}
        assert set(row) <= set(batch), record
        assert {k: _plain(row.get(k)) for k in batch} == batch, record
        assert _findings(found) == _findings(by_record.get(record["record_id"], [])), record
        seen.add(batch["address_status"])
    # the sample reaches every status the Dutch rules give (Belgian ones go through the batch code)
    assert seen >= {"verified", "completed", "corrected", "ambiguous", "not_found", "addition_not_found",
                    "withdrawn", "range", "postbus", "antwoordnummer", "invalid"}


def test_lookup_answers_like_complete(store: AddressStore):
    """200 register addresses: each one's ``lookup`` against its row of one batch ``complete`` (a row's batch
    answer depends on that row only; test_one_record_path_gives_the_batch_answer_for_every_kind checks the
    same one row at a time)."""
    sample = _register().sample(200, random_state=1).reset_index(drop=True)
    frame = pd.DataFrame({"record_id": [f"r{i}" for i in range(len(sample))],
                          "postcode": sample["postcode"].str.lower(), "house_number": sample["huisnummer"].astype(str),
                          "house_letter": sample["huisletter"].where(sample["huisletter"].astype(bool), None),
                          "house_number_addition": sample["huisnummertoevoeging"].where(
                              sample["huisnummertoevoeging"].astype(bool), None)})
    done, findings = complete(frame, store)
    reasons = findings.groupby("record_id")["reason_code"].agg(lambda codes: sorted(set(codes))).to_dict()
    for i, r in enumerate(sample.itertuples(index=False)):
        found = lookup(r.postcode.lower(), r.huisnummer, r.huisnummertoevoeging or None, store=store,
                       letter=r.huisletter or None)
        assert found.status == done.loc[i, "address_status"]
        assert found.bag_id == _plain(done.loc[i, "bag_address_id"])
        assert found.reasons == reasons.get(f"r{i}", [])
        assert found.postcode == done.loc[i, "postcode"]


@pytest.mark.parametrize("text", ["1234 ab", "1234-AB", " 1049.ff ", "0123AB", "1234ABC", "12", "", None, 1234])
def test_scalar_postcode_keys_match_the_vectorised_ones(text):
    squashed = canonical_postcode(pd.Series([text], dtype=object)).iloc[0]
    assert squash_postcode(text) == squashed
    assert encode_postcode(squashed) == (encode_postcodes(pd.Series([squashed]))[0] if squashed else -1)
