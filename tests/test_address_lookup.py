"""``cdq.address.lookup``: one address at a time, with the letters/additions the register holds there."""

from __future__ import annotations

from pathlib import Path

import pytest

import cdq.address
from cdq.address import AddressStore, load_bag, lookup

REFERENCE = """postcode;huisnummer;huisletter;huisnummertoevoeging;straat;woonplaats;gemeente;provincie;nummeraanduiding_id
1011AB;105;;1;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081086
1011AB;105;;2;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081087
1011AB;105;;3;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081088
1011AB;105;;H;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000081089
1011AB;7;;;De Ruijterkade;Amsterdam;Amsterdam;Noord-Holland;0363200000000007
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> AddressStore:
    folder: Path = tmp_path_factory.mktemp("lookup")
    (folder / "bag.csv").write_text(REFERENCE, encoding="utf-8")
    load_bag(folder / "bag.csv", out=folder / "s.sqlite")
    with AddressStore.open(folder / "s.sqlite") as opened:
        yield opened


def test_lookup_is_exported_from_the_package():
    assert cdq.address.lookup is lookup


def test_lookup_fills_register_values(store: AddressStore):
    found = lookup("1011 ab", "105", "2", store=store)
    assert (found.status, found.street, found.city, found.municipality, found.bag_id) == (
        "completed", "De Ruijterkade", "Amsterdam", "Amsterdam", "0363200000081087")
    assert (found.house_number, found.house_letter, found.house_number_addition) == ("105", None, "2")
    assert found.existing == ["105-1", "105-2", "105-3", "105-H"]


def test_lookup_number_with_several_additions_lists_them_and_gives_no_id(store: AddressStore):
    found = lookup("1011AB", 105, None, store=store)
    assert found.status == "ambiguous" and found.bag_id is None
    assert found.existing == ["105-1", "105-2", "105-3", "105-H"]


def test_lookup_unknown_number(store: AddressStore):
    found = lookup("1011AB", 106, store=store)
    assert (found.status, found.bag_id, found.existing) == ("not_found", None, [])


def test_lookup_accepts_a_store_path(store: AddressStore):
    assert lookup("1011AB", 7, store=store.path).bag_id == "0363200000000007"


def test_lookup_says_addition_not_found_and_offers_what_exists(store: AddressStore):
    found = lookup("1011AB", "105", "7", store=store)
    assert (found.status, found.bag_id) == ("addition_not_found", None)
    assert found.existing == ["105-1", "105-2", "105-3", "105-H"]
    assert lookup("1011AB", "105", "hs", store=store).bag_id == "0363200000081089"
