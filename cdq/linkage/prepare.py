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
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdq.linkage.columns import Columns
from cdq.linkage.name_variants import canonical_names, given_names, relations
from cdq.linkage.organisations import company_words
from cdq.linkage.parallel import run_tasks
from cdq.linkage.placeholders import _listed, _placeholder, placeholder_mask
from cdq.linkage.text import ascii_lower, letters
from cdq.linkage.typos import sorted_characters, sorted_characters_of
from cdq.resources import resource

_PHONETIC_RULES = [
    ("sch", "s"), ("ij", "y"), ("ei", "y"), ("ey", "y"), ("ie", "i"), ("ch", "g"), ("ph", "f"), ("th", "t"),
    ("ck", "k"), ("qu", "kw"), ("ae", "a"), ("uy", "ui"), ("au", "ou"), ("dt", "t"), ("c", "k"),
    ("z", "s"), ("x", "ks"), ("v", "f"), ("w", "f"), ("h", ""),
]


def dutch_phonetic(value: str | None) -> str | None:
    """A Dutch sound key: ij/y/ei, g/ch, dt/d/t at the end, c/k, ph/f, s/z, v/f, double letters.

    Examples:
        >>> dutch_phonetic("wijnaendts") == dutch_phonetic("weinaents")
        True
        >>> dutch_phonetic("schilder") == dutch_phonetic("schilders")
        False
        >>> dutch_phonetic("klaassen") == dutch_phonetic("claasen")
        True
    """
    text = (value or "").replace(" ", "")
    if not text:
        return None
    for old, new in _PHONETIC_RULES:
        text = text.replace(old, new)
    if text.endswith("d"):
        text = text[:-1] + "t"
    if not text:
        return None
    out = [text[0]]
    for ch in text[1:]:
        if ch != out[-1]:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def prefixes() -> tuple[str, ...]:
    """Dutch surname prefixes (longest first), from ``reference_data/name_prefixes.txt``."""
    lines = resource("reference_data", "name_prefixes.txt").read_text(encoding="utf-8").splitlines()
    found = {letters(ascii_lower(line)) for line in lines if line.strip() and not line.startswith("#")}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def surname_core(value: str | None) -> str | None:
    """Surname without infix words, parts of a double name space-separated.

    Examples:
        >>> surname_core("van der Berg")
        'berg'
        >>> surname_core("Jansen-de Vries")
        'jansen vries'
        >>> surname_core("De Jong")
        'jong'
    """
    text = letters(ascii_lower(value))
    if not text:
        return None
    return " ".join(_prefix_pattern().sub(" ", f" {text} ").split()) or text


@lru_cache(maxsize=1)
def _prefix_pattern() -> re.Pattern:
    """Any prefix as whole words, longest first ("van der" before "van"): one pass instead of one per prefix."""
    return re.compile(r"(?<= )(?:" + "|".join(re.escape(p) for p in prefixes()) + r")(?= )")


def first_name(value: str | None) -> str | None:
    """First given name, titles and ordinals dropped; a value of initials only ("J.P.") gives None.

    Examples:
        >>> first_name("Sir Thomas"), first_name("J.P."), first_name("Dhr."), first_name("Zoë Anne")
        ('thomas', None, None, 'zoe')
    """
    text = given_names(ascii_lower(value))
    if not text:
        return None
    first = text.split()[0]
    return first if len(first) > 1 else None


def middle_names(value: str | None) -> str | None:
    """The given names after the first ("Jan Peter Karel" -> "peter karel"); initials among them are dropped.

    Examples:
        >>> middle_names("Jan Peter"), middle_names("Anna M. Sophia"), middle_names("Jan"), middle_names("J.P.")
        ('peter', 'sophia', None, None)
    """
    text = given_names(ascii_lower(value))
    if not text:
        return None
    words = text.split()
    if len(words[0]) < 2:
        return None
    rest = [w for w in words[1:] if len(w) > 1]
    return " ".join(rest) or None


def initials_of(first: str | None, initials: str | None) -> str | None:
    """Initial letters, from the initials field or else the given names.

    Examples:
        >>> initials_of(None, "J.P.")
        'jp'
        >>> initials_of("jan peter", None)
        'jp'
    """
    text = letters(ascii_lower(initials))
    if text:
        compact = text.replace(" ", "")
        if len(compact) <= 4 or " " not in text:
            return compact if len(compact) <= 4 else compact[0]
        return "".join(w[0] for w in text.split())
    text = given_names(ascii_lower(first))
    return "".join(w[0] for w in text.split()) if text else None


_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/. ]?(\d{1,2})[-/. ]?(\d{1,2})"), (0, 1, 2)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})"), (2, 1, 0)),
    (re.compile(r"^(\d{2})(\d{2})(\d{4})$"), (2, 1, 0)),
]


#: A year or a year and month only ("1956", "1956-04", "04/1956"): never a full date.
_YEAR_MONTH = re.compile(r"^(?:\d{4}(?:[-/. ]\d{1,2})?|\d{1,2}[-/. ]\d{4})$")


def birth_date(value: object) -> str | None:
    """Parse a birth date to ``YYYY-MM-DD`` (day-first for Dutch ``dd-mm-yyyy``); keeps odd days/months.

    Examples:
        >>> birth_date("19560409"), birth_date("9-4-1956"), birth_date("1956-04-09 00:00:00")
        ('1956-04-09', '1956-04-09', '1956-04-09')
        >>> birth_date("n/a") is None
        True
    """
    text = ascii_lower(value)
    if not text or _YEAR_MONTH.match(text):
        return None
    for pattern, (y, m, d) in _DATE_PATTERNS:
        found = pattern.match(text)
        if found:
            parts = found.groups()
            if int(parts[d]) == 0:
                return None  # "00-04-1956", "00-00-1956": only partly known (partial_birth_date); a zero
                # month with a day ("1992-00-08") is a typo of a full date, kept as one
            return f"{int(parts[y]):04d}-{int(parts[m]):02d}-{int(parts[d]):02d}"
    return None


_PARTIAL_PATTERNS = [
    (re.compile(r"^(\d{4})[-/. ](\d{1,2})$"), (0, 1)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{4})$"), (1, 0)),
    (re.compile(r"^(\d{4})$"), (0, None)),
    (re.compile(r"^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$"), (2, 1)),  # 00-04-1956: day unknown
    (re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})"), (0, 1)),
]


def partial_birth_date(value: object) -> str | None:
    """A birth date known only to the year or month: ``YYYY`` or ``YYYY-MM`` (None for a full or no date).

    Sources often hold only a year ("1956"), a month ("04-1956", "1956/4") or zeros for the unknown parts
    ("00-00-1956", "1956-04-00"): compared at the precision they have (see ``compare_birth_date``).

    Examples:
        >>> partial_birth_date("1956"), partial_birth_date("04-1956"), partial_birth_date("00-00-1956")
        ('1956', '1956-04', '1956')
        >>> partial_birth_date("1956-04-00"), partial_birth_date("1956-04-09"), partial_birth_date("12")
        ('1956-04', None, None)
        >>> partial_birth_date("1992-00-08") is None  # a mistyped month, not an unknown one
        True
    """
    text = ascii_lower(value)
    if not text or birth_date(value) is not None:
        return None
    text = text.split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2} ", text) else text
    for pattern, (y, m) in _PARTIAL_PATTERNS:
        found = pattern.match(text)
        if found:
            parts = found.groups()
            year = int(parts[y])
            if not 1800 <= year <= 2100:
                return None
            month = int(parts[m]) if m is not None else 0
            return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else f"{year:04d}"
    return None


def phone_key(value: object) -> str | None:
    """Last 9 digits of a phone number (drops +31/0031/0 prefixes); fewer than 6 digits gives None.

    Examples:
        >>> phone_key("+31 6 1234 5678") == phone_key("06-12345678")
        True
    """
    digits = re.sub(r"\D", "", str(value)) if value is not None and not pd.isna(value) else ""
    return digits[-9:] if len(digits) >= 6 else None


#: A number's digits in sorted order only block from this many digits on (fewer meet too many others).
SORTED_DIGITS_MIN = 5


def sorted_digits(value: str) -> str | None:
    """The digits of an identifier in sorted order: a blocking key that two swapped digits leave unchanged.

    Examples:
        >>> sorted_digits("257-9575"), sorted_digits("2579557"), sorted_digits("12a")
        ('2555779', '2555779', None)
    """
    digits = "".join(sorted(ch for ch in value if ch.isdigit()))
    return digits if len(digits) >= SORTED_DIGITS_MIN else None


#: ``pd.factorize`` of the Series of the frame being prepared, by ``id``: ``(series, codes, uniques)``. Derived
#: columns get theirs from their input's (no second hash of a million strings), and the comparison stage
#: starts from them (:func:`_prepare` hands them to ``Columns``).
_FACTORIZED: dict[int, tuple[pd.Series, np.ndarray, np.ndarray]] = {}


def _factorized(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(series.astype("object"))`` (codes -1 = missing), once per Series while it is prepared."""
    hit = _FACTORIZED.get(id(series))
    if hit is not None and hit[0] is series:
        return hit[1], hit[2]
    codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    _remember(series, codes, np.asarray(uniques, dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _remember(series: pd.Series, codes: np.ndarray, uniques: np.ndarray) -> pd.Series:
    _FACTORIZED[id(series)] = (series, codes, uniques)
    return series


def _taken_back(codes: np.ndarray, results: np.ndarray) -> pd.Series:
    """The Series of ``results[codes]`` (``results``: one value per distinct input value, then None for
    missing), remembered with its own factorization: the distinct results factorized, taken back by code.
    The distinct inputs are in order of first appearance, so the results' codes are those of factorizing
    the whole column."""
    derived, uniques = pd.factorize(results[:-1], use_na_sentinel=True)
    out = pd.Series(results[codes], dtype="object")
    return _remember(out, np.r_[derived, -1][codes], np.asarray(uniques, dtype=object))


def _distinct(series: pd.Series, fn: Callable) -> pd.Series:
    """Apply ``fn`` once per distinct value; rows take their result by index (no per-row Python call).

    Examples:
        >>> _distinct(pd.Series(["a", None, "a", "b"]), str.upper).tolist()
        ['A', None, 'A', 'B']
    """
    codes, uniques = _factorized(series)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = [fn(v) for v in uniques]
    results[-1] = None  # code -1 (missing) picks the last slot
    return _taken_back(codes, results)


def _distinct_vec(series: pd.Series, fn: Callable) -> pd.Series:
    """A vectorised Series -> Series function applied to the distinct values only, taken back by code.

    Examples:
        >>> _distinct_vec(pd.Series(["ab", None, "ab", "cd"]), lambda s: s.str[0]).tolist()
        ['a', None, 'a', 'c']
    """
    codes, uniques = _factorized(series)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = fn(pd.Series(uniques, dtype="object")).astype("object").to_numpy()
    results[-1] = None
    results[pd.isna(results)] = None
    return _taken_back(codes, results)


#: Frames from this many records on are prepared in two processes (forking costs more on a small one).
PARALLEL_MIN_ROWS = 20_000

#: Cleaned input columns of the frame being prepared, by ``(id(frame), column)``: several derived columns read
#: one input column (first name: first name, middle names, initials), screened for placeholders once.
_COLUMNS: dict[tuple[int, str], pd.Series] = {}


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of the input with placeholder values ("onbekend", "REMOVED", "-") as missing."""
    key = (id(frame), name)
    if key not in _COLUMNS:
        _COLUMNS[key] = _screened(frame, name)
    return _COLUMNS[key]


def _screened(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        values = frame[name].reset_index(drop=True)
        if values.dtype != object:
            return values
        codes, uniques = _factorized(values)
        flags = placeholder_mask(pd.Series(uniques, dtype="object"), name)
        if flags.any():
            values = values.where(~np.r_[flags, False][codes], None)
            # the placeholders' codes out, the others renumbered in their order: factorizing the result
            renumber = np.where(flags, -1, np.cumsum(~flags) - 1)
            _remember(values, np.r_[renumber, -1][codes], uniques[~flags])
        return values
    return pd.Series([None] * len(frame), dtype="object")


def _email_parts(email: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(address, local part, domain): lower-case ASCII without spaces, the local part without ``+tag`` and dots;
    None where there is no "@". Vectorised in Arrow over the distinct values.

    Examples:
        >>> [s.tolist() for s in _email_parts(pd.Series(["Jan.Jansen+x@Ziggo.NL", "geen", None, "é@x.nl"]))]
        [['jan.jansen+x@ziggo.nl', None, None, 'e@x.nl'], ['janjansen', None, None, 'e'], ['ziggo.nl', None, None, 'x.nl']]
    """
    codes, uniques = pd.factorize(email.astype("object"), use_na_sentinel=True)
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

    def back(values: pa.Array) -> pd.Series:
        out = np.r_[np.asarray(values.to_pylist(), dtype=object), None][codes]
        return pd.Series(out, dtype="object")

    return back(clean), back(local), back(pc.list_element(split, 1))


def _role_address(email: pd.Series, issues: pd.Series) -> pd.Series:
    """True where the e-mail is a role address (info@, administratie@): it names an organisation or a
    household's shared mailbox, not a person or a branch, so agreeing on it identifies nobody.

    Uses ``cdq.normalize``'s ``EMAIL_ROLE_ADDRESS`` flag in ``issues`` when present, else the same role list.

    Examples:
        >>> _role_address(pd.Series(["info@x.nl", "jan@x.nl", None]), pd.Series([None] * 3)).tolist()
        [True, False, False]
    """
    from cdq.normalize.emails import reference

    roles = frozenset(reference()["role_local_parts"])
    role = _distinct(email, lambda e: e.split("@", 1)[0] in roles).to_numpy() == True  # noqa: E712
    flagged = _distinct_vec(issues, lambda i: i.astype(str).str.contains("EMAIL_ROLE_ADDRESS", regex=False))
    return pd.Series((role | (flagged.to_numpy() == True)) & email.notna().to_numpy())  # noqa: E712


def own_domain(domain: str) -> str | None:
    """An e-mail domain unless it is a mail provider's (``reference_data/email_domain_typos.yaml``) or a typo of
    one: an organisation's own domain (``company_domain``) names it; anyone has a gmail.com address.

    Examples:
        >>> own_domain("bakkerij-jansen.nl"), own_domain("ziggo.nl"), own_domain("upcmial.nl")
        ('bakkerij-jansen.nl', None, None)
    """
    from cdq.normalize.emails import reference, suggest_domain

    return None if domain in reference()["providers"] or suggest_domain(domain) else domain


def kvk_key(value: object) -> str | None:
    """KvK (Chamber of Commerce) number: its 8 digits (a 12-digit branch number keeps its first 8).

    Examples:
        >>> kvk_key("KvK 4192 1471"), kvk_key(41921471.0), kvk_key("-")
        ('41921471', '41921471', None)
    """
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    digits = re.sub(r"\D", "", str(value))
    if len(digits) < 7:
        return None
    return digits.zfill(8)[:8]


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
    """The derived columns in two independent groups (persons and e-mail; phone, address and organisation):
    on two cores a forked child prepares the second (see :mod:`cdq.linkage.parallel`).

    E-mail is in this process's group: at 1M records its columns are near-unique (a million distinct values
    each), which a child would pickle and this process unpickle after its own work, and the two groups
    take about as long this way (1M Dutch records: ~6 s each; persons alone 2.7 s against 7.5 s).
    """
    def here() -> dict[str, pd.Series]:
        return {**_person_columns(frame), **_email_columns(frame)}

    if len(frame) >= PARALLEL_MIN_ROWS:
        packed, mine = run_tasks([lambda: _packed(_contact_columns(frame, extras)), here])
    else:
        mine, packed = here(), _packed(_contact_columns(frame, extras))
    theirs, their_codes = _unpacked(packed)
    theirs = _with_company_domain(theirs, mine["email_domain"])
    # one block per column (copy=False): consolidating ~40 object columns into one 2-D block copies and
    # reference-counts every value once more (1.4 s at 1M records) and nothing downstream needs it
    prepared = pd.DataFrame({**mine, **theirs}, index=pd.RangeIndex(len(frame)), copy=False)
    cols = Columns.of(prepared)
    known = {**_known_codes(mine), **_known_codes({"company_domain": theirs["company_domain"]}), **their_codes}
    for name, (codes, uniques) in known.items():
        cols.know(name, codes, uniques)
    return prepared


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


#: A prepared column as its factorization: int32 codes (-1 = None) and the distinct values.
_Packed = tuple[np.ndarray, np.ndarray]


def _known_codes(columns: dict[str, pd.Series]) -> dict[str, _Packed]:
    """The factorizations known of ``columns`` (see :data:`_FACTORIZED`)."""
    known: dict[str, _Packed] = {}
    for name, values in columns.items():
        hit = _FACTORIZED.get(id(values))
        if hit is not None and hit[0] is values:
            known[name] = (hit[1], hit[2])
    return known


def _packed(columns: dict[str, pd.Series]) -> dict[str, pd.Series | _Packed]:
    """Columns as a forked child sends them: a text column whose factorization is known, with None for
    missing, as int32 codes and its distinct values (pickling a million strings per column costs seconds;
    the codes are one buffer); any other column as it is."""
    known = _known_codes(columns)
    out: dict[str, pd.Series | _Packed] = {}
    for name, values in columns.items():
        if name in known and values.dtype == object:
            codes, uniques = known[name]
            if bool((values.to_numpy()[codes < 0] == None).all()):  # noqa: E711 - elementwise: missing is None
                out[name] = (codes.astype(np.int32), uniques)
                continue
        out[name] = values
    return out


def _unpacked(packed: dict[str, pd.Series | _Packed]) -> tuple[dict[str, pd.Series], dict[str, _Packed]]:
    """:func:`_packed` undone: the columns, and the factorizations that came with them."""
    columns: dict[str, pd.Series] = {}
    known: dict[str, _Packed] = {}
    for name, item in packed.items():
        if isinstance(item, tuple):
            codes, uniques = item
            columns[name] = pd.Series(np.r_[uniques, np.array([None], dtype=object)].astype(object)[codes],
                                      dtype="object")
            known[name] = (codes, uniques)
        else:
            columns[name] = item
    return columns, known


def _person_columns(frame: pd.DataFrame) -> dict[str, pd.Series]:
    """Names, birth date and gender."""
    out: dict[str, pd.Series] = {}
    out["first_name"] = _distinct(_col(frame, "first_name"), first_name)
    nick = canonical_names()  # one formal name per variant (blocking and term frequencies)
    out["first_name_nick"] = _distinct(out["first_name"], lambda v: nick.get(v, v))
    out["first_name_phonetic"] = _distinct(out["first_name_nick"], dutch_phonetic)
    ids = relations()[0]
    codes, uniques = pd.factorize(out["first_name"])  # relation id per record, -1 = not in the relation
    out["first_name_variant_id"] = pd.Series(np.r_[[ids.get(v, -1) for v in uniques], -1][codes].astype(np.int64))
    out["initials"] = _initials(frame)
    out["initials_given"] = _distinct(_col(frame, "initials"), lambda v: initials_of(None, v))
    out["first_initial"] = _distinct_vec(out["initials"], lambda s: s.str[0])
    out["middle_names"] = _distinct(_col(frame, "first_name"), middle_names)
    out["middle_initials"] = _distinct_vec(out["initials"], lambda s: s.str[1:].where(s.str.len() > 1))
    last = _col(frame, "last_name")
    infix = _col(frame, "infix")
    full_last = (infix.fillna("") + " " + last.fillna("")).where(last.notna(), None)
    out["surname_core"] = _distinct(full_last, surname_core)
    out["surname_phonetic"] = _distinct(out["surname_core"], lambda v: dutch_phonetic(v.split()[0]))
    # the whole name fields, letters only ("de la cruz" -> "delacruz"): first and last name entered the wrong
    # way round are found on these, whatever a tussenvoegsel or a second given name does to the parts
    out["given_full"] = _distinct(_col(frame, "first_name"), lambda v: _joined(given_names(ascii_lower(v))))
    out["surname_full"] = _distinct(full_last, lambda v: _joined(ascii_lower(v)))
    out["name_pair_phonetic"] = _name_pair(out["first_name"], out["surname_core"])
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
    out["phone"] = _distinct(phone, phone_key)
    out["postcode"] = _distinct(_col(frame, "postcode"), lambda v: re.sub(r"[^0-9a-z]", "", ascii_lower(v) or "") or None)
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


def _joined(text: str | None) -> str | None:
    """Only the letters of a name, written together ("De la Cruz" -> "delacruz")."""
    return (letters(text) or "").replace(" ", "") or None


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


def _ordered_keys(a: object, b: object) -> str | None:
    """Two sound keys in alphabetical order, space-separated (None unless both are there)."""
    return " ".join(sorted((a, b))) if isinstance(a, str) and isinstance(b, str) and a and b else None


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


_STREET_TYPES = re.compile(r"\b(street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|place|pl|court|ct)\b")


def street_name(value: object) -> str | None:
    """Street without house number, direction-free of US type words ("3320 W. Evergreen Ave." -> "w evergreen").

    Examples:
        >>> street_name("3320 W. Evergreen Ave."), street_name("Kerkstraat 12a")
        ('w evergreen', 'kerkstraat')
    """
    raw = ascii_lower(value)
    text = letters(re.sub(r"\d+[a-z]?\b", " ", raw)) if raw else None
    if not text:
        return None
    return " ".join(_STREET_TYPES.sub(" ", text).split()) or text


def _number_in_street(value: object) -> str | None:
    """The house number written in the street field (leading "3320 W ..." or trailing "Kerkstraat 12a")."""
    text = ascii_lower(value) or ""
    found = re.match(r"^(\d+)\b", text) or re.search(r"\s(\d+)\s*[a-z]?$", text)
    return found.group(1) if found else None


def _initials(frame: pd.DataFrame) -> pd.Series:
    return _distinct_pairs(_col(frame, "first_name"), _col(frame, "initials"), initials_of)


def _distinct_pairs(a: pd.Series, b: pd.Series, fn: Callable) -> pd.Series:
    """``fn(a, b)`` once per distinct pair of values (missing = None), by integer codes: a Series of tuples
    hashes every row's tuple in Python.

    Examples:
        >>> _distinct_pairs(pd.Series(["x", "x", None]), pd.Series(["1", "1", "2"]), lambda u, v: f"{u}{v}").tolist()
        ['x1', 'x1', 'None2']
    """
    ca, ua = pd.factorize(a.astype("object"))
    cb, ub = pd.factorize(b.astype("object"))
    ua, ub = np.r_[ua.astype(object), None], np.r_[ub.astype(object), None]  # code -1 takes the last slot
    ca, cb = np.where(ca < 0, len(ua) - 1, ca), np.where(cb < 0, len(ub) - 1, cb)
    codes, uniques = pd.factorize(ca.astype(np.int64) * len(ub) + cb)
    results = np.empty(len(uniques), dtype=object)
    results[:] = [fn(ua[k // len(ub)], ub[k % len(ub)]) for k in uniques.tolist()]
    return pd.Series(results[codes], dtype="object")


def _gender(value: object) -> str | None:
    text = ascii_lower(value)
    if not text:
        return None
    return {"m": "m", "man": "m", "male": "m", "f": "f", "v": "f", "vrouw": "f", "female": "f"}.get(text)


def _rarest_word(words: pd.Series) -> pd.Series:
    """Per record, its organisation name's least frequent word of 3+ letters in this file (None if none).

    Blocking on it pairs "Philips Gloeilampenfabrieken" with "Philips Electronics" where the word both
    share is rarer than the words that differ; ties go to the earlier word.
    """
    codes, uniques = pd.factorize(words)
    if not len(uniques):
        return pd.Series([None] * len(words), dtype="object")
    per_record = np.bincount(codes[codes >= 0], minlength=len(uniques))
    counts: dict[str, int] = {}
    for value, k in zip(uniques, per_record):
        for word in set(value):
            counts[word] = counts.get(word, 0) + int(k)
    best = [min((w for w in value if len(w) >= 3), key=lambda w: counts[w], default=None) for value in uniques]
    return pd.Series(np.r_[np.array(best, dtype=object), None][codes], dtype="object")
