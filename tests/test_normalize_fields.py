"""Table-driven tests of phones, e-mails, postcodes, house numbers, dates and organisations."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import phonenumbers
import pytest

from cdq.address_parts import split_house_number, split_street
from cdq.normalize.addresses import canonical_postcode
from cdq.normalize.dates import parse_date
from cdq.normalize.emails import canonical_emails, suggest_domain
from cdq.normalize.organisations import (
    canonical_iban,
    canonical_kvk,
    canonical_vat,
    classify_party,
    legal_form,
)
from cdq.normalize.phones import canonical_phones, parse_phone

PHONES = [
    ("06-12345678", "+31612345678", "mobile"),
    ("06 12345678", "+31612345678", "mobile"),
    ("0612345678", "+31612345678", "mobile"),
    ("+31612345678", "+31612345678", "mobile"),
    ("+31 (0)6 1234 5678", "+31612345678", "mobile"),
    ("+31 (0)6-12345678", "+31612345678", "mobile"),
    ("0031612345678", "+31612345678", "mobile"),
    ("0031 6 12345678", "+31612345678", "mobile"),
    ("+31 6 12 34 56 78", "+31612345678", "mobile"),
    ("612345678", "+31612345678", "mobile"),
    ("06.12.34.56.78", "+31612345678", "mobile"),
    ("(06) 12345678", "+31612345678", "mobile"),
    ("020-1234567", "+31201234567", "fixed"),
    ("020 123 4567", "+31201234567", "fixed"),
    ("(020) 1234567", "+31201234567", "fixed"),
    ("+31 20 123 4567", "+31201234567", "fixed"),
    ("0031 20 1234567", "+31201234567", "fixed"),
    ("010-4123456", "+31104123456", "fixed"),
    ("0111-412345", "+31111412345", "fixed"),
    ("0591 612345", "+31591612345", "fixed"),
    ("+31 (0)591 612345", "+31591612345", "fixed"),
    ("201234567", "+31201234567", "fixed"),
    ("0800-1234", "+318001234", "other"),
    ("+32 470 12 34 56", "+32470123456", "mobile"),
    ("+44 20 7946 0958", "+442079460958", "fixed"),
    ("0032 2 555 12 12", "+3225551212", "fixed"),
    ("12345", None, None),
    ("06-1234", None, None),
    ("0612345678901", None, None),
    ("n.v.t.", None, None),
    ("000-0000000", None, None),
    ("onbekend", None, None),
    ("", None, None),
    ("06-1234567", None, None),
]


@pytest.mark.parametrize("text,e164,kind", PHONES, ids=[p[0] or "empty" for p in PHONES])
def test_phones_fast_path(text, e164, kind):
    out = canonical_phones(pd.Series([text or None], dtype=object))
    assert (out.loc[0, "e164"], out.loc[0, "kind"]) == (e164, kind)


def test_fast_path_agrees_with_phonenumbers_on_random_dutch_numbers():
    rng = random.Random(7)
    numbers = ["0" + str(rng.randint(100_000_000, 999_999_999)) for _ in range(3000)]
    fast = canonical_phones(pd.Series(numbers, dtype=object))
    slow = [parse_phone(n) for n in numbers]
    assert fast["e164"].tolist() == [s[0] for s in slow]
    assert fast["kind"].tolist() == [s[1] for s in slow]
    assert sum(s[0] is not None for s in slow) > 500  # the sample has plenty of valid numbers


def test_phone_moves_between_phone_and_mobile():
    from cdq.normalize import normalize

    frame = pd.DataFrame(
        {
            "record_id": ["a", "b", "c"],
            "phone": ["06-12345678", "020-1234567", "06-11111111"],
            "mobile": [None, "+31 20 7654321", "010-4123456"],
        }
    )
    out, findings = normalize(frame)
    assert out["phone"].tolist() == [None, "+31201234567", "+31104123456"]
    assert out["mobile"].tolist() == ["+31612345678", "+31207654321", "+31611111111"]
    assert phonenumbers.is_valid_number(phonenumbers.parse(out.loc[0, "mobile"]))


EMAILS = [
    ("jan@gmail.com", "jan@gmail.com"),
    ("Jan.de.Vries@ZIGGO.NL", "jan.de.vries@ziggo.nl"),  # lower-cased whole (issue 15)
    ("  jan@kpnmail.nl ", "jan@kpnmail.nl"),
    ("mailto:jan@xs4all.nl", "jan@xs4all.nl"),
    ("<jan@hetnet.nl>", "jan@hetnet.nl"),
    ("jan+crm@gmail.com", "jan+crm@gmail.com"),
    ("ïna@ziggo.nl", "ïna@ziggo.nl"),
    ("a@b", None),
    ("jan@@x.nl", None),
    ("jan.@gmail.com", None),
    ("jan gmail.com", None),
    ("info@example.local", None),
    ("jan@", None),
    ("@ziggo.nl", None),
    ("jan..piet@ziggo.nl", None),
    ("jan@ziggo", None),
]


@pytest.mark.parametrize("text,expected", EMAILS, ids=[e[0] for e in EMAILS])
def test_email_syntax_and_domain_case(text, expected):
    assert canonical_emails(pd.Series([text], dtype=object)).loc[0, "email"] == expected


TYPOS = [
    ("gmial.com", "gmail.com"),
    ("gmai.com", "gmail.com"),
    ("gamil.com", "gmail.com"),
    ("hotmial.com", "hotmail.com"),
    ("hotmail.nll", "hotmail.nl"),
    ("ziggo.nll", "ziggo.nl"),
    ("zigo.nl", "ziggo.nl"),
    ("kpnmail.com", "kpnmail.nl"),
    ("kpnmial.nl", "kpnmail.nl"),
    ("gmail.con", "gmail.com"),
    ("hotmail.cmo", "hotmail.com"),
    ("outlok.com", "outlook.com"),
    ("xs4al.nl", "xs4all.nl"),
    ("yahooo.com", "yahoo.com"),
    ("telenet.nl", "telenet.be"),
    ("gmail.com", None),
    ("hotmail.nl", None),
    ("live.nl", None),
    ("bakkerij-jansen.nl", None),
    ("ziggo.nl", None),
    ("gemeente.nl", None),
    ("home.nl", None),
]


@pytest.mark.parametrize("domain,expected", TYPOS, ids=[t[0] for t in TYPOS])
def test_email_domain_typos(domain, expected):
    assert suggest_domain(domain) == expected


@pytest.mark.parametrize(
    "email,codes",
    [
        ("info@bakker.nl", {"EMAIL_ROLE_ADDRESS"}),
        ("administratie@bakker.nl", {"EMAIL_ROLE_ADDRESS"}),
        ("noreply@bol.com", {"EMAIL_NO_REPLY"}),
        ("no-reply@bol.com", {"EMAIL_NO_REPLY"}),
        ("piet@gmial.com", {"EMAIL_DOMAIN_TYPO"}),
        ("geen e-mail", {"EMAIL_INVALID"}),
        ("piet@bakker.nl", set()),
    ],
)
def test_email_flags(email, codes):
    from cdq.normalize import normalize

    out, findings = normalize(pd.DataFrame({"record_id": ["a"], "email": [email]}))
    found = set(findings["reason_code"]) - {"EMAIL_REFORMATTED", "PARTY_TYPE_DERIVED"}
    assert found == codes


POSTCODES = [
    ("1234ab", "1234 AB"),
    ("1234-AB", "1234 AB"),
    ("1234 ab", "1234 AB"),
    ("1234AB", "1234 AB"),
    (" 1234  AB ", "1234 AB"),
    ("1234 Ab", "1234 AB"),
    ("1234.AB", "1234 AB"),
    ("9999 ZZ", "9999 ZZ"),
    ("1000 AA", "1000 AA"),
    ("0123 AB", None),
    ("1234 SA", None),
    ("1234 SD", None),
    ("1234 SS", None),
    ("123 AB", None),
    ("12345", None),
    ("1234", None),
    ("1234 A1", None),
    ("AB 1234", None),
    ("1234 ABC", None),
]


@pytest.mark.parametrize("text,expected", POSTCODES, ids=[p[0] for p in POSTCODES])
def test_postcode(text, expected):
    canonical, valid = canonical_postcode(pd.Series([text], dtype=object))
    assert (canonical[0] if valid[0] else None) == expected


def test_foreign_postcode_is_not_flagged():
    from cdq.normalize import normalize

    frame = pd.DataFrame({"record_id": ["a", "b"], "postcode": ["1000", "1000"], "country": ["BE", None]})
    out, findings = normalize(frame)
    assert findings.loc[findings["reason_code"] == "POSTCODE_INVALID", "record_id"].tolist() == ["b"]
    assert out["postcode_pc4"].isna().all()


HOUSE = [
    ("12", ("12", None, None)),
    ("12a", ("12", "A", None)),
    ("12-A", ("12", "A", None)),
    ("12 A", ("12", "A", None)),
    ("12-2", ("12", None, "2")),
    ("12 hs", ("12", None, "HS")),
    ("12 bis", ("12", None, "BIS")),
    ("12 III", ("12", None, "III")),
    ("12/14", ("12", None, "14")),
    ("12B-3", ("12", "B", "3")),
    ("12 1hg", ("12", None, "1HG")),
    ("12-bis", ("12", None, "BIS")),
    ("nr. 7", ("7", None, None)),
    ("0012", ("12", None, None)),
    ("12a2", ("12", "A", "2")),
    ("12 A 2", ("12", "A", "2")),
    ("12.a", ("12", "A", None)),
    ("12 rd", ("12", None, "RD")),
    ("abc", (None, None, None)),
]


@pytest.mark.parametrize("text,expected", HOUSE, ids=[h[0] for h in HOUSE])
def test_house_number(text, expected):
    h = split_house_number(text)
    assert (h.number, h.letter, h.addition) == expected


STREETS = [
    ("Kerkstraat 12-A", ("Kerkstraat", "12", "A", None)),
    ("Kerkstraat 12", ("Kerkstraat", "12", None, None)),
    ("Kerkstraat12", ("Kerkstraat", "12", None, None)),
    ("Kerkstraat nr. 12 hs", ("Kerkstraat", "12", None, "HS")),
    ("2e Jan Steenstraat 5 hs", ("2e Jan Steenstraat", "5", None, "HS")),
    ("Plein 1940-1945 3", ("Plein 1940-1945", "3", None, None)),
    ("Laan van 1813 12", ("Laan van 1813", "12", None, None)),
    ("Kerkstraat 1522 1hg", ("Kerkstraat", "1522", None, "1HG")),
    ("Kerkstraat", ("Kerkstraat", None, None, None)),
]


@pytest.mark.parametrize("text,expected", STREETS, ids=[s[0] for s in STREETS])
def test_street_and_number(text, expected):
    s = split_street(text)
    assert (s.street, s.house_number.number, s.house_number.letter, s.house_number.addition) == expected


def test_addition_column_with_a_letter_becomes_house_letter():
    from cdq.normalize import normalize

    frame = pd.DataFrame(
        {"record_id": ["a", "b"], "house_number": ["12", "12"], "house_number_addition": ["a", "-2"]}
    )
    out, _ = normalize(frame)
    assert out[["house_letter", "house_number_addition"]].values.tolist() == [["A", None], [None, "2"]]


TODAY = dt.date(2026, 1, 1)
DATES = [
    ("03-03-1961", ("1961-03-03", None)),
    ("3-3-1961", ("1961-03-03", None)),
    ("3/3/61", ("1961-03-03", None)),
    ("1961-03-03", ("1961-03-03", None)),
    ("3 maart 1961", ("1961-03-03", None)),
    ("3 mrt 1961", ("1961-03-03", None)),
    ("03.03.1961", ("1961-03-03", None)),
    ("19610303", ("1961-03-03", None)),
    ("03031961", ("1961-03-03", None)),
    ("1961-03-03 00:00:00", ("1961-03-03", None)),
    ("4/5/61", ("1961-05-04", "ambiguous")),
    ("12/31/1961", ("1961-12-31", "month-day")),
    ("31-02-1961", (None, "invalid")),
    ("29-02-1961", (None, "invalid")),
    ("29-02-1960", ("1960-02-29", None)),
    ("1 januari 05", ("2005-01-01", None)),
    ("15 Oktober 1999", ("1999-10-15", None)),
    ("gisteren", (None, "invalid")),
    ("00-00-0000", (None, "invalid")),
    ("", (None, None)),
]


@pytest.mark.parametrize("text,expected", DATES, ids=[d[0] or "empty" for d in DATES])
def test_dates(text, expected):
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Bakkerij Jansen b.v.", "B.V."),
        ("Jansen BV", "B.V."),
        ("Jansen B.V.", "B.V."),
        ("Philips N.V.", "N.V."),
        ("Jansen & Zn V.O.F.", "V.O.F."),
        ("Jansen C.V.", "C.V."),
        ("Stichting Het Gebouw", "Stichting"),
        ("Vereniging Oranje", "Vereniging"),
        ("Coöperatie Rabo U.A.", "Coöperatie"),
        ("Eenmanszaak Bos", "Eenmanszaak"),
        ("Jan de Vries", None),
        ("Bvba Peeters", "B.V.B.A."),
    ],
)
def test_legal_form(name, expected):
    assert legal_form(name) == expected


@pytest.mark.parametrize("name,expected", [
    # initials that spell a legal form, before a person's name, are initials (the demo lost five pairs to it)
    ("A.G. Ali Smit", None), ("A.G. van der Heijden-Groen", None), ("A.G. Lex de Groot", None),
    ("C.V. Bakker", None), ("S.A. de Jong", None), ("B.V. Marieke Jansen", None),
    # a Dutch form that leads a company name, or any form after the name, is still a legal form
    ("N.V. Nutricia", "N.V."), ("B.V. Handelmaatschappij de Vries", "B.V."), ("Siemens A.G.", "A.G."),
    ("Smit AG", "A.G."),
])
def test_initials_that_spell_a_legal_form(name, expected):
    assert legal_form(name) == expected


def test_a_person_with_legal_form_initials_stays_a_person():
    from cdq.importers.base import RawTable
    from cdq.names import check_names
    from cdq.staging import stage

    raw = RawTable(frame=pd.DataFrame({"Naam": ["A.G. van der Heijden-Groen", "Bakkerij Smit B.V."]}), rows=[2, 3],
                   source_file="t.csv")
    staged, _ = stage(raw)
    assert staged["company_name"].tolist() == [None, "Bakkerij Smit B.V."]
    assert staged["last_name"].tolist()[0].endswith("Heijden-Groen") and staged["initials"].tolist()[0] == "A.G."
    flagged = check_names(pd.Series(["A.G. Ali Smit", "Installatie Jansen B.V."]))
    assert flagged["name_issues"].map(lambda v: "NAME_IS_COMPANY" in str(v)).tolist() == [False, True]


@pytest.mark.parametrize(
    "func,value,expected",
    [
        (canonical_kvk, "12345678", "12345678"),
        (canonical_kvk, "1234 5678", "12345678"),
        (canonical_kvk, "123", None),
        (canonical_vat, "NL004495445B01", "NL004495445B01"),
        (canonical_vat, "nl 0044.95.445.b01", "NL004495445B01"),
        (canonical_vat, "NL004495446B01", None),
        (canonical_vat, "BE 0403.170.701", "BE0403170701"),
        (canonical_iban, "NL91ABNA0417164300", "NL91ABNA0417164300"),
        (canonical_iban, "NL91 ABNA 0417 1643 01", None),
        (canonical_iban, "nl91abna0417164300", "NL91ABNA0417164300"),
    ],
)
def test_company_numbers(func, value, expected):
    assert func(value) == expected


@pytest.mark.parametrize(
    "args,expected",
    [
        ((None, "Bakkerij Jansen B.V.", None, None, None), "organisation"),
        ((None, None, None, None, "12345678"), "organisation"),
        ((None, None, "Installatietechniek Bos", None, None), "organisation"),
        ((None, "Bakkerij Jansen B.V.", "Jansen", "Piet", None), "person"),
        (("Particulier", "Bakkerij", None, None, None), "person"),
        (("Zakelijk", None, "Jansen", None, None), "organisation"),
        ((None, None, "Jansen", None, None), "person"),
    ],
)
def test_party_type(args, expected):
    assert classify_party(*args) == expected
