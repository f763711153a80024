"""Persons in record linkage: all given names, partial birth dates, placeholder values, and clustering that
never lets undated records outvote conflicting full birth dates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdq.linkage import dedupe
from cdq.linkage.compare import compare
from cdq.linkage.placeholders import is_placeholder
from cdq.linkage.prepare import partial_birth_date, prepare
from cdq.linkage.settings import load_settings

S = load_settings()


def _levels(a: dict, b: dict) -> dict:
    v = compare(prepare(pd.DataFrame([a, b])), np.array([0]), np.array([1]), S)
    return {c: S.levels(c)[v.loc[0, c]] if v.loc[0, c] >= 0 else "missing" for c in v.columns}


@pytest.mark.parametrize("a,b,level", [
    ({"first_name": "John Robert"}, {"first_name": "John Robert"}, "exact"),
    ({"first_name": "John Robert"}, {"first_name": "John Robbert"}, "exact"),  # a typo
    ({"first_name": "John Robert"}, {"first_name": "John David"}, "different"),
    ({"first_name": "John R."}, {"first_name": "John Robert"}, "initial"),
    ({"first_name": "John", "initials": "J.R."}, {"first_name": "John Robert"}, "initial"),  # initials against all
    ({"first_name": "John", "initials": "J.D."}, {"first_name": "John Robert"}, "different"),
    ({"first_name": "John"}, {"first_name": "John Robert"}, "missing"),  # one given name says nothing
])
def test_middle_names_are_compared(a, b, level):
    assert _levels(a, b)["middle_name"] == level


def test_sharing_all_given_names_weighs_more_than_sharing_the_first():
    """Voter-register style: two records per person, plus other people who share first and last name."""
    rng = np.random.default_rng(5)
    firsts = ["John", "Mary", "James", "Linda", "Robert", "Susan"]
    middles = ["Allen", "Beth", "Carl", "Dee", "Earl", "Faye", "Glen", "Hope", "Ivan", "Jo"]
    lasts = ["Smith", "Jones", "Brown", "Miller", "Davis", "Moore", "Clark", "Lewis"]
    rows = []
    for i in range(240):
        first, middle, last = rng.choice(firsts), rng.choice(middles), rng.choice(lasts)
        city = rng.choice(["Raleigh", "Durham", "Cary", "Apex"])
        for k in range(2):
            rows.append({"record_id": f"{i}-{k}", "first_name": f"{first} {middle}", "last_name": last,
                         "city": city if k == 0 else rng.choice(["Raleigh", "Durham", "Cary", "Apex"]),
                         "birth_date": str(int(rng.integers(1940, 2000))) if k == 0 else None})
    frame = pd.DataFrame(rows)
    result = dedupe(frame)
    model = result.model
    assert model.weights("middle_name")[-1] > 2, model.weights("middle_name")
    assert model.weights("middle_name")[0] < 0


@pytest.mark.parametrize("raw,partial", [("1956", "1956"), ("04-1956", "1956-04"), ("1956/4", "1956-04"),
                                         ("00-00-1956", "1956"), ("1956-04-00", "1956-04"), ("1956-04-09", None),
                                         ("onbekend", None), ("0", None)])
def test_partial_birth_dates(raw, partial):
    assert partial_birth_date(raw) == partial


@pytest.mark.parametrize("a,b,level", [
    ("1956", "1956-04-09", "partial_year"),
    ("1956-04", "1956-04-09", "partial_month"),
    ("1956-04", "1956-05", "same_year"),
    ("1956", "1961-04-09", "different"),
    ("1956", "1956", "partial_year"),  # two year-only dates never make an exact date
    ("1956-04-09", "1956-04-09", "exact"),
])
def test_partial_birth_dates_are_their_own_levels(a, b, level):
    assert _levels({"birth_date": a}, {"birth_date": b})["birth_date"] == level


@pytest.mark.parametrize("value,column", [("REMOVED", "last_name"), ("onbekend", "first_name"), ("n.v.t.", "city"),
                                          ("-", "email"), ("?", "phone"), ("Onbekend", "birth_date"),
                                          ("geen@geen.nl", "email"), ("01-01-1900", "birth_date")])
def test_placeholders_are_missing(value, column):
    assert is_placeholder(value, column)
    p = prepare(pd.DataFrame({column: [value, value]}))
    derived = {"last_name": "surname_core", "email": "email", "phone": "phone", "first_name": "first_name",
               "city": "city", "birth_date": "birth_date"}[column]
    assert p[derived].isna().all()


def test_two_records_that_both_say_removed_do_not_agree():
    levels = _levels({"first_name": "REMOVED", "last_name": "Jansen", "city": "n.v.t."},
                     {"first_name": "REMOVED", "last_name": "Jansen", "city": "n.v.t."})
    assert levels["first_name"] == "missing"
    assert levels["address"] == "missing"


@pytest.mark.parametrize("value", ["Jansen", "11", "Na Li", "0612345678"])
def test_real_values_are_no_placeholders(value):
    assert not is_placeholder(value, "last_name")


def test_undated_records_never_join_people_with_conflicting_full_birth_dates():
    """Two people of one name at one address, each with three records of their own full birth date, and eight
    undated records that agree with all of them: however many match edges the undated ones give, the two
    dated people stay apart (the old vote, links against vetoes, let the undated records outvote them)."""
    base = {"first_name": "Jan", "last_name": "de Vries", "postcode": "1234AB", "house_number": "12",
            "email": "jan@devries.nl", "phone": "0201234567"}
    rows = [{**base, "record_id": f"p{i}-{k}", "birth_date": d} for i, d in enumerate(["1931-02-11", "1964-03-05"])
            for k in range(3)]
    rows += [{**base, "record_id": f"undated{i}", "birth_date": None} for i in range(8)]
    clusters = dedupe(pd.DataFrame(rows)).clusters.set_index("record_id")["cluster_id"]
    assert clusters["p0-0"] == clusters["p0-1"] == clusters["p0-2"]
    assert clusters["p1-0"] == clusters["p1-1"] == clusters["p1-2"]
    assert clusters["p0-0"] != clusters["p1-0"]


@pytest.mark.parametrize("email_b,birth_b,vetoed", [
    ("a.s@humphrey.com", "1974-08-21", False),   # one mailbox, a decade apart: the weights decide
    ("a.s@humprey.com", "1974-08-21", False),    # the mailbox at a mistyped domain
    ("a.s@humphrey.com", "1950-08-21", True),    # a generation apart: a parent sharing the mailbox
    ("archie.s@other.com", "1974-08-21", True),  # no shared mailbox: the dates keep them apart
])
def test_one_mailbox_lifts_the_birth_date_veto_within_a_generation(email_b, birth_b, vetoed):
    from cdq.linkage import cannot_links

    a = pd.DataFrame([{"record_id": "a", "first_name": "Archie", "last_name": "Soctt", "birth_date": "1984-09-19",
                       "email": "a.s@humphrey.com"}])
    b = pd.DataFrame([{"record_id": "b", "first_name": "Archie", "last_name": "Scott", "birth_date": birth_b,
                       "email": email_b}])
    assert (len(cannot_links(a, b)) == 1) == vetoed


@pytest.mark.parametrize("city_b,street_b,vetoed", [
    ("Leiden", "Buitenpad", False),         # the same address: the mailbox outweighs the dates
    ("Leiden", "Breestraat", False),        # the same city, another street (a move within the town)
    (None, None, False),                     # no address on one record: nothing disagrees
    ("Dordrecht", "Drenthestraat", True),   # another place too: namesakes whose name-made mailbox coincides
])
def test_a_mailbox_does_not_lift_the_birth_date_veto_at_another_address(city_b, street_b, vetoed):
    from cdq.linkage import cannot_links

    a = pd.DataFrame([{"record_id": "a", "first_name": "Aylin", "last_name": "Aslan", "birth_date": "1939-07-28",
                       "email": "a.aslan@gmail.com", "street": "Buitenpad", "house_number": "8", "city": "Leiden"}])
    b = pd.DataFrame([{"record_id": "b", "first_name": "Aylin", "last_name": "Aslan", "birth_date": "1952-10-16",
                       "email": "a.aslan@gmail.com", "street": street_b, "house_number": "8" if street_b else None,
                       "city": city_b}])
    assert (len(cannot_links(a, b)) == 1) == vetoed


@pytest.mark.parametrize("a,b,level", [
    ({"first_name": "Maria"}, {"first_name": "Anna Maria"}, "similar"),    # the call name is a later given name
    ({"first_name": "Maria"}, {"initials": "A.M."}, "initial"),            # ... of which only initials are known
    ({"first_name": "Peter"}, {"first_name": "J.P."}, "initial"),
    ({"first_name": "Maria"}, {"first_name": "Anna Mathilde"}, "different"),  # written out, and another name
    ({"first_name": "Maria"}, {"first_name": "Anna"}, "different"),
])
def test_a_first_name_is_compared_with_all_given_names_of_the_other(a, b, level):
    assert _levels({**a, "last_name": "Jansen"}, {**b, "last_name": "Jansen"})["first_name"] == level


def test_a_call_name_among_the_given_names_is_no_cannot_link():
    from cdq.linkage import cannot_links

    a = pd.DataFrame([{"record_id": "a", "first_name": "Maria", "last_name": "Jansen", "birth_date": "1950-03-02"}])
    b = pd.DataFrame([{"record_id": "b", "first_name": "Anna Maria", "last_name": "Jansen",
                       "birth_date": "1950-03-02"}])
    c = pd.DataFrame([{"record_id": "c", "first_name": "Anna", "last_name": "Jansen", "birth_date": "1950-03-02"}])
    assert cannot_links(a, b).empty
    assert len(cannot_links(a, c)) == 1  # a twin sister


@pytest.mark.parametrize("a,b,level", [
    ({"first_name": "Jun", "initials": "J."}, {"initials": "W.J."}, "different"),  # twins Jun and Wei Jun
    ({"first_name": "Maria", "initials": "M."}, {"first_name": "Anna Maria"}, "different"),
    ({"first_name": "Maria", "initials": "A.M."}, {"initials": "A.M."}, "initial"),  # the same formal initials
    ({"first_name": "Jun"}, {"initials": "W.J."}, "initial"),  # no initials of its own: Jun may be the call name
])
def test_a_record_naming_its_own_first_initial_is_no_call_name_of_another(a, b, level):
    assert _levels({**a, "last_name": "Wu"}, {**b, "last_name": "Wu"})["first_name"] == level


def test_twins_whose_initials_name_each_other_stay_apart():
    """Bas (S.M.) and Menno (M.) at one address, born the same day: Bas's M is a later name, not Menno."""
    assert _levels({"first_name": "Menno", "initials": "M.", "last_name": "Brouwer"},
                   {"first_name": "Bas", "initials": "S.M.", "last_name": "Brouwer"})["first_name"] == "different"
