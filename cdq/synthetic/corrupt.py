"""Synthetic customer records with known truth: several records per true entity, each with variation.

:func:`generate_records` draws a population (:mod:`cdq.synthetic.people`), gives a share of the entities
more than one record (the duplicates a pipeline should find) and varies every record the way real Dutch
customer files do: typos, transposed letters, tussenvoegsel spellings ("de Vries", "Vries, de",
"DE VRIES"), initials only, call name versus formal name, partner's surname, a moved address, swapped
day/month, missing fields, postcode, phone and e-mail notations, mistyped e-mail domains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.synthetic import names as N
from cdq.synthetic.addresses import sample_addresses
from cdq.synthetic.people import _address_columns, generate_population

RECORD_COLUMNS = [
    "record_id", "source", "source_key", "adviser", "title", "initials", "first_name", "infix", "last_name",
    "gender", "birth_date", "party_type", "company_name", "legal_form", "kvk_number", "street", "house_number",
    "house_letter", "house_number_addition", "postcode", "city", "country", "email", "phone", "mobile",
]
#: variation -> (probability for an entity's first record, probability for its further records).
VARIATIONS = {
    "typo_last": (0.02, 0.12), "typo_first": (0.02, 0.10), "transpose": (0.01, 0.06),
    "infix_variant": (0.05, 0.25), "initials_only": (0.15, 0.30), "formal_name": (0.10, 0.25),
    "partner_name": (0.05, 0.20), "moved": (0.0, 0.12), "swap_day_month": (0.005, 0.04),
    "missing": (0.10, 0.30), "postcode_style": (0.10, 0.35), "phone_style": (0.25, 0.60),
    "email_typo": (0.01, 0.06), "upper_case": (0.02, 0.06),
}
_KEYBOARD = dict(zip("qwertyuiopasdfghjklzxcvbnm", "wqertyuiopsadfghjklzxcvbnm"[::-1]))


def typo(text: str, r: float) -> str:
    """One keyboard-style error at a position chosen by ``r`` in [0, 1): drop, double or replace a letter.

    Examples:
        >>> typo("Jansen", 0.1), typo("Jansen", 0.5), typo("Jansen", 0.9)
        ('ansen', 'Jannsen', 'Jansrn')
    """
    if len(text) < 3:
        return text
    pos = int(r * 3 * len(text)) % len(text)
    kind = int(r * 3)
    if kind == 0:
        return text[:pos] + text[pos + 1:]
    if kind == 1:
        return text[:pos + 1] + text[pos] + text[pos + 1:]
    char = text[pos].lower()
    return text[:pos] + _KEYBOARD.get(char, char) + text[pos + 1:]


def transpose(text: str, r: float) -> str:
    """Swap two neighbouring letters ("Jansen" -> "Jasnen").

    Examples:
        >>> transpose("Jansen", 0.5)
        'Jasnen'
    """
    if len(text) < 3:
        return text
    pos = int(r * (len(text) - 1))
    return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2:]


def _apply(series: pd.Series, mask: np.ndarray, func, r: np.ndarray) -> pd.Series:
    idx = np.flatnonzero(mask & (series.to_numpy() != ""))
    out = series.copy()
    out.iloc[idx] = [func(v, x) for v, x in zip(series.iloc[idx], r[idx])]
    return out


def _record_owners(rng: np.random.Generator, n_records: int, n_entities: int) -> tuple[np.ndarray, np.ndarray]:
    """Entity row of every record and whether it is a further (duplicate) record of its entity."""
    extra = n_records - n_entities
    pool = rng.choice(n_entities, size=max(1, int(extra * 0.75)), replace=False) if extra else np.array([0])
    owners = np.concatenate([np.arange(n_entities), pool[rng.integers(0, len(pool), extra)]])
    dup = np.r_[np.zeros(n_entities, bool), np.ones(extra, bool)]
    order = rng.permutation(n_records)
    return owners[order], dup[order]


def _masks(rng: np.random.Generator, dup: np.ndarray, rate: float) -> dict[str, np.ndarray]:
    r = rng.random((len(VARIATIONS), len(dup)))
    return {name: r[i] < np.where(dup, p[1], p[0]) * rate for i, (name, p) in enumerate(VARIATIONS.items())}


def _names(rec: pd.DataFrame, m: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """First name, surname and infix as written in this record."""
    rec["first_name"] = np.where(m["formal_name"], rec["first_name"], rec["call_name"])
    rec.loc[m["initials_only"], "first_name"] = ""
    own_first = rec["name_use"].isin(["E", "N"]).to_numpy() ^ m["partner_name"]
    has_partner = rec["partner_last_name"].to_numpy() != ""
    use_partner = has_partner & ~own_first
    infix = np.where(use_partner, rec["partner_infix"], rec["infix"])
    last = np.where(use_partner, rec["partner_last_name"], rec["last_name"])
    double = has_partner & (rec["name_use"].to_numpy() == "V") & ~m["partner_name"]
    own_full = (rec["infix"] + " " + rec["last_name"]).str.strip()
    last = np.where(double, rec["partner_last_name"] + "-" + own_full, last)
    rec["infix"], rec["last_name"] = infix, last
    style = rng.integers(0, 3, len(rec))
    v = m["infix_variant"] & (rec["infix"].to_numpy() != "")
    glued = (rec["infix"] + " " + rec["last_name"]).to_numpy()
    reversed_ = (rec["last_name"] + ", " + rec["infix"]).to_numpy()
    rec["last_name"] = np.where(v & (style == 0), glued, np.where(v & (style == 1), reversed_, rec["last_name"]))
    rec["last_name"] = np.where(v & (style == 2), pd.Series(glued).str.upper(), rec["last_name"])
    rec["infix"] = np.where(v, "", rec["infix"])
    r = rng.random(len(rec))
    rec["last_name"] = _apply(rec["last_name"], m["typo_last"], typo, r)
    rec["first_name"] = _apply(rec["first_name"], m["typo_first"], typo, r)
    rec["last_name"] = _apply(rec["last_name"], m["transpose"], transpose, r)
    upper = m["upper_case"]
    for col in ("first_name", "last_name", "street", "city"):
        rec[col] = np.where(upper, rec[col].str.upper(), rec[col])
    person = rec["party_type"].to_numpy() == "person"
    for col in ("first_name", "infix", "last_name", "initials"):
        rec[col] = np.where(person, rec[col], "")


def _move(rec: pd.DataFrame, moved: np.ndarray, rng: np.random.Generator) -> None:
    """Records of entities that moved carry their new address (and new landline)."""
    idx = np.flatnonzero(moved)
    if not len(idx):
        return
    new = _address_columns(sample_addresses(rng, len(idx)))
    for col in new.columns:
        rec.loc[rec.index[idx], col] = new[col].to_numpy()
    rec.loc[rec.index[idx], "phone"] = ""


def _postcode_style(pc: pd.Series, mask: np.ndarray, rng: np.random.Generator) -> pd.Series:
    style = rng.integers(0, 4, len(pc))
    spaced = pc.str[:4] + " " + pc.str[4:]
    styled = np.select([style == 0, style == 1, style == 2], [spaced, pc.str.lower(), spaced.str.lower()],
                       pc.str[:4] + "-" + pc.str[4:])
    return pd.Series(np.where(mask & (pc.to_numpy() != ""), styled, pc))


def phone_notation(number: pd.Series, area_len: pd.Series, style: np.ndarray) -> pd.Series:
    """Write 10-digit Dutch numbers the ways people do: 020-1234567, +31 20 1234567, 0031..., 201234567.

    Examples:
        >>> phone_notation(pd.Series(["0201234567"] * 6), pd.Series([3] * 6), np.arange(6)).tolist()
        ['020-1234567', '+31 20 1234567', '0031201234567', '(020) 1234567', '201234567', '020 123 4567']
    """
    a = area_len.to_numpy()
    area = np.where(a == 4, number.str[:4], number.str[:3])
    rest = np.where(a == 4, number.str[4:], number.str[3:])
    rest_s = pd.Series(rest)
    options = [area + "-" + rest, "+31 " + pd.Series(area).str[1:] + " " + rest, "0031" + number.str[1:],
               "(" + area + ") " + rest, number.str[1:], area + " " + rest_s.str[:3] + " " + rest_s.str[3:]]
    out = np.select([style == i for i in range(len(options))], [np.asarray(o) for o in options], number)
    return pd.Series(np.where(number.to_numpy() == "", "", out))


def _contacts(rec: pd.DataFrame, m: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    style = np.where(m["phone_style"], rng.integers(0, 6, len(rec)), -1)
    rec["phone"] = phone_notation(rec["phone"], rec["area_code"].str.len(), style).to_numpy()
    mobile_style = np.where(m["phone_style"], rng.integers(0, 6, len(rec)), -1)
    rec["mobile"] = phone_notation(rec["mobile"], pd.Series(np.full(len(rec), 2)), mobile_style).to_numpy()
    local, _, domain = rec["email"].str.partition("@").T.to_numpy() if len(rec) else ([], [], [])
    typo_domain = [N.EMAIL_DOMAIN_TYPOS.get(d, (d,))[int(x * 9) % len(N.EMAIL_DOMAIN_TYPOS.get(d, (d,)))]
                   for d, x in zip(domain, rng.random(len(rec)))]
    bad = m["email_typo"] & (rec["email"].to_numpy() != "")
    rec["email"] = np.where(bad, pd.Series(local) + "@" + pd.Series(typo_domain), rec["email"])
    rec["postcode"] = _postcode_style(rec["postcode"], m["postcode_style"], rng).to_numpy()


def _swap_day_month(dates: pd.Series, mask: np.ndarray) -> pd.Series:
    day, month = dates.str[8:10], dates.str[5:7]
    ok = mask & (dates.to_numpy() != "") & (pd.to_numeric(day, errors="coerce").fillna(99).to_numpy() <= 12)
    return pd.Series(np.where(ok, dates.str[:5] + day + "-" + month, dates))


def _blank_some(rec: pd.DataFrame, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Missing fields: one or two of e-mail, phone, mobile, birth date, postcode, street per record."""
    fields = ["email", "phone", "mobile", "birth_date", "postcode", "street", "initials"]
    pick = rng.integers(0, len(fields), (2, len(rec)))
    second = rng.random(len(rec)) < 0.4
    for i, col in enumerate(fields):
        hit = mask & ((pick[0] == i) | (second & (pick[1] == i)))
        rec[col] = np.where(hit, "", rec[col])


def generate_records(n_records: int, seed: int, duplicate_rate: float = 0.3, *, n_advisers: int = 5,
                     sources: tuple[str, ...] = ("crm", "excel", "outlook", "webshop"), variation_rate: float = 1.0,
                     details: bool = False) -> pd.DataFrame:
    """``n_records`` synthetic customer records with the true ``entity_id`` of each.

    Args:
        n_records: number of records.
        seed: random seed (same seed, same records).
        duplicate_rate: share of records that are a further record of an entity already present.
        n_advisers: advisers the customers are spread over.
        sources: source system names assigned at random.
        variation_rate: scales every variation probability (0 gives exact copies).
        details: also return ``household_id``, ``org_id`` and ``variations`` (what was done to each record).

    Examples:
        >>> recs = generate_records(1000, seed=3, duplicate_rate=0.25)
        >>> len(recs), recs["entity_id"].nunique()
        (1000, 750)
    """
    rng = np.random.default_rng(seed)
    n_entities = max(1, int(round(n_records * (1 - duplicate_rate))))
    pop = generate_population(n_entities, seed, n_advisers=n_advisers)
    owners, dup = _record_owners(rng, n_records, n_entities)
    rec = pop.iloc[owners].reset_index(drop=True)
    m = _masks(rng, dup, variation_rate)
    m["moved"] &= dup
    _move(rec, m["moved"], rng)
    _names(rec, m, rng)
    _contacts(rec, m, rng)
    rec["birth_date"] = _swap_day_month(rec["birth_date"], m["swap_day_month"]).to_numpy()
    _blank_some(rec, m["missing"], rng)
    other = np.array(N.ADVISERS[:n_advisers])[rng.integers(0, n_advisers, n_records)]
    rec["adviser"] = np.where(dup & (rng.random(n_records) < 0.1), other, rec["adviser"])
    rec["record_id"] = "R" + pd.Series(np.arange(1, n_records + 1)).astype(str).str.zfill(7)
    rec["source"] = np.array(sources)[rng.integers(0, len(sources), n_records)]
    rec["source_key"] = pd.Series(rng.integers(1, 10 * n_records + 10, n_records)).astype(str).str.zfill(6)
    columns = RECORD_COLUMNS + ["entity_id"]
    if details:
        names = np.array(list(m))
        flags = np.stack([m[k] for k in m], axis=1)
        rec["variations"] = [";".join(names[row]) for row in flags]
        columns += ["household_id", "org_id", "variations"]
    return rec[columns]
