"""Splitting a full name typed in one field (cdq.normalize.name_parsing)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdq.normalize import normalize
from cdq.normalize.name_lines import surname_line
from cdq.normalize.name_parsing import split_name
from cdq.staging import import_inputs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("J.P. de Vries", {"initials": "J.P.", "infix": "de", "last_name": "Vries"}),
        ("Jan de Vries", {"first_name": "Jan", "infix": "de", "last_name": "Vries"}),
        ("Vries, Jan de", {"first_name": "Jan", "infix": "de", "last_name": "Vries"}),
        ("Berg, van der", {"infix": "van der", "last_name": "Berg"}),
        ("van 't Hof", {"infix": "van 't", "last_name": "Hof"}),
        ("in ’t Veld", {"infix": "in 't", "last_name": "Veld"}),
        ("ten Brink", {"infix": "ten", "last_name": "Brink"}),
        ("Mohamed El Amrani", {"first_name": "Mohamed", "last_name": "El Amrani"}),
        ("Jansen-de Vries", {"last_name": "Jansen-de Vries"}),
        ("dhr. J. de Vries", {"title": "dhr.", "gender": "M", "initials": "J.", "last_name": "Vries"}),
        ("Mevr. A. Jansen-de Vries", {"gender": "F", "initials": "A.", "last_name": "Jansen-de Vries"}),
        ("Jan Peter van den Heuvel", {"first_name": "Jan Peter", "infix": "van den", "last_name": "Heuvel"}),
    ],
)
def test_split_name(text: str, expected: dict) -> None:
    parts = split_name(text)
    for field, value in expected.items():
        assert getattr(parts, field) == value, field


@given(st.text(max_size=60))
def test_split_name_never_raises(text: str) -> None:
    split_name(text)


# --- issue 15 defect 4: Dutch names typed in one "Naam" column, through import and normalize -------------

def _clean_names(tmp_path, names: list[str]) -> pd.DataFrame:
    """Import a real CSV with a one-field ``Naam`` column and normalize it, as ``cdq clean`` does."""
    path = tmp_path / "klanten.csv"
    lines = ["Klantnummer;Naam;Postcode"] + [f"{i};{n};1234AB" for i, n in enumerate(names, start=1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    staged = import_inputs([path]).staging
    out, _ = normalize(staged)
    return out.set_index(pd.Index(names))


def _used_surname(row) -> str:
    return surname_line(row["infix"], row["last_name"], row["partner_infix"], row["partner_last_name"],
                        row["name_use"], False)


# full name -> expected (initials, first name, surname as used, gender, salutation, envelope)
WHOLE_NAMES = [
    ("A. de Vries-Bakker", ("A.", None, "de Vries-Bakker", None, "Geachte A. de Vries-Bakker",
                            "A. de Vries-Bakker")),
    ("Mw. A. de Vries-van Dam", ("A.", None, "de Vries-van Dam", "F", "Geachte mevrouw De Vries-van Dam",
                                 "Mevrouw A. de Vries-van Dam")),
    ("Dhr. P. van der Berg-de Jong", ("P.", None, "van der Berg-de Jong", "M",
                                      "Geachte heer Van der Berg-de Jong", "De heer P. van der Berg-de Jong")),
    ("Maria Hendriks-de Wit", ("M.", "Maria", "Hendriks-de Wit", "F", "Geachte mevrouw Hendriks-de Wit",
                               "Mevrouw M. Hendriks-de Wit")),
    ("Jan-Willem de Boer", ("J.W.", "Jan-Willem", "de Boer", "M", "Geachte heer De Boer",
                            "De heer J.W. de Boer")),
    ("VRIES, DE, A.", ("A.", None, "de Vries", None, "Geachte A. de Vries", "A. de Vries")),
    ("Vries-Bakker, A. de", ("A.", None, "de Vries-Bakker", None, "Geachte A. de Vries-Bakker",
                             "A. de Vries-Bakker")),
    ("A. van den Berg-van der Linden", ("A.", None, "van den Berg-van der Linden", None,
                                        "Geachte A. van den Berg-van der Linden", "A. van den Berg-van der Linden")),
    ("Mevr. van Dam-de Vries", (None, None, "van Dam-de Vries", "F", "Geachte mevrouw Van Dam-de Vries",
                                "Mevrouw Van Dam-de Vries")),
    ("BERG, VAN DEN, J.P.", ("J.P.", None, "van den Berg", None, "Geachte J.P. van den Berg",
                             "J.P. van den Berg")),
    ("Vries, de, Anna", ("A.", "Anna", "de Vries", "F", "Geachte mevrouw De Vries", "Mevrouw A. de Vries")),
    ("C. (Carla) Bosman", ("C.", "Carla", "Bosman", "F", "Geachte mevrouw Bosman", "Mevrouw C. Bosman")),
    ("Johannes (Hans) de Boer", ("J.", "Hans", "de Boer", "M", "Geachte heer De Boer", "De heer J. de Boer")),
    ('W.H. "Wim" Kok', ("W.H.", "Wim", "Kok", "M", "Geachte heer Kok", "De heer W.H. Kok")),
    ("Mr John Smith", ("J.", "John", "Smith", "M", "Geachte heer Smith", "De heer J. Smith")),
    ("Mrs Mary Jones", ("M.", "Mary", "Jones", "F", "Geachte mevrouw Jones", "Mevrouw M. Jones")),
    ("mr. J. de Vries", ("J.", None, "de Vries", None, "Geachte J. de Vries", "mr. J. de Vries")),
    ("Mr. drs. P. Jansen", ("P.", None, "Jansen", None, "Geachte P. Jansen", "mr. drs. P. Jansen")),
    ("Mien Jansen", ("M.", "Mien", "Jansen", "F", "Geachte mevrouw Jansen", "Mevrouw M. Jansen")),
    ("Ilona Bakker", ("I.", "Ilona", "Bakker", "F", "Geachte mevrouw Bakker", "Mevrouw I. Bakker")),
    ("Ali Yilmaz", ("A.", "Ali", "Yilmaz", None, "Geachte A. Yilmaz", "A. Yilmaz")),
]


@pytest.mark.parametrize("text,expected", WHOLE_NAMES, ids=[t for t, _ in WHOLE_NAMES])
def test_whole_names_typed_in_one_field(tmp_path, text, expected):
    row = _clean_names(tmp_path, [text]).loc[text]
    got = (row["initials"], row["first_name"], _used_surname(row), row["gender"], row["salutation"],
           row["envelope_name"])
    assert got == expected


# couples: one record naming two people -> the first person's name, both in the letter lines, NAME_COUPLE
COUPLES = [
    ("J. en M. de Vries", ("J.", None, "de Vries", None, "Geachte J. en M. de Vries", "J. en M. de Vries")),
    ("Dhr. en Mevr. Jansen", (None, None, "Jansen", "M", "Geachte heer en mevrouw Jansen",
                              "De heer en mevrouw Jansen")),
    ("Dhr. J. en Mevr. M. de Vries", ("J.", None, "de Vries", "M", "Geachte heer en mevrouw De Vries",
                                      "De heer J. en mevrouw M. de Vries")),
    ("Jan en Marie de Vries", ("J.", "Jan", "de Vries", "M", "Geachte heer en mevrouw De Vries",
                               "De heer J. en mevrouw M. de Vries")),
    ("J. & M. Bakker", ("J.", None, "Bakker", None, "Geachte J. en M. Bakker", "J. en M. Bakker")),
    ("Mr and Mrs Smith", (None, None, "Smith", "M", "Geachte heer en mevrouw Smith",
                          "De heer en mevrouw Smith")),
    ("Mr. and Mrs. Smith", (None, None, "Smith", "M", "Geachte heer en mevrouw Smith",
                            "De heer en mevrouw Smith")),
]


@pytest.mark.parametrize("text,expected", COUPLES, ids=[t for t, _ in COUPLES])
def test_couples_are_not_one_person_named_en(tmp_path, text, expected):
    row = _clean_names(tmp_path, [text]).loc[text]
    got = (row["initials"], row["first_name"], _used_surname(row), row["gender"], row["salutation"],
           row["envelope_name"])
    assert got == expected
    assert "NAME_COUPLE" in row["issues"].split(";")


# --- gender from a first-name table ---------------------------------------------------------------------

def test_ambiguous_first_names_get_no_gender_and_counts_decide_by_threshold(tmp_path):
    from cdq.normalize.first_names import first_name_genders

    table = first_name_genders()
    assert (table["mien"], table["ilona"], table["jan"]) == ("F", "F", "M")
    assert "ali" not in table and "robin" not in table  # borne by men and women alike
    counts = tmp_path / "counts.csv"
    counts.write_text("name,gender,count\nAli,M,950\nAli,F,50\nSasha,M,60\nSasha,F,40\n", encoding="utf-8")
    with_counts = first_name_genders(str(counts), 0.9)
    assert with_counts["ali"] == "M" and "sasha" not in with_counts
    assert "ali" not in first_name_genders(str(counts), 0.99)


def test_authored_gender_table_agrees_with_the_shared_list(shared_data):
    """cdq's own table (authored, shipped) against the 9.7k-name list in shared data (MIT, not shipped)."""
    import csv

    from cdq.normalize.first_names import first_name_genders

    with open(shared_data / "nl_names" / "first_names_gender_voornamen.csv", encoding="utf-8") as f:
        shared: dict[str, set[str]] = {}
        for row in csv.DictReader(f):
            shared.setdefault(row["name"].lower(), set()).add(row["gender"])
    ours = first_name_genders()
    both = [n for n in ours if len(shared.get(n, ())) == 1]
    agree = sum(ours[n] in shared[n] for n in both) / len(both)
    assert len(both) > 900 and agree >= 0.98, (len(both), agree)
    for name in ("ali", "robin", "kim", "chris", "willy", "sam", "jo", "isa", "noa", "hennie"):
        assert name not in ours, name  # borne by men and women alike: no gender from the name


def test_an_infix_typed_apart_belongs_to_the_surname_written_first():
    frame = pd.DataFrame({"record_id": ["r0"], "first_name": ["Naomi"], "infix": ["van den"],
                          "last_name": ["Heuvel-Dijkstra"], "issues": [""]})
    row = normalize(frame)[0].iloc[0]
    assert (row["partner_infix"], row["partner_last_name"], row["infix"], row["last_name"]) == (
        "van den", "Heuvel", None, "Dijkstra")
    assert row["salutation"] == "Geachte mevrouw Van den Heuvel-Dijkstra"


def test_a_couple_with_two_full_names_keeps_the_first_and_names_both(tmp_path):
    text = "Dhr. J. de Vries en Mevr. A. Bakker"
    row = _clean_names(tmp_path, [text]).loc[text]
    assert (row["initials"], row["infix"], row["last_name"], row["gender"]) == ("J.", "de", "Vries", "M")
    assert row["salutation"] == "Geachte heer De Vries en mevrouw Bakker"
    assert row["envelope_name"] == "De heer J. de Vries en mevrouw A. Bakker"
    assert "NAME_COUPLE" in row["issues"].split(";")
