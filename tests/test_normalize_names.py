"""Table-driven tests of name parsing, casing, gender, salutation and envelope lines."""

from __future__ import annotations

import pandas as pd
import pytest

from cdq.columns import CANONICAL
from cdq.normalize import NormalizeConfig, normalize
from cdq.normalize.names import parse_given, parse_surname, parse_title, proper_case

# surname field -> (initials, first name, infix, last name, partner infix, partner last name, name use,
# suffix)
SURNAMES = [
    ("de Vries", (None, None, "de", "Vries", None, None, None, None)),
    ("J.P. de Vries", ("J.P.", None, "de", "Vries", None, None, None, None)),
    ("Vries, Jan de", (None, "Jan", "de", "Vries", None, None, None, None)),
    ("Vries, J.P. de", ("J.P.", None, "de", "Vries", None, None, None, None)),
    ("VAN DER BERG", (None, None, "van der", "Berg", None, None, None, None)),
    ("Berg, van der", (None, None, "van der", "Berg", None, None, None, None)),
    ("Berg van der", (None, None, "van der", "Berg", None, None, None, None)),
    ("berg van der", (None, None, "van der", "Berg", None, None, None, None)),
    ("Van Der Berg", (None, None, "van der", "Berg", None, None, None, None)),
    ("van 't Hof", (None, None, "van 't", "Hof", None, None, None, None)),
    ("van’t Hof", (None, None, "van 't", "Hof", None, None, None, None)),
    ("VAN 'T HOF", (None, None, "van 't", "Hof", None, None, None, None)),
    ("in 't Veld", (None, None, "in 't", "Veld", None, None, None, None)),
    ("Veld, in 't", (None, None, "in 't", "Veld", None, None, None, None)),
    ("ten Brink", (None, None, "ten", "Brink", None, None, None, None)),
    ("Ten Brink", (None, None, "ten", "Brink", None, None, None, None)),
    ("ter Horst", (None, None, "ter", "Horst", None, None, None, None)),
    ("te Riele", (None, None, "te", "Riele", None, None, None, None)),
    ("d'Ancona", (None, None, "d'", "Ancona", None, None, None, None)),
    ("D'ANCONA", (None, None, "d'", "Ancona", None, None, None, None)),
    ("'s Gravesande", (None, None, "'s", "Gravesande", None, None, None, None)),
    ("uit de Bos", (None, None, "uit de", "Bos", None, None, None, None)),
    ("op den Kamp", (None, None, "op den", "Kamp", None, None, None, None)),
    ("van den Broek", (None, None, "van den", "Broek", None, None, None, None)),
    ("van de Ven", (None, None, "van de", "Ven", None, None, None, None)),
    ("van het Hof", (None, None, "van het", "Hof", None, None, None, None)),
    ("de la Rue", (None, None, "de la", "Rue", None, None, None, None)),
    ("von der Heide", (None, None, "von der", "Heide", None, None, None, None)),
    ("El Amrani", (None, None, None, "El Amrani", None, None, None, None)),
    ("EL AMRANI", (None, None, None, "El Amrani", None, None, None, None)),
    ("Ben Ali", (None, None, None, "Ben Ali", None, None, None, None)),
    ("Jansen", (None, None, None, "Jansen", None, None, None, None)),
    ("JANSEN", (None, None, None, "Jansen", None, None, None, None)),
    ("ijsselstein", (None, None, None, "IJsselstein", None, None, None, None)),
    ("McDonald", (None, None, None, "McDonald", None, None, None, None)),
    ("Jansen-de Vries", (None, None, "de", "Vries", None, "Jansen", "partner-own", None)),
    ("Jansen - de Vries", (None, None, "de", "Vries", None, "Jansen", "partner-own", None)),
    ("van den Berg-Jansen", (None, None, None, "Jansen", "van den", "Berg", "partner-own", None)),
    ("Jansen geb. de Vries", (None, None, "de", "Vries", None, "Jansen", "partner-own", None)),
    ("Jansen geboren de Vries", (None, None, "de", "Vries", None, "Jansen", "partner-own", None)),
    ("de Vries e.v. Jansen", (None, None, "de", "Vries", None, "Jansen", "own-partner", None)),
    ("Bos wed. Smit", (None, None, None, "Bos", None, "Smit", "own-partner", None)),
    ("de Vries jr.", (None, None, "de", "Vries", None, None, None, "jr.")),
    ("Jansen Sr", (None, None, None, "Jansen", None, None, None, "sr.")),
    ("de Vries MSc", (None, None, "de", "Vries", None, None, None, "MSc")),
    ("Jan de Vries", (None, "Jan", "de", "Vries", None, None, None, None)),
    ("van de van de Jong", (None, None, "van de", "Jong", None, None, None, None)),
    ("Vries, de", (None, None, "de", "Vries", None, None, None, None)),
    ("Vries de", (None, None, "de", "Vries", None, None, None, None)),
    ("VRIES DE", (None, None, "de", "Vries", None, None, None, None)),
]


@pytest.mark.parametrize("text,expected", SURNAMES, ids=[s for s, _ in SURNAMES])
def test_parse_surname(text, expected):
    s = parse_surname(text)
    assert (
        s.initials,
        s.first_name,
        s.infix,
        s.last_name,
        s.partner_infix,
        s.partner_last_name,
        s.name_use,
        s.suffix,
    ) == expected


def test_hyphenated_name_use_can_be_own_partner():
    s = parse_surname("de Vries-Jansen", "own-partner")
    assert (s.infix, s.last_name, s.partner_last_name, s.name_use) == ("de", "Vries", "Jansen", "own-partner")


# surname field with a salutation or title -> (title, gender)
TITLED = [
    ("dhr. J. de Vries", (None, "M")),
    ("Mevr. A. Jansen", (None, "F")),
    ("mw Jansen", (None, "F")),
    ("De heer Jansen", (None, "M")),
    ("drs. J. de Vries", ("drs.", None)),
    ("ir. Bakker", ("ir.", None)),
    ("mr. J. Smit", ("mr.", None)),
    ("dr. Visser", ("dr.", None)),
    ("ing. P. Bos", ("ing.", None)),
    ("prof. dr. Kok", ("prof. dr.", None)),
    ("Dhr. ir. J. de Vries", ("ir.", "M")),
    ("Vries, dhr. J. de", (None, "M")),
]


@pytest.mark.parametrize("text,expected", TITLED, ids=[s for s, _ in TITLED])
def test_titles_and_salutations_in_surname(text, expected):
    s = parse_surname(text)
    assert (s.title, s.gender) == expected
    assert s.last_name in ("Vries", "Jansen", "Bakker", "Smit", "Visser", "Bos", "Kok")


# (text, field) -> (title, gender, first name, initials, infix)
GIVEN = [
    (("Jan", "first"), (None, None, "Jan", None, None)),
    (("JAN PIETER", "first"), (None, None, "Jan Pieter", None, None)),
    (("jan-willem", "first"), (None, None, "Jan-Willem", None, None)),
    (("Jan de", "first"), (None, None, "Jan", None, "de")),
    (("Anna van der", "first"), (None, None, "Anna", None, "van der")),
    (("J.P.", "first"), (None, None, None, "J.P.", None)),
    (("Mevr. Anna", "first"), (None, "F", "Anna", None, None)),
    (("dhr Piet", "first"), (None, "M", "Piet", None, None)),
    (("ir. Jan", "first"), ("ir.", None, "Jan", None, None)),
    (("J.P.", "initials"), (None, None, None, "J.P.", None)),
    (("JP", "initials"), (None, None, None, "J.P.", None)),
    (("jp", "initials"), (None, None, None, "J.P.", None)),
    (("J. P.", "initials"), (None, None, None, "J.P.", None)),
    (("J P", "initials"), (None, None, None, "J.P.", None)),
    (("j.p", "initials"), (None, None, None, "J.P.", None)),
    (("Th.", "initials"), (None, None, None, "Th.", None)),
    (("Th.J.", "initials"), (None, None, None, "Th.J.", None)),
    (("IJ", "initials"), (None, None, None, "IJ.", None)),
    (("A.", "initials"), (None, None, None, "A.", None)),
    (("dhr. J.", "initials"), (None, "M", None, "J.", None)),
    (("mevr. A.M.", "initials"), (None, "F", None, "A.M.", None)),
    (("J.P. de", "initials"), (None, None, None, "J.P.", "de")),
    (("drs. J.", "initials"), ("drs.", None, None, "J.", None)),
    (("Jan", "initials"), (None, None, "Jan", None, None)),
]


@pytest.mark.parametrize("args,expected", GIVEN, ids=[f"{a[1]}:{a[0]}" for a, _ in GIVEN])
def test_parse_given(args, expected):
    g = parse_given(*args)
    assert (g.title, g.gender, g.first_name, g.initials, g.infix) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Dhr.", (None, "M")),
        ("De heer", (None, "M")),
        ("Mevrouw", (None, "F")),
        ("mevr.", (None, "F")),
        ("Drs.", ("drs.", None)),
        ("Dhr. Drs.", ("drs.", "M")),
        ("Prof.dr.", ("prof. dr.", None)),
        ("Mw. mr.", ("mr.", "F")),
        ("ing", ("ing.", None)),
        ("Familie", (None, None)),
    ],
)
def test_parse_title(text, expected):
    assert parse_title(text)[:2] == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("JANSEN", "Jansen"),
        ("jansen", "Jansen"),
        ("van gogh", "Van Gogh"),
        ("o'brien", "O'Brien"),
        ("IJZERMAN", "IJzerman"),
        ("smit-jansen", "Smit-Jansen"),
        ("DeVries", "DeVries"),
        ("Éclair", "Éclair"),
    ],
)
def test_proper_case(text, expected):
    assert proper_case(text) == expected


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c) for c in CANONICAL} for r in rows])
    frame["record_id"] = [f"r{i}" for i in range(len(frame))]
    frame["issues"] = ""
    return frame


# input fields -> (salutation, envelope name); covers the four BRP name-use codes E/P/V/N.
LINES = [
    (
        {"initials": "J.P.", "last_name": "de Vries", "gender": "M"},
        ("Geachte heer De Vries", "De heer J.P. de Vries"),
    ),
    ({"initials": "J.P.", "last_name": "de Vries"}, ("Geachte J.P. de Vries", "J.P. de Vries")),
    ({"last_name": "de Vries"}, ("Geachte heer/mevrouw De Vries", "De Vries")),
    (
        {"title": "Mevr.", "initials": "A.", "last_name": "Jansen-de Vries"},
        ("Geachte mevrouw Jansen-de Vries", "Mevrouw A. Jansen-de Vries"),
    ),
    (
        {"title": "Mevr.", "initials": "A.", "last_name": "de Vries e.v. Jansen"},
        ("Geachte mevrouw De Vries-Jansen", "Mevrouw A. de Vries-Jansen"),
    ),
    (
        {"title": "Mevr.", "initials": "A.", "last_name": "Jansen geb. de Vries"},
        ("Geachte mevrouw Jansen-de Vries", "Mevrouw A. Jansen-de Vries"),
    ),
    (
        {"title": "Dhr. drs.", "initials": "J", "infix": "van 't", "last_name": "Hof"},
        ("Geachte heer Van 't Hof", "De heer drs. J. van 't Hof"),
    ),
    ({"first_name": "Anna", "last_name": "d'Ancona"}, ("Geachte mevrouw D'Ancona", "Mevrouw A. d'Ancona")),
    ({"first_name": "Karim", "last_name": "El Amrani"}, ("Geachte heer El Amrani", "De heer K. El Amrani")),
    (
        {"initials": "P.", "last_name": "de Vries jr.", "gender": "man"},
        ("Geachte heer De Vries", "De heer P. de Vries jr."),
    ),
    ({"company_name": "Bakkerij Jansen B.V."}, ("Geachte heer/mevrouw", "Bakkerij Jansen B.V.")),
]


@pytest.mark.parametrize(
    "row,expected", LINES, ids=[str(r.get("last_name") or r.get("company_name")) for r, _ in LINES]
)
def test_salutation_and_envelope(row, expected):
    out, _ = normalize(_frame([row]))
    assert (out.loc[0, "salutation"], out.loc[0, "envelope_name"]) == expected


@pytest.mark.parametrize(
    "use,code,salutation",
    [
        ("own", "E", "Geachte mevrouw De Vries"),
        ("partner", "P", "Geachte mevrouw Jansen"),
        ("partner-own", "V", "Geachte mevrouw Jansen-de Vries"),
        ("own-partner", "N", "Geachte mevrouw De Vries-Jansen"),
    ],
)
def test_four_brp_name_use_codes(use, code, salutation):
    from cdq.normalize.name_lines import BRP_NAME_USE, salutation_and_envelope

    parts = {
        k: pd.array([v], dtype=object).to_numpy()
        for k, v in {
            "title": None,
            "initials": "A.",
            "first_name": None,
            "infix": "de",
            "last_name": "Vries",
            "partner_infix": None,
            "partner_last_name": "Jansen",
            "suffix": None,
            "name_use": use,
            "gender": "F",
        }.items()
    }
    import numpy as np

    sal, env = salutation_and_envelope(parts, np.array([False]), np.array([None], dtype=object))
    assert BRP_NAME_USE[use] == code
    assert sal[0] == salutation
    assert env[0] == "Mevrouw A. " + salutation.removeprefix("Geachte mevrouw ").replace(
        "De Vries", "de Vries"
    )


@pytest.mark.parametrize(
    "row,gender,code",
    [
        ({"title": "Dhr.", "last_name": "Jansen"}, "M", "GENDER_DERIVED"),
        ({"first_name": "Maria", "last_name": "Jansen"}, "F", "GENDER_DERIVED"),
        ({"first_name": "Willem", "last_name": "Jansen"}, "M", "GENDER_DERIVED"),
        ({"gender": "V", "last_name": "Jansen"}, "F", None),
        ({"gender": "vrouw", "last_name": "Jansen"}, "F", None),
        ({"gender": "Male", "last_name": "Jansen"}, "M", None),
        ({"gender": "M", "title": "Mevr.", "last_name": "Jansen"}, "M", "GENDER_CONFLICT"),
        ({"gender": "42", "last_name": "Jansen"}, None, "GENDER_UNKNOWN_VALUE"),
        ({"first_name": "Xyzzy", "last_name": "Jansen"}, None, None),
    ],
)
def test_gender(row, gender, code):
    out, findings = normalize(_frame([row]))
    assert out.loc[0, "gender"] == gender
    if code:
        assert code in set(findings["reason_code"])


def test_gender_from_shared_first_name_list(shared_data):
    path = shared_data / "nl_names" / "first_names_gender_voornamen.csv"
    out, _ = normalize(
        _frame([{"first_name": "Aafje", "last_name": "Bos"}, {"first_name": "Aad", "last_name": "Bos"}]),
        NormalizeConfig(first_names_file=str(path)),
    )
    assert out["gender"].tolist() == ["F", "M"]


@pytest.mark.parametrize(
    "row,infix,last,code",
    [
        ({"last_name": "de Vries"}, "de", "Vries", "NAME_INFIX_MOVED"),
        ({"first_name": "Jan de", "last_name": "Vries"}, "de", "Vries", "NAME_INFIX_MOVED"),
        ({"initials": "J.P. van der", "last_name": "Berg"}, "van der", "Berg", "NAME_INFIX_MOVED"),
        ({"infix": "De", "last_name": "Vries"}, "de", "Vries", None),
        ({"infix": "de", "last_name": "de Vries"}, "de", "Vries", "NAME_INFIX_MOVED"),
        ({"infix": "van", "last_name": "der Berg"}, "van der", "Berg", "NAME_INFIX_MOVED"),
    ],
)
def test_infix_wherever_typed(row, infix, last, code):
    out, _ = normalize(_frame([row]))
    assert (out.loc[0, "infix"], out.loc[0, "last_name"]) == (infix, last)
    if code:
        assert code in out.loc[0, "issues"].split(";")


@pytest.mark.parametrize(
    "row,last,salutation",
    [
        (
            {"initials": "J.", "last_name": "Van den Broeck", "gender": "M"},
            "Van den Broeck",
            "Geachte heer Van den Broeck",
        ),
        (
            {"initials": "J.", "last_name": "van den Broeck", "gender": "M"},
            "van den Broeck",
            "Geachte heer van den Broeck",
        ),
        (
            {"initials": "J.", "infix": "De", "last_name": "Smet", "gender": "F"},
            "De Smet",
            "Geachte mevrouw De Smet",
        ),
    ],
)
def test_belgian_convention_keeps_name_as_registered(row, last, salutation):
    out, _ = normalize(_frame([row]), NormalizeConfig(belgian=True))
    assert (out.loc[0, "infix"], out.loc[0, "last_name"], out.loc[0, "salutation"]) == (
        None,
        last,
        salutation,
    )


def test_initials_derived_from_first_name():
    out, findings = normalize(_frame([{"first_name": "Jan Pieter", "last_name": "Bos"}]))
    assert out.loc[0, "initials"] == "J.P."
    assert "NAME_INITIALS_DERIVED" in set(findings["reason_code"])


def test_top_1000_dutch_surnames_split_like_the_meertens_database(shared_data):
    """Independent truth: the Meertens institute's 'Jong, de' form of the 1000 most common surnames."""
    table = pd.read_csv(shared_data / "nl_names" / "surnames_top1000_2007.csv")
    truth = table["meertens db name"].str.partition(",")
    expected = list(zip(truth[2].str.strip().replace("", None), truth[0].str.strip(), strict=True))
    for form in (lambda s: s, str.upper, lambda s: s):
        got = [(p.infix, p.last_name) for p in map(parse_surname, table["natural name"].map(form))]
        pairs = list(zip(got, expected, strict=True))
        right = sum(g[0] == e[0] and g[1].lower() == e[1].lower() for g, e in pairs)
        assert right / len(table) >= 0.99, [(g, e) for g, e in pairs if g != e][:10]
    inverted = [(p.infix, p.last_name) for p in map(parse_surname, table["meertens db name"])]
    assert sum(g == e for g, e in zip(inverted, expected, strict=True)) / len(table) >= 0.99


@pytest.mark.parametrize(
    "text,expected",
    [
        ("v.d. Berg", (None, "v.d.", "Berg")),
        ("Berg v.d.", (None, "v.d.", "Berg")),
        ("vd Berg", (None, "vd", "Berg")),
        ("v. Dijk", (None, "v.", "Dijk")),
        ("J. v.d. Berg", ("J.", "v.d.", "Berg")),
        ("V.D. Berg", ("V.D.", None, "Berg")),
    ],
)
def test_abbreviated_prefixes_are_kept_and_flagged(text, expected):
    s = parse_surname(text)
    assert (s.initials, s.infix, s.last_name) == expected
    if expected[1]:
        out, _ = normalize(_frame([{"last_name": text}]))
        assert "NAME_INFIX_ABBREVIATED" in out.loc[0, "issues"].split(";")
