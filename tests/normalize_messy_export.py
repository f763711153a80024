"""A seeded generator of a messy Dutch back-office export WITH ground truth (for the normalize tests).

:func:`generate` returns ``(export, truth)``: ``export`` is what a back-office system writes (Dutch
headers, values typed every way people type them), ``truth`` holds per ``Klantnummer`` the canonical
answer: infix and surname, postcode (or None when the typed postcode is invalid), house number parts and
the E.164 phone numbers (None when the typed number is not dialable).
"""

from __future__ import annotations

import random

import pandas as pd
import phonenumbers

FIRST = [
    "Jan",
    "Piet",
    "Kees",
    "Anna",
    "Maria",
    "Sanne",
    "Willem",
    "Johanna",
    "Pieter",
    "Eva",
    "Daan",
    "Lotte",
    "Hendrik",
    "Fatima",
    "Mohamed",
    "Sophie",
    "Thomas",
    "Emma",
    "Bram",
    "Ilse",
]
CORES = [
    "Vries",
    "Berg",
    "Jong",
    "Bakker",
    "Hof",
    "Veld",
    "Brink",
    "Dijk",
    "Meer",
    "Wal",
    "Heuvel",
    "Broek",
    "Bosch",
    "Leeuw",
    "Graaf",
    "Ven",
    "Laan",
    "Boer",
    "Haan",
    "Beek",
    "Kamp",
    "Poel",
    "Water",
    "Zanden",
]
PLAIN = [
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "El Amrani",
    "Yilmaz",
    "Kok",
    "Willems",
    "Koster",
    "Prins",
    "Huisman",
    "Kuipers",
]
INFIXES = [
    "de",
    "van",
    "van der",
    "van den",
    "van de",
    "ten",
    "ter",
    "van 't",
    "in 't",
    "den",
    "uit de",
    "op den",
    "van het",
    "de la",
    "te",
    "d'",
]
STREETS = [
    "Kerkstraat",
    "Dorpsstraat",
    "Molenweg",
    "Stationsplein",
    "Hoofdstraat",
    "Julianalaan",
    "Wilhelminastraat",
    "2e Jan Steenstraat",
    "Laan van Meerdervoort",
    "Prins Hendrikkade",
]
AREA_3 = [
    "20",
    "10",
    "30",
    "70",
    "40",
    "50",
    "13",
    "15",
    "23",
    "24",
    "26",
    "35",
    "38",
    "43",
    "45",
    "53",
    "55",
    "58",
    "71",
    "72",
    "73",
    "74",
    "75",
    "76",
    "77",
    "78",
    "79",
]
AREA_4 = ["111", "162", "172", "180", "223", "251", "294", "314", "321", "412", "492", "515", "522", "591"]


def _name(rng: random.Random) -> dict:
    """Truth of one person's name and how it is typed (first name, infix column, surname column)."""
    first = rng.choice(FIRST)
    if rng.random() < 0.45:
        last = rng.choice(PLAIN)
        return {
            "first": first,
            "infix": None,
            "last": last,
            "typed_infix": "",
            "typed_first": first,
            "typed_last": last.upper() if rng.random() < 0.2 else last,
        }
    infix, core = rng.choice(INFIXES), rng.choice(CORES)
    joined = f"{infix}{'' if infix.endswith(chr(39)) else ' '}{core}"
    style = rng.randrange(13)
    typed_first, typed_infix = first, ""
    initials = first[0] + "."
    if style == 10:  # the whole name, inverted, in the surname column
        return {
            "first": first,
            "infix": infix,
            "last": core,
            "typed_infix": "",
            "typed_first": "",
            "typed_last": f"{core}, {rng.choice([initials, first])} {infix}",
        }
    if style == 11:  # salutation and initials typed in the surname column
        return {
            "first": first,
            "infix": infix,
            "last": core,
            "typed_infix": "",
            "typed_first": "",
            "typed_last": f"{rng.choice(['dhr.', 'Mevr.', 'De heer', 'mw'])} {initials} {joined}",
        }
    if style == 12:  # a partner name in capitals
        partner = rng.choice(PLAIN[:12])
        return {
            "first": first,
            "infix": infix,
            "last": core,
            "typed_infix": "",
            "typed_first": first,
            "typed_last": f"{partner}-{joined}".upper(),
            "partner": partner,
        }
    if style == 0:
        typed_infix, typed_last = rng.choice([infix, infix.capitalize(), infix.upper()]), core
    elif style == 1:
        typed_last = joined
    elif style == 2:
        typed_last = f"{core} {infix}"
    elif style == 3:
        typed_last = f"{core}, {infix}"
    elif style == 4:
        typed_last = joined.upper()
    elif style == 5:
        typed_first, typed_last = f"{first} {infix}", core
    elif style == 6:
        typed_last = " ".join(w.capitalize() if w[0].isalpha() else w for w in joined.split(" "))
    elif style == 7:
        typed_last = f"{core} {infix}".lower()
    elif style == 8:
        partner = rng.choice(PLAIN[:12])
        return {
            "first": first,
            "infix": infix,
            "last": core,
            "typed_infix": "",
            "typed_first": first,
            "typed_last": f"{partner}-{joined}",
            "partner": partner,
        }
    else:
        typed_infix, typed_last = infix, joined  # typed twice: in the infix column and the surname
    return {
        "first": first,
        "infix": infix,
        "last": core,
        "typed_infix": typed_infix,
        "typed_first": typed_first,
        "typed_last": typed_last,
    }


def _postcode(rng: random.Random) -> tuple[str, str | None]:
    """(typed, truth); truth None for an invalid postcode."""
    if rng.random() < 0.04:
        bad = rng.choice(["0123 AB", "1234 SS", "1234 SA", "123 AB", "12345", "1234 A1", "AB 1234"])
        return bad, None
    digits = str(rng.randint(1000, 9999))
    letters = "".join(rng.choice("ABCEFGHJKLMNPRTVWXZ") for _ in range(2))
    spelled = rng.choice(
        [
            f"{digits}{letters.lower()}",
            f"{digits} {letters.lower()}",
            f"{digits}-{letters}",
            f"{digits}{letters}",
            f" {digits}  {letters} ",
            f"{digits} {letters.capitalize()}",
            f"{digits} {letters}",
        ]
    )
    return spelled, f"{digits} {letters}"


_HOUSE = [
    ("{n}", None, None),
    ("{n}a", "A", None),
    ("{n}-A", "A", None),
    ("{n} A", "A", None),
    ("{n}-2", None, "2"),
    ("{n} hs", None, "HS"),
    ("{n} bis", None, "BIS"),
    ("{n} III", None, "III"),
    ("{n}B-3", "B", "3"),
    ("{n}/14", None, "14"),
    ("{n} 1hg", None, "1HG"),
    ("{n}-bis", None, "BIS"),
    ("{n} b", "B", None),
]


def _house(rng: random.Random) -> tuple[dict, dict]:
    """(typed columns Straat/Huisnummer/Toevoeging, truth number/letter/addition)."""
    n = str(rng.choice([rng.randint(1, 99), rng.randint(1, 400), rng.randint(1, 2500)]))
    street = rng.choice(STREETS)
    pattern, letter, addition = rng.choice(_HOUSE)
    typed_number = pattern.format(n=n)
    where = rng.randrange(4)
    if where == 0:  # street and number in the street column
        typed = {"Straat": f"{street} {typed_number}", "Huisnummer": "", "Toevoeging": ""}
    elif where == 1 and (letter or addition) and pattern.startswith("{n} "):
        typed = {"Straat": street, "Huisnummer": n, "Toevoeging": pattern[4:]}
    else:
        typed = {"Straat": street, "Huisnummer": typed_number, "Toevoeging": ""}
    return typed, {"number": n, "letter": letter, "addition": addition, "street": street}


def _phone(rng: random.Random) -> tuple[str, str | None]:
    """(typed, truth E.164 or None when not dialable)."""
    if rng.random() < 0.05:
        return rng.choice(["12345", "06-1234", "0612345678901", "n.v.t.", "000-0000000", "onbekend"]), None
    while True:
        if rng.random() < 0.5:
            nsn = "6" + str(rng.randint(1, 5)) + "".join(str(rng.randrange(10)) for _ in range(7))
        elif rng.random() < 0.6:
            nsn = (
                rng.choice(AREA_3)
                + str(rng.randint(2, 9))
                + "".join(str(rng.randrange(10)) for _ in range(6))
            )
        else:
            nsn = (
                rng.choice(AREA_4)
                + str(rng.randint(2, 9))
                + "".join(str(rng.randrange(10)) for _ in range(5))
            )
        if phonenumbers.is_valid_number(phonenumbers.parse("+31" + nsn)):
            break
    area = 1 if nsn[0] == "6" else (2 if nsn[:2] in AREA_3 else 3)
    local = nsn[area:]
    spelled = rng.choice(
        [
            f"0{nsn[:area]}-{local}",
            f"0{nsn}",
            f"+31{nsn}",
            f"+31 (0){nsn[:area]} {local[:4]} {local[4:]}",
            f"0031{nsn}",
            f"+31 {nsn[:area]} {local}",
            f"(0{nsn[:area]}) {local}",
            f"0{nsn[:area]} {local}",
            nsn,
            f"0031 (0){nsn}",
            f"0{nsn[:area]}-{local[:3]} {local[3:]}",
        ]
    )
    return spelled, "+31" + nsn


def generate(
    n: int = 4000, seed: int = 20240601, infix_column: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The export (semicolon-CSV-ready, Dutch headers) and its truth, both keyed by ``Klantnummer``."""
    rng = random.Random(seed)
    rows, truth = [], []
    for i in range(n):
        name = _name(rng)
        if not infix_column and name["typed_infix"]:
            name["typed_last"] = f"{name['typed_infix']} {name['typed_last']}"
            name["typed_infix"] = ""
        house, house_truth = _house(rng)
        postcode, postcode_truth = _postcode(rng)
        phone, phone_truth = _phone(rng)
        key = f"K{seed % 1000:03d}{i:06d}"
        row = {
            "Klantnummer": key,
            "Voorletters": "",
            "Voornaam": name["typed_first"],
            "Achternaam": name["typed_last"],
            **house,
            "Postcode": postcode,
            "Woonplaats": "Utrecht",
            "Telefoon": phone,
            "E-mail": f"{name['first'].lower()}.{i}@ziggo.nl",
            "Geboortedatum": f"{rng.randint(1, 28)}-{rng.randint(1, 12)}-{rng.randint(1930, 2005)}",
        }
        if infix_column:
            row["Tussenvoegsel"] = name["typed_infix"]
        rows.append(row)
        truth.append(
            {
                "Klantnummer": key,
                "infix": name["infix"],
                "last_name": name["last"],
                "partner": name.get("partner"),
                "postcode": postcode_truth,
                **house_truth,
                "phone": phone_truth,
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(truth)
