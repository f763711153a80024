"""Comparison-ready derived columns from a staging frame (stage 1 of record linkage).

Works on a frame that has NOT been normalized: every value is lower-cased, stripped of accents and
punctuation here. Each per-value function runs once per distinct value (exports repeat values a lot).

Derived columns (all text or None): ``first_name`` (first given name), ``first_name_nick`` (nickname
group), ``first_name_phonetic``, ``first_initial``, ``initials``, ``initials_given`` (only from the
initials field), ``middle_names`` (given names after the first), ``middle_initials`` (initials after the first), ``surname_core`` (without infix, double
names kept space-separated), ``surname_phonetic`` (of the first core part), ``birth_date`` (YYYY-MM-DD, full dates only),
``birth_partial`` (YYYY or YYYY-MM where only that is known), ``birth_year`` (of either), ``birth_month_day``, ``gender`` (m/f), ``email``, ``email_local``, ``email_domain``,
``phone`` (last 9 digits), ``postcode``, ``house_number``, ``street``, ``street_phonetic``, ``city``,
``bag_address_id``, ``company_key`` (significant words of the organisation name, sorted; see
``cdq.linkage.organisations``), ``company_compact`` (the words written together), ``company_first``,
``company_rare`` (the name's least frequent word in the file), ``given_full`` / ``surname_full`` (the whole name
fields, letters only), ``name_pair_phonetic`` (sound keys of first name and surname, sorted), plus one column per
extra comparison.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdq.linkage.columns import Columns
from cdq.linkage.distinct import (
    _COLUMNS,
    _FACTORIZED,
    _col,
    _distinct,
    _distinct_pairs,
    _distinct_vec,
    _factorized,
    _known_codes,
    _Packed,
    _packed,
    _taken_back,
    _unpacked,
)
from cdq.linkage.name_variants import canonical_names, given_names, relations
from cdq.linkage.organisations import company_words
from cdq.linkage.parallel import run_tasks
from cdq.linkage.placeholders import _listed, _placeholder
from cdq.linkage.text import ascii_lower, letters
from cdq.linkage.typos import sorted_characters, sorted_characters_of
from cdq.linkage.values import (
    _gender,
    _joined,
    _number_in_street,
    _ordered_keys,
    birth_date,
    dutch_phonetic,
    first_name,
    initials_of,
    kvk_key,
    middle_names,
    own_domain,
    partial_birth_date,
    phone_key,
    sorted_digits,
    street_name,
    surname_core,
)

__all__ = ["PREPARED_COLUMNS", "prepare", "prepare_one", "dutch_phonetic", "surname_core", "partial_birth_date",
           "birth_date", "first_name", "middle_names", "initials_of", "phone_key", "street_name", "kvk_key",
           "own_domain", "sorted_digits"]

#: Frames from this many records on are prepared in two processes (forking costs more on a small one).
PARALLEL_MIN_ROWS = 20_000


def _email_parts(email: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(address, local part, domain): lower-case ASCII without spaces, the local part without ``+tag`` and dots;
    None where there is no "@". Vectorised in Arrow over the distinct values.

    Examples:
        >>> [s.tolist() for s in _email_parts(pd.Series(["Jan.Jansen+x@Ziggo.NL", "geen", None, "é@x.nl"]))]
        [['jan.jansen+x@ziggo.nl', None, None, 'e@x.nl'], ['janjansen', None, None, 'e'], ['ziggo.nl', None, None, 'x.nl']]
    """
    codes, uniques = _factorized(email)
    try:
        text = pa.array(uniques.astype(object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: as text first
        text = pa.array([str(v) for v in uniques], type=pa.string())
    if not pc.all(pc.string_is_ascii(text)).as_py():  # accents off, as ascii_lower does
        text = pc.replace_substring_regex(pc.utf8_normalize(text, form="NFKD"), pattern=r"[^\x00-\x7f]",
                                          replacement="")
    clean = pc.replace_substring_regex(pc.utf8_lower(text), pattern=r"[\s\x0b\x1c-\x1f]+", replacement="")
    clean = pc.if_else(pc.match_substring(clean, "@"), clean, pa.nulls(len(clean), pa.string()))
    split = pc.split_pattern(clean, "@", max_splits=1, reverse=True)
    local = pc.replace_substring(pc.replace_substring_regex(pc.list_element(split, 0), pattern=r"\+.*$",
                                                            replacement=""), ".", "")

    def back(values: pa.Array, remember: bool) -> pd.Series:
        results = np.r_[values.to_numpy(zero_copy_only=False).astype(object), None]
        # the address and the local part with their factorization: the e-mail columns derived from the address
        # and the blocking on local parts start from codes (a million distinct values at 1M records)
        return _taken_back(codes, results) if remember else pd.Series(results[codes], dtype="object")

    return back(clean, True), back(local, True), back(pc.list_element(split, 1), False)


def _role_address(email: pd.Series, issues: pd.Series) -> pd.Series:
    """True where the e-mail is a role address (info@, administratie@): it names an organisation or a
    household's shared mailbox, not a person or a branch, so agreeing on it identifies nobody.

    Uses ``cdq.normalize``'s ``EMAIL_ROLE_ADDRESS`` flag in ``issues`` when present, else the same role list.

    Examples:
        >>> _role_address(pd.Series(["info@x.nl", "jan@x.nl", None]), pd.Series([None] * 3)).tolist()
        [True, False, False]
    """
    from cdq.normalize.emails import reference

    roles = pa.array(sorted(frozenset(reference()["role_local_parts"])), type=pa.string())

    def role_of(addresses: pd.Series) -> pd.Series:  # the part before the first "@" is a role name
        text = pa.array(addresses.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
        head = pc.list_element(pc.split_pattern(text, "@", max_splits=1), 0)
        return pd.Series(pc.fill_null(pc.is_in(head, value_set=roles), False).to_numpy(zero_copy_only=False))

    role = _distinct_vec(email, role_of).to_numpy() == True  # noqa: E712
    flagged = _distinct_vec(issues, lambda i: i.astype(str).str.contains("EMAIL_ROLE_ADDRESS", regex=False))
    return pd.Series((role | (flagged.to_numpy() == True)) & email.notna().to_numpy())  # noqa: E712


#: The columns :func:`prepare` derives: what a comparison's ``columns`` and ``tf`` in ``rules/matching.yaml``
#: may name (a test checks it against prepare's output).
PREPARED_COLUMNS = frozenset({
    "first_name", "first_name_nick", "first_name_phonetic", "first_name_variant_id", "initials", "initials_given",
    "first_initial", "middle_names", "middle_initials", "surname_core", "surname_phonetic", "birth_date",
    "birth_partial", "birth_year", "birth_month_day", "gender", "email", "email_local", "email_domain", "email_role",
    "phone", "postcode", "house_number", "street", "street_phonetic", "city", "bag_address_id", "company_key",
    "company_compact", "company_first", "company_rare", "company_domain", "kvk", "given_full", "surname_full",
    "name_pair_phonetic", "email_sorted"})


def prepare(frame: pd.DataFrame, extras: tuple = ()) -> pd.DataFrame:
    """Derived comparison columns, one row per input row, in input order.

    Args:
        frame: staging frame (canonical columns; any missing column counts as empty).
        extras: ``ExtraComparison`` items; each adds a lower-cased column named after it.

    Examples:
        >>> f = pd.DataFrame({"first_name": ["Kees"], "last_name": ["van der Berg"], "birth_date": ["1-2-1980"]})
        >>> p = prepare(f)
        >>> p.loc[0, ["first_name_nick", "surname_core", "birth_date"]].tolist()
        ['cornelis', 'berg', '1980-02-01']
    """
    try:
        return _prepare(frame, extras)
    finally:
        for key in [k for k in _COLUMNS if k[0] == id(frame)]:
            del _COLUMNS[key]
        _FACTORIZED.clear()


def _prepare(frame: pd.DataFrame, extras: tuple) -> pd.DataFrame:
    """The derived columns in two independent groups (given names, birth date, gender and e-mail; surnames,
    phone, address and organisation): on two cores a forked child prepares the second (see
    :mod:`cdq.linkage.parallel`), then the columns are put in :func:`prepare`'s order.

    E-mail is in this process's group: at 1M records its columns are near-unique (a million distinct values
    each), which a child would pickle and this process unpickle after its own work. The surnames go to the
    child to even the two out (1M Dutch records, one process: given names, birth dates and e-mail ~3.5 CPU s,
    surnames and contact columns ~3.5 CPU s; with the surnames here 5 against 2.5). The postcode is made here
    for the same reason.
    """
    def here() -> dict[str, pd.Series]:
        return {**_given_name_columns(frame), **_birth_columns(frame), **_email_columns(frame),
                **_postcode_column(frame)}

    def there() -> dict[str, pd.Series | _Packed]:
        return _packed({**_surname_columns(frame), **_contact_columns(frame, extras)})

    if len(frame) >= PARALLEL_MIN_ROWS:
        packed, mine = run_tasks([there, here])
    else:
        mine, packed = here(), there()
    theirs, their_codes = _unpacked(packed)
    theirs = _with_company_domain(theirs, mine["email_domain"])
    both = {**mine, **theirs}
    order = [*(name for name in _ORDER if name in both), *(name for name in both if name not in _ORDER)]
    # one block per column (copy=False): consolidating ~40 object columns into one 2-D block copies and
    # reference-counts every value once more (1.4 s at 1M records) and nothing downstream needs it
    prepared = pd.DataFrame({name: both[name] for name in order}, index=pd.RangeIndex(len(frame)), copy=False)
    cols = Columns.of(prepared)
    known = {**_known_codes(mine), **_known_codes({"company_domain": theirs["company_domain"]}), **their_codes}
    for name, (codes, uniques) in known.items():
        cols.know(name, codes, uniques)
    return prepared


#: The columns in :func:`prepare`'s order (the two groups of :func:`_prepare` each make some of them), then the
#: extra comparisons' columns.
_ORDER = ("first_name", "first_name_nick", "first_name_phonetic", "first_name_variant_id", "initials",
          "initials_given", "first_initial", "middle_names", "middle_initials", "surname_core", "surname_phonetic",
          "given_full", "surname_full", "name_pair_phonetic", "birth_date", "birth_partial", "birth_year",
          "birth_month_day", "gender", "email", "email_local", "email_domain", "email_role", "email_sorted", "phone",
          "postcode", "house_number", "street", "street_phonetic", "city", "bag_address_id", "company_key",
          "company_compact", "company_first", "company_rare", "company_domain", "kvk")


def _with_company_domain(columns: dict[str, pd.Series], email_domain: pd.Series) -> dict[str, pd.Series]:
    """``columns`` (of :func:`_contact_columns`) with ``company_domain`` after ``company_rare``: the e-mail
    domain of an organisation record unless a mail provider's (the two inputs come from the two groups)."""
    out: dict[str, pd.Series] = {}
    for name, values in columns.items():
        out[name] = values
        if name == "company_rare":
            organisation = columns["company_key"].notna().to_numpy()
            out["company_domain"] = _distinct(email_domain.where(organisation, None), own_domain)
    return out


def _given_name_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """First name (with its nickname group, sound key and relation id), initials, middle names, the whole
    given-name field."""
    out: dict[str, pd.Series] = {}
    out["first_name"] = _first_names(frame)
    nick = canonical_names()  # one formal name per variant (blocking and term frequencies)
    out["first_name_nick"] = _distinct(out["first_name"], lambda v: nick.get(v, v))
    out["first_name_phonetic"] = _distinct(out["first_name_nick"], dutch_phonetic)
    ids = relations()[0]
    codes, uniques = _factorized(out["first_name"])  # relation id per record, -1 = not in the relation
    out["first_name_variant_id"] = pd.Series(np.r_[[ids.get(v, -1) for v in uniques], -1][codes].astype(np.int64))
    out["initials"] = _initials(frame)
    out["initials_given"] = _distinct(_col(frame, "initials"), lambda v: initials_of(None, v))
    out["first_initial"] = _distinct_vec(out["initials"], lambda s: s.str[0])
    out["middle_names"] = _distinct(_col(frame, "first_name"), middle_names)
    out["middle_initials"] = _distinct_vec(out["initials"], lambda s: s.str[1:].where(s.str.len() > 1))
    # the whole name fields, letters only ("de la cruz" -> "delacruz"): first and last name entered the wrong
    # way round are found on these, whatever a tussenvoegsel or a second given name does to the parts
    out["given_full"] = _distinct(_col(frame, "first_name"), lambda v: _joined(given_names(ascii_lower(v))))
    return out


def _first_names(frame: pd.DataFrame) -> pd.Series:
    return _distinct(_col(frame, "first_name"), first_name)


def _surname_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Surname (core, sound key, the whole field) and the sound keys of first name and surname in order."""
    out: dict[str, pd.Series] = {}
    last = _col(frame, "last_name")
    infix = _col(frame, "infix")
    full_last = (infix.fillna("") + " " + last.fillna("")).where(last.notna(), None)
    out["surname_core"] = _distinct(full_last, surname_core)
    out["surname_phonetic"] = _distinct(out["surname_core"], lambda v: dutch_phonetic(v.split()[0]))
    out["surname_full"] = _distinct(full_last, lambda v: _joined(ascii_lower(v)))
    # the first names again (in this process): cheaper than waiting for the other group's
    out["name_pair_phonetic"] = _name_pair(_first_names(frame), out["surname_core"])
    return out


def _birth_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Birth date (full, partial, year, month and day) and gender."""
    out: dict[str, pd.Series] = {}
    birth = _col(frame, "birth_date")
    out["birth_date"] = _distinct(birth, birth_date)
    out["birth_partial"] = _distinct(birth.where(out["birth_date"].isna().to_numpy(), None), partial_birth_date)
    out["birth_year"] = _distinct_vec(out["birth_date"].fillna(out["birth_partial"]), lambda s: s.str[:4])
    out["birth_month_day"] = _distinct_vec(out["birth_date"], lambda s: s.str[5:])
    out["gender"] = _distinct(_col(frame, "gender"), _gender)
    return out


def _email_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The e-mail address, its local part and domain, whether it is a role address, its sorted characters."""
    out: dict[str, pd.Series] = {}
    out["email"], out["email_local"], out["email_domain"] = _email_parts(_col(frame, "email"))
    out["email_role"] = _role_address(out["email"], _col(frame, "issues"))
    # blocks scrambled addresses together
    out["email_sorted"] = _distinct_vec(out["email"], lambda e: pd.Series(sorted_characters_of(e.to_numpy(object))))
    return out


def _contact_columns(frame: pd.DataFrame, extras: tuple) -> dict[str, pd.Series]:
    """Phone, address, organisation (but its e-mail domain, :func:`_with_company_domain`) and the extra
    comparisons' columns."""
    out: dict[str, pd.Series] = {}
    phone = _col(frame, "phone").where(_col(frame, "phone").notna(), _col(frame, "mobile"))
    out["phone"] = _distinct_vec(phone, _phone_keys)
    out["house_number"] = _distinct(_col(frame, "house_number"), lambda v: (re.match(r"\d+", str(v).strip()) or [None])[0])
    out["house_number"] = out["house_number"].fillna(_distinct(_col(frame, "street"), _number_in_street))
    out["street"] = _distinct(_col(frame, "street"), street_name)
    out["street_phonetic"] = _distinct(out["street"], dutch_phonetic)
    out["city"] = _distinct(_col(frame, "city"), lambda v: letters(ascii_lower(v)))
    out["bag_address_id"] = _distinct(_col(frame, "bag_address_id"), lambda v: ascii_lower(v))
    words = _distinct(_col(frame, "company_name"), lambda v: company_words(v) or None)
    out["company_key"] = _distinct(words, lambda w: " ".join(sorted(w)))
    out["company_compact"] = _distinct(words, "".join)
    out["company_first"] = _distinct(words, lambda w: w[0] if len(w[0]) >= 2 else None)
    out["company_rare"] = _rarest_word(words)
    out["kvk"] = _distinct(_col(frame, "kvk_number"), kvk_key)
    for extra in extras:
        out[extra.name] = _distinct(_col(frame, extra.column), ascii_lower)
        if extra.kind == "number":
            out[f"{extra.name}_digits"] = _distinct(out[extra.name], sorted_digits)
    return out


def _postcode_column(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """The postcode, letters and digits only (made in the other group than the rest of the address: it evens
    the two out)."""
    return {"postcode": _distinct(_col(frame, "postcode"),
                                  lambda v: re.sub(r"[^0-9a-z]", "", ascii_lower(v) or "") or None)}


def _name_pair(first: pd.Series, surname: pd.Series) -> pd.Series:
    """The sound keys of first name and surname, in alphabetical order: one key for "Logan Morgan" and
    "Morgan Logan" (a blocking key that finds names entered the wrong way round).

    Examples:
        >>> _name_pair(pd.Series(["logan", "morgan", None]), pd.Series(["morgan", "logan", "x"])).tolist()
        ['logan morgan', 'logan morgan', None]
    """
    # the sound keys once per distinct name, then only the ordering per distinct pair of keys (a sound key
    # per distinct pair of names was most of this column's time: 1M records hold ~10x more pairs than names)
    return _distinct_pairs(_distinct(first, dutch_phonetic), _distinct(surname, lambda v: dutch_phonetic(v.split()[0])),
                           _ordered_keys)


def _absent(value: object) -> bool:
    """Missing as ``pd.factorize`` sees it (None, NaN, NA, NaT)."""
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def _raw(record: Mapping[str, object], name: str) -> object:
    """:func:`_col` for one record: ``None`` for a missing value or a placeholder ("onbekend", "-")."""
    value = record.get(name)
    if _absent(value) or (isinstance(value, str) and _placeholder(value, _listed(name), name == "email")):
        return None
    return value


def _of(value: object, fn: Callable) -> object:
    return None if _absent(value) else fn(value)


def prepare_one(record: Mapping[str, object], extras: tuple = ()) -> dict[str, object]:
    """:func:`prepare` for ONE record without a frame (the service's path): the same derived values, as a dict.

    Every value is the one :func:`prepare` gives a one-row frame of ``record`` (``company_rare``, a word's
    frequency in the file, is then the first word of 3+ letters); ``tests/test_linkage_prepare_one.py`` checks
    this on real and synthetic files.

    Examples:
        >>> p = prepare_one({"first_name": "Kees", "last_name": "van der Berg", "birth_date": "1-2-1980"})
        >>> p["first_name_nick"], p["surname_core"], p["birth_date"], p["birth_year"]
        ('cornelis', 'berg', '1980-02-01', '1980')
    """
    out: dict[str, object] = {}
    raw_first, raw_initials = _raw(record, "first_name"), _raw(record, "initials")
    out["first_name"] = first = _of(raw_first, first_name)
    nick = canonical_names()
    out["first_name_nick"] = _of(first, lambda v: nick.get(v, v))
    out["first_name_phonetic"] = _of(out["first_name_nick"], dutch_phonetic)
    out["first_name_variant_id"] = relations()[0].get(str(first), -1) if first is not None else -1
    out["initials"] = initials = initials_of(raw_first, raw_initials)  # type: ignore[arg-type]
    out["initials_given"] = _of(raw_initials, lambda v: initials_of(None, v))
    out["first_initial"] = initials[0] if initials else None
    out["middle_names"] = _of(raw_first, middle_names)
    out["middle_initials"] = initials[1:] if initials is not None and len(initials) > 1 else None
    last, infix = _raw(record, "last_name"), _raw(record, "infix")
    full_last = None if last is None else f"{'' if infix is None else infix} {last}"
    out["surname_core"] = core = _of(full_last, surname_core)
    out["surname_phonetic"] = _of(core, lambda v: dutch_phonetic(v.split()[0]))
    out["given_full"] = _of(raw_first, lambda v: _joined(given_names(ascii_lower(v))))
    out["surname_full"] = _of(full_last, lambda v: _joined(ascii_lower(v)))
    out["name_pair_phonetic"] = _pair_key(first, core)
    birth = _raw(record, "birth_date")
    out["birth_date"] = full = _of(birth, birth_date)
    out["birth_partial"] = partial = _of(birth, partial_birth_date) if full is None else None
    year = full if full is not None else partial
    out["birth_year"] = year[:4] if year is not None else None  # type: ignore[index]
    out["birth_month_day"] = full[5:] if full is not None else None  # type: ignore[index]
    out["gender"] = _of(_raw(record, "gender"), _gender)
    out.update(_email_one(_raw(record, "email"), _raw(record, "issues")))
    out["email_sorted"] = sorted_characters(out["email"])
    phone = _raw(record, "phone")
    out["phone"] = _of(phone if phone is not None else _raw(record, "mobile"), phone_key)
    out["postcode"] = _of(_raw(record, "postcode"), lambda v: re.sub(r"[^0-9a-z]", "", ascii_lower(v) or "") or None)
    street = _raw(record, "street")
    number = _of(_raw(record, "house_number"), lambda v: (re.match(r"\d+", str(v).strip()) or [None])[0])
    out["house_number"] = number if number is not None else _of(street, _number_in_street)
    out["street"] = _of(street, street_name)
    out["street_phonetic"] = _of(out["street"], dutch_phonetic)
    out["city"] = _of(_raw(record, "city"), lambda v: letters(ascii_lower(v)))
    out["bag_address_id"] = _of(_raw(record, "bag_address_id"), ascii_lower)
    words = _of(_raw(record, "company_name"), lambda v: company_words(v) or None)
    out["company_key"] = _of(words, lambda w: " ".join(sorted(w)))
    out["company_compact"] = _of(words, "".join)
    out["company_first"] = _of(words, lambda w: w[0] if len(w[0]) >= 2 else None)
    out["company_rare"] = next((w for w in words if len(w) >= 3), None) if words is not None else None  # type: ignore[attr-defined]
    out["company_domain"] = _of(out["email_domain"], own_domain) if words is not None else None
    out["kvk"] = _of(_raw(record, "kvk_number"), kvk_key)
    for extra in extras:
        out[extra.name] = _of(_raw(record, extra.column), ascii_lower)
        if extra.kind == "number":
            out[f"{extra.name}_digits"] = _of(out[extra.name], sorted_digits)
    return out


def _pair_key(first: object, surname: object) -> str | None:
    """:func:`_name_pair`'s key for one record."""
    if not isinstance(first, str) or not isinstance(surname, str):
        return None
    a, b = dutch_phonetic(first), dutch_phonetic(surname.split()[0])
    return " ".join(sorted((a, b))) if a and b else None


def _email_one(email: object, issues: object) -> dict[str, object]:
    """:func:`_email_parts` and :func:`_role_address` for one value."""
    from cdq.normalize.emails import reference

    clean = None
    if email is not None:  # as _email_parts' Arrow steps: accents off, lower case, every whitespace out
        text = str(email)
        if not text.isascii():
            text = re.sub(r"[^\x00-\x7f]", "", unicodedata.normalize("NFKD", text))
        clean = re.sub(r"[\s\x0b\x1c-\x1f]+", "", text.lower())
    clean = clean if clean is not None and "@" in clean else None
    if clean is None:
        return {"email": None, "email_local": None, "email_domain": None, "email_role": False}
    local, domain = clean.rsplit("@", 1)
    role = clean.split("@", 1)[0] in frozenset(reference()["role_local_parts"])
    flagged = issues is not None and "EMAIL_ROLE_ADDRESS" in str(issues)
    return {"email": clean, "email_local": re.sub(r"\+.*$", "", local).replace(".", ""), "email_domain": domain,
            "email_role": bool(role or flagged)}


def _initials(frame: pd.DataFrame) -> pd.Series:
    return _distinct_pairs(_col(frame, "first_name"), _col(frame, "initials"), initials_of)


def _phone_keys(values: pd.Series) -> pd.Series:
    """:func:`phone_key` of every value, in Arrow where all are ASCII text (for those, ``re``'s ``\\D`` and
    ``[^0-9]`` are the same).

    Examples:
        >>> _phone_keys(pd.Series(["+31 6 1234 5678", "12345", "0612-345678"])).tolist()
        ['612345678', None, '612345678']
    """
    raw = values.to_numpy(dtype=object)
    try:
        text = pa.array(raw, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if text is None or not pc.all(pc.string_is_ascii(text)).as_py():
        return pd.Series([phone_key(v) for v in raw], dtype="object")
    digits = pc.replace_substring_regex(text, pattern=r"[^0-9]", replacement="")
    keys = pc.if_else(pc.greater_equal(pc.utf8_length(digits), 6), pc.utf8_slice_codeunits(digits, -9),
                      pa.scalar(None, pa.string()))
    return pd.Series(keys.to_numpy(zero_copy_only=False), dtype="object")


def _rarest_word(words: pd.Series) -> pd.Series:
    """Per record, its organisation name's least frequent word of 3+ letters in this file (None if none).

    Blocking on it pairs "Philips Gloeilampenfabrieken" with "Philips Electronics" where the word both
    share is rarer than the words that differ; ties go to the earlier word.
    """
    codes, uniques = _factorized(words)
    if not len(uniques):
        return pd.Series([None] * len(words), dtype="object")
    per_record = np.bincount(codes[codes >= 0], minlength=len(uniques))
    counts: dict[str, int] = {}
    for value, k in zip(uniques, per_record):
        for word in set(value):
            counts[word] = counts.get(word, 0) + int(k)
    best = [min((w for w in value if len(w) >= 3), key=lambda w: counts[w], default=None) for value in uniques]
    return pd.Series(np.r_[np.array(best, dtype=object), None][codes], dtype="object")
