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


class _Columns(dict):
    """Column name -> Series; unlike a DataFrame, replacing a column never re-consolidates the others."""

    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__({c: frame[c].reset_index(drop=True) for c in frame.columns})
        self.n = len(frame)

    def __setitem__(self, key: str, value) -> None:
        super().__setitem__(key, value if isinstance(value, pd.Series) else pd.Series(value, dtype=object))


def typo(text: str, r: float) -> str:
    """One keyboard-style error at a position chosen by ``r`` in [0, 1): drop, double or replace a letter.

    Examples:
        >>> typo("Jansen", 0.1), typo("Jansen", 0.5), typo("Jansen", 0.9)
        ('Jnsen', 'Janssen', 'Jansbn')
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
    new = _KEYBOARD.get(char, char)
    return text[:pos] + (new.upper() if text[pos].isupper() else new) + text[pos + 1:]


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


def _names(rec: _Columns, m: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    """First name, surname and infix as written in this record."""
    rec["first_name"] = np.where(m["formal_name"], rec["first_name"], rec["call_name"])
    rec["first_name"] = np.where(m["initials_only"], "", rec["first_name"])
    own_first = rec["name_use"].isin(["E", "N"]).to_numpy() ^ m["partner_name"]
    has_partner = rec["partner_last_name"].to_numpy() != ""
    use_partner = has_partner & ~own_first
    infix = np.where(use_partner, rec["partner_infix"], rec["infix"])
    last = np.where(use_partner, rec["partner_last_name"], rec["last_name"])
    double = has_partner & (rec["name_use"].to_numpy() == "V") & ~m["partner_name"]
    d = np.flatnonzero(double)
    last = np.asarray(last, dtype=object)
    last[d] = [f"{p}-{i} {s}".replace("- ", "-") for p, i, s in zip(
        rec["partner_last_name"].to_numpy(object)[d], rec["infix"].to_numpy(object)[d], rec["last_name"].to_numpy(object)[d])]
    rec["infix"], rec["last_name"] = infix, last
    v = np.flatnonzero(m["infix_variant"] & (rec["infix"].to_numpy() != ""))
    style = rng.integers(0, 3, len(v))
    infixes, lasts = rec["infix"].to_numpy(object)[v], rec["last_name"].to_numpy(object)[v]
    variants = [f"{i} {s}" if k == 0 else f"{s}, {i}" if k == 1 else f"{i} {s}".upper()
                for i, s, k in zip(infixes, lasts, style)]
    last_name, infix = rec["last_name"].to_numpy(object).copy(), rec["infix"].to_numpy(object).copy()
    last_name[v], infix[v] = variants, ""
    rec["last_name"], rec["infix"] = last_name, infix
    r = rng.random(rec.n)
    rec["last_name"] = _apply(rec["last_name"], m["typo_last"], typo, r)
    rec["first_name"] = _apply(rec["first_name"], m["typo_first"], typo, r)
    rec["last_name"] = _apply(rec["last_name"], m["transpose"], transpose, r)
    upper = np.flatnonzero(m["upper_case"])
    for col in ("first_name", "last_name", "street", "city"):
        values = rec[col].to_numpy(object).copy()
        values[upper] = [v.upper() for v in values[upper]]
        rec[col] = values
    person = rec["party_type"].to_numpy() == "person"
    for col in ("first_name", "infix", "last_name", "initials"):
        rec[col] = np.where(person, rec[col], "")


def _move(rec: _Columns, moved: np.ndarray, rng: np.random.Generator) -> None:
    """Records of entities that moved carry their new address (and new landline)."""
    idx = np.flatnonzero(moved)
    if not len(idx):
        return
    new = _address_columns(sample_addresses(rng, len(idx)))
    for col in list(new.columns) + ["phone"]:
        values = rec[col].to_numpy(dtype=object).copy()
        values[idx] = new[col].to_numpy() if col in new else ""
        rec[col] = values


def _postcode_style(pc: pd.Series, mask: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Postcodes as typed: "1234 AB", "1234ab", "1234 ab", "1234-AB"."""
    out = pc.to_numpy(dtype=object).copy()
    idx = np.flatnonzero(mask & (out != ""))
    sub = pd.Series(out[idx], dtype="string[pyarrow]")
    style = rng.integers(0, 4, len(idx))
    spaced = sub.str[:4] + " " + sub.str[4:]
    styled = np.select([style == 0, style == 1, style == 2],
                       [spaced.to_numpy(object), sub.str.lower().to_numpy(object), spaced.str.lower().to_numpy(object)],
                       (sub.str[:4] + "-" + sub.str[4:]).to_numpy(object))
    out[idx] = styled
    return pd.Series(out)


def phone_notation(number: pd.Series, area_len: pd.Series, style: np.ndarray) -> pd.Series:
    """Write 10-digit Dutch numbers the ways people do: 020-1234567, +31 20 1234567, 0031..., 201234567.

    A negative style keeps the number as it is.

    Examples:
        >>> phone_notation(pd.Series(["0201234567"] * 6), pd.Series([3] * 6), np.arange(6)).tolist()
        ['020-1234567', '+31 20 1234567', '0031201234567', '(020) 1234567', '201234567', '020 123 4567']
        >>> phone_notation(pd.Series(["0612345678", ""]), pd.Series([2, 2]), np.array([0, 1])).tolist()
        ['06-12345678', '']
    """
    out = number.to_numpy(dtype=object).copy()
    idx = np.flatnonzero((style >= 0) & (out != ""))
    if not len(idx):
        return pd.Series(out)
    num = pd.Series(out[idx], dtype="string[pyarrow]")
    a, st = area_len.to_numpy()[idx], style[idx]
    area = pd.Series(np.select([a == 2, a == 4], [num.str[:2], num.str[:4]], num.str[:3]), dtype="string[pyarrow]")
    rest = pd.Series(np.select([a == 2, a == 4], [num.str[2:], num.str[4:]], num.str[3:]), dtype="string[pyarrow]")
    options = [area + "-" + rest, "+31 " + area.str[1:] + " " + rest, "0031" + num.str[1:],
               "(" + area + ") " + rest, num.str[1:], area + " " + rest.str[:3] + " " + rest.str[3:]]
    out[idx] = np.select([st == i for i in range(len(options))], [o.to_numpy(dtype=object) for o in options])
    return pd.Series(out)


def _contacts(rec: _Columns, m: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    style = np.where(m["phone_style"], rng.integers(0, 6, rec.n), -1)
    rec["phone"] = phone_notation(rec["phone"], rec["area_code"].str.len(), style).to_numpy()
    mobile_style = np.where(m["phone_style"], rng.integers(0, 6, rec.n), -1)
    rec["mobile"] = phone_notation(rec["mobile"], pd.Series(np.full(rec.n, 2)), mobile_style).to_numpy()
    bad = np.flatnonzero(m["email_typo"] & (rec["email"].to_numpy() != ""))
    email = rec["email"].to_numpy(dtype=object).copy()
    for i, x in zip(bad, rng.random(len(bad))):
        local, _, domain = email[i].partition("@")
        options = N.EMAIL_DOMAIN_TYPOS.get(domain, (domain,))
        email[i] = local + "@" + options[int(x * 9) % len(options)]
    rec["email"] = email
    rec["postcode"] = _postcode_style(rec["postcode"], m["postcode_style"], rng).to_numpy()


def _swap_day_month(dates: pd.Series, mask: np.ndarray) -> pd.Series:
    """1984-04-02 becomes 1984-02-04 (only where the day could be a month)."""
    out = dates.to_numpy(dtype=object).copy()
    idx = np.flatnonzero(mask & (out != ""))
    swapped = [d[:5] + d[8:10] + "-" + d[5:7] for d in out[idx]]
    ok = np.array([int(d[8:10]) <= 12 for d in out[idx]], dtype=bool)
    out[idx[ok]] = np.array(swapped, dtype=object)[ok] if len(idx) else out[idx[ok]]
    return pd.Series(out)


def _blank_some(rec: _Columns, mask: np.ndarray, rng: np.random.Generator) -> None:
    """Missing fields: one or two of e-mail, phone, mobile, birth date, postcode, street per record."""
    fields = ["email", "phone", "mobile", "birth_date", "postcode", "street", "initials"]
    pick = rng.integers(0, len(fields), (2, rec.n))
    second = rng.random(rec.n) < 0.4
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
    rec = vary_records(pop.iloc[owners], dup, rng, variation_rate=variation_rate, n_advisers=n_advisers)
    rec["record_id"] = "R" + pd.Series(np.arange(1, n_records + 1)).astype(str).str.zfill(7)
    rec["source"] = np.array(sources)[rng.integers(0, len(sources), n_records)]
    rec["source_key"] = pd.Series(rng.integers(1, 10 * n_records + 10, n_records)).astype(str).str.zfill(6)
    columns = RECORD_COLUMNS + ["entity_id"] + (DETAIL_COLUMNS if details else [])
    return rec[columns]


DETAIL_COLUMNS = ["household_id", "org_id", "variations", "true_street", "true_house_number", "true_postcode",
                  "true_city"]


def vary_records(rows: pd.DataFrame, dup: np.ndarray, rng: np.random.Generator, *, variation_rate: float = 1.0,
                 n_advisers: int = 5, force: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """One varied record per population row; ``dup`` marks further records of an entity (varied more).

    ``force`` switches variations on for chosen rows (the fixtures plant specific errors). The result has
    the record columns, ``entity_id`` and the detail columns (``true_*`` is the address after a move).
    """
    rec = _Columns(rows)
    m = _masks(rng, dup, variation_rate)
    m["moved"] &= dup
    for name, mask in (force or {}).items():
        m[name] = m[name] | mask
    _move(rec, m["moved"], rng)
    for col in ("street", "house_number", "postcode", "city"):
        rec["true_" + col] = rec[col].copy()
    _names(rec, m, rng)
    _contacts(rec, m, rng)
    rec["birth_date"] = _swap_day_month(rec["birth_date"], m["swap_day_month"]).to_numpy()
    _blank_some(rec, m["missing"], rng)
    other = np.array(N.ADVISERS[:n_advisers])[rng.integers(0, n_advisers, rec.n)]
    rec["adviser"] = np.where(dup & (rng.random(rec.n) < 0.1), other, rec["adviser"])
    names = np.array(list(m))
    flags = np.stack([m[k] for k in m], axis=1)
    rec["variations"] = [";".join(names[row]) for row in flags]
    for col in ("record_id", "source", "source_key"):
        rec[col] = np.full(rec.n, "", dtype=object)
    return pd.DataFrame({c: rec[c].to_numpy() for c in RECORD_COLUMNS + ["entity_id"] + DETAIL_COLUMNS})
