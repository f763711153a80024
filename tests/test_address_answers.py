"""Every wrong answer of issue 19 with the right one: letters and additions as the register has them, floor
and Amsterdam notation, case, number ranges, withdrawn and twice-listed addresses, Postbus/Antwoordnummer,
Frisian/Dutch names and places inside a municipality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdq.address import AddressStore, complete, load_bag

REFERENCE = """postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie;nummeraanduiding_id;status
1011AB;105;;1;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081086;Verblijfsobject in gebruik
1011AB;105;;2;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081087;Verblijfsobject in gebruik
1011AB;105;;3;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081088;Verblijfsobject in gebruik
1011AB;105;;H;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081089;Verblijfsobject in gebruik
1011AB;100;;1L;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081001;Verblijfsobject in gebruik
1011AB;100;;1R;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081002;Verblijfsobject in gebruik
1011AB;100;;H;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081003;Verblijfsobject in gebruik
1011AB;112;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081120;Verblijfsobject in gebruik
1011AB;113;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081130;Verblijfsobject in gebruik
1011AB;150;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081500;Verblijfsobject in gebruik
1011AB;152;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081520;Verblijfsobject in gebruik
1011AB;22;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080220;Verblijfsobject in gebruik
1011AB;24;c;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080243;Verblijfsobject in gebruik
1011AB;26;C;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080263;Verblijfsobject in gebruik
1011AB;30;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080300;Verblijfsobject ingetrokken
1011AB;32;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080320;Verblijfsobject in gebruik
1011AB;32;;;Prins Hendrikkade;Amsterdam;Amsterdam;Noord-Holland;0363200000080321;Verblijfsobject in gebruik
8911AA;3;;;Sint Jacobsstraat;Leeuwarden;Leeuwarden;Fryslân;0080200000000003;Verblijfsobject in gebruik
8601AA;5;;;Marktstraat;Sneek;Súdwest-Fryslân;Fryslân;1900200000000005;Verblijfsobject in gebruik
2586AA;10;;;Gevers Deynootweg;'s-Gravenhage;'s-Gravenhage;Zuid-Holland;0518200000000010;Verblijfsobject in gebruik
1000AB;1;;;Damrak;Amsterdam;Amsterdam;Noord-Holland;0363200000000001;Verblijfsobject in gebruik
"""
OUT = ["house_number", "house_letter", "house_number_addition", "city", "bag_address_id", "address_status"]
KADE = "De Ruijterkade"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AddressStore:
    folder: Path = tmp_path_factory.mktemp("answers")
    (folder / "bag.csv").write_text(REFERENCE, encoding="utf-8")
    load_bag(folder / "bag.csv", out=folder / "s.sqlite")
    with AddressStore.open(folder / "s.sqlite") as opened:
        yield opened


def _one(store: AddressStore, street, number, postcode, city) -> tuple[list, set]:
    frame = pd.DataFrame([{"record_id": "r", "street": street, "house_number": number, "postcode": postcode,
                           "city": city}])
    out, findings = complete(frame, store)
    values = [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in out.loc[0, OUT]]
    return values, set(findings["reason_code"])


# (typed number) -> (number, letter, addition, bag id, status) when the register holds 105-1..3, 105-H, 112, 113, ...
CASES = [
    # letters/additions the register does not hold at that number: never verified, never a BAG id
    ("112-3", ("112-3", None, None, None, "addition_not_found"), "ADDRESS_ADDITION_NOT_FOUND"),
    ("112Z", ("112Z", None, None, None, "addition_not_found"), "ADDRESS_ADDITION_NOT_FOUND"),
    ("22 1 hoog", ("22 1 hoog", None, None, None, "addition_not_found"), "ADDRESS_ADDITION_NOT_FOUND"),
    ("22 bov", ("22 bov", None, None, None, "addition_not_found"), "ADDRESS_ADDITION_NOT_FOUND"),
    # a bare number where only additions exist: several addresses, no id
    ("105", ("105", None, None, None, "ambiguous"), "ADDRESS_AMBIGUOUS"),
    # ranges are several addresses
    ("112 t/m 113", ("112 t/m 113", None, None, None, "range"), "ADDRESS_NUMBER_RANGE"),
    ("150-152", ("150-152", None, None, None, "range"), "ADDRESS_NUMBER_RANGE"),
    # as the register prints it: the addition H, verified
    ("105-H", ("105", None, "H", "0363200000081089", "verified"), None),
    # Amsterdam and floor notation -> the register's addition
    ("105 hs", ("105", None, "H", "0363200000081089", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("105-huis", ("105", None, "H", "0363200000081089", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("105 I", ("105", None, "1", "0363200000081086", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("105 1e", ("105", None, "1", "0363200000081086", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("105-1 hoog", ("105", None, "1", "0363200000081086", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("100-1 links", ("100", None, "1L", "0363200000081001", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    ("100 1 rechts", ("100", None, "1R", "0363200000081002", "corrected"), "ADDRESS_ADDITION_CORRECTED"),
    # links/rechts only where the register has L/R variants
    ("105-2 links", ("105-2 links", None, None, None, "addition_not_found"), "ADDRESS_ADDITION_NOT_FOUND"),
    # case as the register writes it
    ("24c", ("24", "c", None, "0363200000080243", "verified"), None),
    ("24C", ("24", "c", None, "0363200000080243", "verified"), None),
    ("26c", ("26", "C", None, "0363200000080263", "verified"), None),
    # withdrawn: known, never verified
    ("30", ("30", None, None, None, "withdrawn"), "ADDRESS_WITHDRAWN"),
]


@pytest.mark.parametrize("number, expected, reason", CASES, ids=[c[0] for c in CASES])
def test_letters_and_additions_as_the_register_has_them(store, number, expected, reason):
    values, reasons = _one(store, KADE, number, "1011 AB", "Amsterdam")
    got = tuple(values[:3]) + tuple(values[4:])
    assert got == expected
    if reason:
        assert reason in reasons


def test_address_listed_twice_is_not_silently_kept_first(store):
    values, reasons = _one(store, None, "32", "1011AB", "Amsterdam")
    assert (values[4], values[5]) == (None, "ambiguous")
    assert "ADDRESS_REGISTER_DUPLICATE" in reasons
    assert store.status()["conflicting_duplicates"] == "1"


@pytest.mark.parametrize("city, postcode, number, expected_city", [
    ("Ljouwert", "8911 AA", "3", "Leeuwarden"),
    ("Snits", "8601 AA", "5", "Sneek"),
    ("Scheveningen", "2586 AA", "10", "'s-Gravenhage"),
    ("The Hague", "2586 AA", "10", "'s-Gravenhage"),
])
def test_place_names_resolve_to_the_bag_woonplaats(store, city, postcode, number, expected_city):
    values, reasons = _one(store, None, number, postcode, city)
    assert values[3] == expected_city and values[5] in ("completed", "verified")
    assert "POSTCODE_CITY_MISMATCH" not in reasons


@pytest.mark.parametrize("street, number, postcode, city, status", [
    ("Postbus 123", None, "1000 AB", "Amsterdam", "postbus"),
    ("Postbus", "4567", "1000AB", None, "postbus"),
    ("Antwoordnummer 10020", None, "1000 AB", "Amsterdam", "antwoordnummer"),
    ("Postbus 123", None, "1000 AB", "Rotterdam", "ambiguous"),       # city not of this postcode area
    ("Postbus 123", None, "9999 AB", "Amsterdam", "not_found"),       # an area the register does not know
    ("Postbus", None, "1000 AB", "Amsterdam", "invalid"),             # no box number
])
def test_postbus_and_antwoordnummer_are_postal_addresses(store, street, number, postcode, city, status):
    frame = pd.DataFrame([{"street": street, "house_number": number, "postcode": postcode, "city": city}])
    out, _ = complete(frame, store)
    assert out.loc[0, "address_status"] == status
    if status in ("postbus", "antwoordnummer"):
        assert out.loc[0, "street"] == status.capitalize() and out.loc[0, "bag_address_id"] is None


def test_one_postcode_rule_for_normalize_and_address():
    # issue 17: normalization and address completion used two canonicalisers with different verdicts
    from cdq.address.keys import canonical_postcode as address_squash
    from cdq.address.keys import valid_postcode
    from cdq.normalize.addresses import canonical_postcode as normalize_canonical

    typed = pd.Series(["1234ab", "1234-AB", "1234 . ab", "12 34 AB", "0123 AB", "1234 SS", "1234 sa", "1234SD",
                       "1234 ABC", "AB 1234", None, "", "1049.ff"], dtype=object)
    shown, normalize_ok = normalize_canonical(typed)
    address_ok = valid_postcode(address_squash(typed))
    assert normalize_ok.tolist() == address_ok.tolist()
    assert [s if ok else None for s, ok in zip(shown, normalize_ok)] == [
        "1234 AB", "1234 AB", "1234 AB", "1234 AB", None, None, None, None, None, None, None, None, "1049 FF"]
