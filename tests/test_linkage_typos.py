"""Scrambled values (the same characters in another order) are typos, not different values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdq.linkage import dedupe
from cdq.linkage.compare import compare
from cdq.linkage.prepare import prepare
from cdq.linkage.settings import load_settings

S = load_settings()


def _levels(a: dict, b: dict) -> dict:
    v = compare(prepare(pd.DataFrame([a, b])), np.array([0]), np.array([1]), S)
    return {c: S.levels(c)[v.loc[0, c]] if v.loc[0, c] >= 0 else "missing" for c in v.columns}


@pytest.mark.parametrize("a,b,level", [
    ("Sofia", "foSia", "similar"),       # letters in another order
    ("Noah", "hNoaN", "similar"),         # ... and one struck twice
    ("Harry", "rarHry", "similar"),
    ("Lisa", "Elias", "different"),       # one letter more that is no repeat: two names
    ("Karin", "Irina", "different"),      # a letter replaced as well as moved
    ("Ivy", "yI", "different"),           # too short to tell
])
def test_scrambled_first_names(a, b, level):
    assert _levels({"first_name": a}, {"first_name": b})["first_name"] == level


@pytest.mark.parametrize("a,b,level", [
    ("lucas@harrington.com", "lucas.harrington@com", "similar_local"),
    ("e.b30@little.biz", "e.b30zlittle.bi@", "similar_local"),
    ("j.jansen@gmail.com", "a.jansen@gmail.com", "different"),
])
def test_scrambled_email_addresses(a, b, level):
    assert _levels({"email": a}, {"email": b})["email"] == level


@pytest.mark.parametrize("a,b,level", [
    ("Birmingham", "Bimingham", "same_area"),
    ("London", "Lonodnn", "same_area"),
    ("Ede", "Epe", "different"),          # two towns, one letter apart
    ("Leeds", "York", "different"),
])
def test_mistyped_city_is_the_same_area(a, b, level):
    assert _levels({"city": a}, {"city": b})["address"] == level


def test_scrambled_first_name_no_longer_keeps_one_person_apart():
    """Without the scramble rule "hNoaN" is a different first name: a cannot-link, whatever else agrees."""
    rows = [{"record_id": str(i), "first_name": first, "last_name": "Rogers", "birth_date": "2011-04-07",
             "city": "Swindon"} for i, first in enumerate(["Noah", "hNoaN"])]
    others = [{"record_id": f"x{i}", "first_name": f, "last_name": l, "birth_date": f"19{50 + i}-0{1 + i % 9}-1{i % 9}",
               "city": "Leeds"} for i, (f, l) in enumerate(zip(["Ann", "Bob", "Cy", "Dora", "Ed", "Flo"] * 5,
                                                                ["Hall", "King", "Lee", "Moss", "Nash"] * 6))]
    clusters = dedupe(pd.DataFrame(rows + others)).clusters.set_index("record_id")["cluster_id"]
    assert clusters["0"] == clusters["1"]


@pytest.mark.parametrize("other,pass_name", [
    ({"first_name": "Vinnie", "postcode": "B33 0AH"}, "surname_postcode"),   # a pet form no table relates
    ({"first_name": None, "birth_date": "1859-01-01"}, "surname_birth_year"),  # no first name at all
])
def test_surname_passes_pair_records_without_a_shared_first_name(other, pass_name):
    from cdq.linkage.block import candidate_pairs

    first = {"first_name": "Lavinia", "last_name": "Crosse", "postcode": "B33 0AH", "birth_date": "1859-01-01"}
    stranger = {"first_name": "Lavinia", "last_name": "Moss", "postcode": "B33 0AH", "birth_date": "1859-01-01"}
    frame = pd.DataFrame([first, {"last_name": "Crosse", **other}, stranger])
    l, r, report = candidate_pairs(prepare(frame), S.passes, S.max_block_size, refine=S.refine)
    by_pass = report.set_index("pass")["pairs"]
    assert (0, 1) in set(zip(l.tolist(), r.tolist()))
    assert by_pass[pass_name] == 1  # the one pair of that surname, not the stranger


def test_first_name_city_pass_pairs_a_mistyped_surname_with_a_wrong_birth_date():
    from cdq.linkage.block import candidate_pairs

    frame = pd.DataFrame([{"first_name": "Grace", "last_name": "Kik", "birth_date": "2020-05-12", "city": "Edinburgh"},
                          {"first_name": "Grace", "last_name": "Kirk", "birth_date": "2010-04-15", "city": "Edinburgh"},
                          {"first_name": "Grace", "last_name": "Kirk", "birth_date": "2010-04-15", "city": "Leeds"}])
    l, r, report = candidate_pairs(prepare(frame), S.passes, S.max_block_size, refine=S.refine)
    assert (0, 1) in set(zip(l.tolist(), r.tolist()))
    assert report.set_index("pass").loc["first_name_city", "pairs"] == 1


def test_scrambled_email_addresses_meet_in_one_blocking_pass():
    from cdq.linkage.block import candidate_pairs

    frame = pd.DataFrame([{"first_name": "Kai", "email": "k.t50@hernandez.com"},
                          {"last_name": "Turner", "email": "k.t50eherand@z.ncom"},
                          {"last_name": "Turner", "email": "k.t51@hernandez.com"}])
    l, r, report = candidate_pairs(prepare(frame), S.passes, S.max_block_size, refine=S.refine)
    assert set(zip(l.tolist(), r.tolist())) == {(0, 1)}
    assert report.set_index("pass").loc["email_characters", "pairs"] == 1
