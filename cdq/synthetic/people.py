"""The true entities behind synthetic customer records: persons in households, and organisations.

:func:`generate_population` draws a seeded population that has what makes Dutch customer matching hard:
formal names with call names (Johannes "Jan"), initials, tussenvoegsels, married persons using their
partner's surname, households sharing an address and landline, fathers and sons with the same initial
living together, twins, and organisations with several locations sharing one KvK number.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import pandas as pd

from cdq.synthetic import names as N
from cdq.synthetic.addresses import sample_addresses

#: household kinds, their share and number of members (head, partner, junior, twin roles).
HOUSEHOLD_KINDS = {"single": (0.44, ["head"]), "couple": (0.40, ["head", "partner"]),
                   "father_son": (0.09, ["head", "partner", "junior"]), "twins": (0.07, ["twin", "twin"])}


@lru_cache(maxsize=1)
def _first_names() -> dict[tuple[str, str], tuple[np.ndarray, list[list[str]]]]:
    """(group, gender) -> (formal names, call names per formal name)."""
    table = {}
    for gender, nick, plain in (("M", N.MALE_NICKNAMES, N.MALE_FIRST), ("F", N.FEMALE_NICKNAMES, N.FEMALE_FIRST)):
        formal = list(nick) + sorted(set(plain) - set(nick))
        table[("nl", gender)] = (np.array(formal), [nick.get(f, [f]) for f in formal])
    for group, (male, female, _) in N.MIGRANT.items():
        for gender, words in (("M", male), ("F", female)):
            formal = words.split()
            table[(group, gender)] = (np.array(formal), [[f] for f in formal])
    return table


@lru_cache(maxsize=1)
def _surnames() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """group -> (infixes, surnames, draw probabilities); Dutch ones weighted by rank."""
    seen = list(dict.fromkeys(N.DUTCH_SURNAMES))
    weight = 1.0 / (np.arange(len(seen)) + 8.0)
    table = {"nl": (np.array([i for i, _ in seen]), np.array([s for _, s in seen]), weight / weight.sum())}
    for group, (_, _, words) in N.MIGRANT.items():
        split = [w.replace("_", " ") for w in words.replace("El ", "El_").split()]
        table[group] = (np.array([""] * len(split)), np.array(split), np.full(len(split), 1.0 / len(split)))
    return table


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form for e-mail local parts.

    Examples:
        >>> ascii_fold("Zoë Öztürk-de Wit")
        'zoeozturk-dewit'
    """
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _households(rng: np.random.Generator, n_persons: int) -> pd.DataFrame:
    """One row per person: household number, household kind and role."""
    kinds = list(HOUSEHOLD_KINDS)
    share = np.array([HOUSEHOLD_KINDS[k][0] for k in kinds])
    drawn = rng.choice(len(kinds), size=n_persons, p=share)
    sizes = np.array([len(HOUSEHOLD_KINDS[k][1]) for k in kinds])[drawn]
    keep = np.searchsorted(np.cumsum(sizes), n_persons) + 1
    drawn, sizes = drawn[:keep], sizes[:keep]
    hh = np.repeat(np.arange(keep), sizes)
    position = np.arange(len(hh)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    roles = np.array([HOUSEHOLD_KINDS[k][1] + [""] * (3 - len(HOUSEHOLD_KINDS[k][1])) for k in kinds])
    frame = pd.DataFrame({"hh": hh, "kind": np.array(kinds)[drawn[hh]], "role": roles[drawn[hh], position]})
    return frame.iloc[:n_persons].reset_index(drop=True)


def _genders(rng: np.random.Generator, people: pd.DataFrame) -> np.ndarray:
    head_gender = np.where(rng.random(people["hh"].max() + 1) < 0.5, "M", "F")
    gender = head_gender[people["hh"]]
    role, kind = people["role"].to_numpy(), people["kind"].to_numpy()
    gender = np.where((kind == "father_son") & (role == "head"), "M", gender)
    opposite = np.where(gender == "M", "F", "M")
    same_sex = rng.random(len(people)) < 0.04
    gender = np.where((role == "partner") & ~same_sex, opposite, gender)
    gender = np.where((kind == "father_son") & (role == "partner"), "F", gender)
    gender = np.where(role == "junior", "M", gender)
    return np.where(role == "twin", np.where(rng.random(len(people)) < 0.5, "M", "F"), gender)


def _origins(rng: np.random.Generator, people: pd.DataFrame) -> np.ndarray:
    groups = ["nl"] + list(N.MIGRANT_SHARE)
    share = np.array([1 - sum(N.MIGRANT_SHARE.values())] + list(N.MIGRANT_SHARE.values()))
    by_household = np.array(groups)[rng.choice(len(groups), size=people["hh"].max() + 1, p=share)]
    origin = by_household[people["hh"]]
    mixed = (people["role"].to_numpy() == "partner") & (rng.random(len(people)) < 0.15)
    return np.where(mixed, "nl", origin)


def _draw_names(rng: np.random.Generator, origin: np.ndarray, gender: np.ndarray) -> pd.DataFrame:
    """Formal first name, call name, given names (for initials), infix and surname per person."""
    n = len(origin)
    out = {k: np.empty(n, dtype=object) for k in ("first_name", "call_name", "given_names", "infix", "last_name")}
    for (group, sex), (formal, calls) in _first_names().items():
        idx = np.flatnonzero((origin == group) & (gender == sex))
        if not len(idx):
            continue
        pick = rng.integers(0, len(formal), len(idx))
        out["first_name"][idx] = formal[pick]
        nick_pos = (rng.random(len(idx)) ** 2 * 4).astype(int)
        out["call_name"][idx] = [calls[p][min(k, len(calls[p]) - 1)] for p, k in zip(pick, nick_pos)]
        extra = formal[rng.integers(0, len(formal), len(idx))]
        second = np.where(rng.random(len(idx)) < (0.55 if group == "nl" else 0.2), extra, "")
        out["given_names"][idx] = [f"{a} {b}".strip() for a, b in zip(formal[pick], second)]
    for group, (infixes, surnames, weight) in _surnames().items():
        idx = np.flatnonzero(origin == group)
        pick = rng.choice(len(surnames), size=len(idx), p=weight)
        out["infix"][idx], out["last_name"][idx] = infixes[pick], surnames[pick]
    return pd.DataFrame(out)


def initials_of(given_names: pd.Series) -> pd.Series:
    """"Johannes Cornelis" -> "J.C." (one letter per given name, "IJ" kept together).

    Examples:
        >>> initials_of(pd.Series(["Johannes Cornelis", "IJsbrand", "Mehmet"])).tolist()
        ['J.C.', 'IJ.', 'M.']
    """
    def one(text: str) -> str:
        return "".join(("IJ" if w.startswith("IJ") else w[0]) + "." for w in text.split())

    distinct = {v: one(v) for v in given_names.unique()}
    return given_names.map(distinct)


def _head_rows(people: pd.DataFrame) -> np.ndarray:
    """Row number of each person's household head (members of a household are consecutive rows)."""
    hh = people["hh"].to_numpy()
    starts = np.flatnonzero(np.r_[True, hh[1:] != hh[:-1]])
    return starts[np.cumsum(np.r_[True, hh[1:] != hh[:-1]]) - 1]


def _family_links(people: pd.DataFrame, rng: np.random.Generator) -> None:
    """Juniors carry their father's surname and (mostly) first name; twins share a surname."""
    head = _head_rows(people)
    junior = (people["role"] == "junior").to_numpy()
    linked = junior | (people["role"] == "twin").to_numpy()
    for col in ("infix", "last_name"):
        people.loc[linked, col] = people[col].to_numpy()[head[linked]]
    named_after = junior & (rng.random(len(people)) < 0.7)
    for col in ("first_name", "given_names"):
        people.loc[named_after, col] = people[col].to_numpy()[head[named_after]]
    # a junior named after his father goes by another call name ("Jan" and "Hans" de Vries)
    last_call = {}
    for (group, sex), (formal, calls) in _first_names().items():
        if sex == "M":
            last_call.update({(group, f): c[-1] for f, c in zip(formal, calls)})
    keys = zip(people.loc[named_after, "origin"], people.loc[named_after, "first_name"])
    people.loc[named_after, "call_name"] = [last_call.get(k, k[1]) for k in keys]


def _partners(people: pd.DataFrame, rng: np.random.Generator) -> None:
    """Partner surname and name use (E own, P partner's, V partner's-own, N own-partner's)."""
    role, hh = people["role"].to_numpy(), people["hh"].to_numpy()
    nxt, prv = np.r_[np.arange(1, len(people)), 0], np.r_[0, np.arange(len(people) - 1)]
    head_with = (role == "head") & (role[nxt] == "partner") & (hh[nxt] == hh)
    partner = role == "partner"
    other = np.where(head_with, nxt, np.where(partner, prv, -1))
    has = other >= 0
    for col in ("infix", "last_name"):
        values = people[col].to_numpy()
        people["partner_" + col] = np.where(has, values[np.maximum(other, 0)], "")
    r = rng.random(len(people))
    female = people["gender"].to_numpy() == "F"
    use = np.where(female, np.select([r < 0.18, r < 0.45, r < 0.5], ["P", "V", "N"], "E"),
                   np.where(r < 0.03, "P", "E"))
    people["name_use"] = np.where(has, use, "E")


def _dates(rng: np.random.Generator, people: pd.DataFrame) -> pd.Series:
    start = np.datetime64("1938-01-01")
    hh_n = people["hh"].max() + 1
    base = rng.integers(0, 365 * 64, hh_n)
    kind = people["kind"].to_numpy()
    role = people["role"].to_numpy()
    base_p = base[people["hh"]]
    base_p = np.where(kind == "father_son", base_p % (365 * 36), base_p)
    days = base_p + np.where(role == "partner", rng.normal(0, 900, len(people)).astype(int), 0)
    days = np.where(role == "junior", base_p + rng.integers(365 * 22, 365 * 32, len(people)), days)
    days = np.where(role == "twin", 365 * 22 + base_p % (365 * 40), days)
    days = np.clip(days, 0, 365 * 68)
    return pd.Series((start + days.astype("timedelta64[D]")).astype(str))


def _phones(rng: np.random.Generator, area: pd.Series, n: int) -> tuple[pd.Series, pd.Series]:
    """A landline (area code + local number, 10 digits) and a mobile (06 + 8 digits)."""
    local = pd.Series(rng.integers(2_000_000, 9_999_999, n).astype(str))
    landline = area.to_numpy() + np.where(area.str.len().to_numpy() == 3, local.to_numpy(), local.str[1:].to_numpy())
    mobile = "06" + pd.Series(rng.integers(10_000_000, 59_999_999, n).astype(str))
    return pd.Series(landline), mobile


def _emails(rng: np.random.Generator, first: pd.Series, infix: pd.Series, last: pd.Series,
            initials: pd.Series, year: pd.Series) -> pd.Series:
    """Realistic private addresses: jan.devries@, j.devries@, jandevries72@, devries.jan@."""
    f = first.map({v: ascii_fold(v) for v in first.unique()})
    surname = (infix + last).map({v: ascii_fold(v) for v in (infix + last).unique()})
    ini = initials.str.replace(".", "", regex=False).str.lower()
    pattern = rng.integers(0, 5, len(first))
    local = np.select(
        [pattern == 0, pattern == 1, pattern == 2, pattern == 3],
        [f + "." + surname, ini + "." + surname, f + surname + year.str[2:4], surname + "." + f], f + "_" + surname)
    domain = np.array(N.EMAIL_DOMAINS)[rng.integers(0, len(N.EMAIL_DOMAINS), len(first))]
    return pd.Series(local).str.replace(r"[^a-z0-9._-]", "", regex=True) + "@" + domain


def _persons(rng: np.random.Generator, n: int, n_advisers: int) -> pd.DataFrame:
    people = _households(rng, n)
    people["gender"] = _genders(rng, people)
    people["origin"] = _origins(rng, people)
    people = pd.concat([people, _draw_names(rng, people["origin"].to_numpy(), people["gender"].to_numpy())], axis=1)
    _family_links(people, rng)
    _partners(people, rng)
    people["initials"] = initials_of(people["given_names"])
    people["birth_date"] = _dates(rng, people)
    homes = sample_addresses(rng, people["hh"].max() + 1)
    home = homes.iloc[people["hh"]].reset_index(drop=True)
    landline, mobile = _phones(rng, home["area_code"], len(people))
    has_line = rng.random(people["hh"].max() + 1) < 0.55
    people["phone"] = np.where(has_line[people["hh"]], landline.groupby(people["hh"]).transform("first"), "")
    people["mobile"] = np.where(rng.random(len(people)) < 0.82, mobile, "")
    email = _emails(rng, people["call_name"], people["infix"], people["last_name"], people["initials"],
                    people["birth_date"])
    people["email"] = np.where(rng.random(len(people)) < 0.78, email, "")
    adviser = np.array(N.ADVISERS[:n_advisers])[rng.integers(0, n_advisers, people["hh"].max() + 1)]
    people["adviser"] = adviser[people["hh"]]
    title_r = rng.random(len(people))
    formal = np.where(people["gender"] == "M", "dhr.", "mevr.")
    academic = np.array(["mr.", "ir.", "drs.", "dr.", "ing."])[rng.integers(0, 5, len(people))]
    people["title"] = np.select([title_r < 0.04, title_r < 0.12], [academic, formal], "")
    people = pd.concat([people, _address_columns(home)], axis=1)
    people["party_type"] = "person"
    people["household_id"] = "H" + people["hh"].astype(str).str.zfill(7)
    return people.drop(columns=["hh"])


def _address_columns(flat: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "street": flat["straat"].to_numpy(), "house_number": flat["huisnummer"].astype(str).to_numpy(),
        "house_letter": flat["huisletter"].to_numpy(), "house_number_addition": flat["huisnummertoevoeging"].to_numpy(),
        "postcode": flat["postcode"].to_numpy(), "city": flat["woonplaats"].to_numpy(), "country": "NL",
        "area_code": flat["area_code"].to_numpy(),
    })


def kvk_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` 8-digit KvK numbers passing the eleven-test (``stdnum.nl.bsn.checksum`` of the 9-digit form).

    Examples:
        >>> from stdnum.nl import bsn
        >>> all(bsn.checksum(k.zfill(9)) == 0 for k in kvk_numbers(np.random.default_rng(1), 50))
        True
    """
    digits = rng.integers(0, 10, (n, 7))
    digits[:, 0] = rng.integers(1, 10, n)
    while True:
        check = (digits * np.arange(8, 1, -1)).sum(axis=1) % 11
        bad = check == 10
        if not bad.any():
            break
        digits[bad, 6] = rng.integers(0, 10, bad.sum())
    whole = np.concatenate([digits, check[:, None]], axis=1)
    return np.array(["".join(map(str, row)) for row in whole])


def _organisations(rng: np.random.Generator, n: int, n_advisers: int) -> pd.DataFrame:
    """``n`` organisation locations; a quarter of the organisations have 2-4 locations (one KvK number)."""
    locations = np.where(rng.random(n) < 0.25, rng.integers(2, 5, n), 1)
    org = np.repeat(np.arange(n), locations)[:n]
    n_org = org.max() + 1
    infixes, surnames, weight = _surnames()["nl"]
    pick = rng.choice(len(surnames), size=n_org, p=weight)
    surname = pd.Series(np.char.add(np.char.add(infixes[pick], " "), surnames[pick])).str.strip()
    surname = surname.str[:1].str.upper() + surname.str[1:]
    word = np.array(N.COMPANY_WORDS)[rng.integers(0, len(N.COMPANY_WORDS), n_org)]
    homes = sample_addresses(rng, n)
    style = rng.integers(0, len(N.COMPANY_STYLE), n_org)
    place = homes["woonplaats"].groupby(org).first().to_numpy()
    name = [N.COMPANY_STYLE[s].format(surname=a, word=w, place=p) for s, a, w, p in zip(style, surname, word, place)]
    forms = list(N.LEGAL_FORMS)
    legal = np.array(forms)[rng.choice(len(forms), size=n_org, p=np.array(list(N.LEGAL_FORMS.values())))]
    slug = pd.Series(name).map(lambda v: ascii_fold(v).replace("&", "").replace(".", ""))
    landline, _ = _phones(rng, homes["area_code"], n)
    frame = pd.DataFrame({
        "org": org, "company_name": np.array(name)[org], "legal_form": legal[org],
        "kvk_number": kvk_numbers(rng, n_org)[org], "phone": landline,
        "email": np.where(rng.random(n) < 0.8, "info@" + slug.to_numpy()[org] + ".nl", ""),
        "adviser": np.array(N.ADVISERS[:n_advisers])[rng.integers(0, n_advisers, n_org)][org],
    })
    frame = pd.concat([frame, _address_columns(homes)], axis=1)
    frame["party_type"] = "organisation"
    frame["org_id"] = "O" + frame["org"].astype(str).str.zfill(7)
    return frame.drop(columns=["org"])


POPULATION_COLUMNS = [
    "entity_id", "household_id", "org_id", "party_type", "kind", "role", "origin", "title", "gender",
    "first_name", "call_name", "given_names", "initials", "infix", "last_name", "partner_infix",
    "partner_last_name", "name_use", "birth_date", "company_name", "legal_form", "kvk_number", "street",
    "house_number", "house_letter", "house_number_addition", "postcode", "city", "country", "area_code",
    "phone", "mobile", "email", "adviser",
]


def generate_population(n_entities: int, seed: int, *, n_advisers: int = 5, org_share: float = 0.08) -> pd.DataFrame:
    """A seeded population of ``n_entities`` true customers (persons and organisation locations).

    Args:
        n_entities: number of entities (rows).
        seed: random seed; the same seed gives the same population.
        n_advisers: advisers the customers are spread over.
        org_share: share of organisation locations.

    Examples:
        >>> pop = generate_population(500, seed=7)
        >>> len(pop), pop["entity_id"].is_unique
        (500, True)
        >>> sorted(pop["party_type"].unique())
        ['organisation', 'person']
    """
    rng = np.random.default_rng(seed)
    n_org = int(round(n_entities * org_share))
    frame = pd.concat([_persons(rng, n_entities - n_org, n_advisers), _organisations(rng, n_org, n_advisers)],
                      ignore_index=True)
    frame["entity_id"] = "E" + pd.Series(np.arange(len(frame))).astype(str).str.zfill(7)
    for col in POPULATION_COLUMNS:
        if col not in frame:
            frame[col] = ""
    return frame[POPULATION_COLUMNS].fillna("")
