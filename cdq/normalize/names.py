"""Person names: title, initials, first name, infix (tussenvoegsel), surname, partner name and suffix.

Each name FIELD is parsed once per distinct value (a million rows share far fewer first names, initials
and surnames than rows); :mod:`cdq.normalize.name_lines` combines the parsed fields per row with
vectorised operations and writes the salutation and envelope lines.

The surname prefix table is ``reference_data/name_prefixes.txt`` (the population register's table of
voorvoegsels), titles, salutations and suffixes are ``reference_data/titles.yaml``.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cdq.normalize.name_parsing import name_prefixes
from cdq.resources import resource

_APOSTROPHES = str.maketrans({"’": "'", "`": "'", "´": "'", "‘": "'"})
_GLUED = re.compile(r"(?i)\b(van|in|op|uit|aan|bij|voor|onder|over|von|uijt)'t\b")
_ELIDED = re.compile(r"(?i)(?:(?<=\s)|^)(d|l|dal)'(?=\w)")
#: Abbreviated prefixes ("v.d. Berg"): recognised only in lower case (upper case "V.D." are initials) and
#: kept as typed, since "v.d." may stand for van de, van den or van der; NAME_INFIX_ABBREVIATED flags them.
ABBREVIATED_PREFIXES = frozenset({"v.", "v.d.", "v.d", "vd", "v/d", "v.d.r.", "v.den", "v.der", "v.de"})
_INITIALS = re.compile(r"^(?:(?:[A-Za-z]|Th|Ch|Chr|Ph|IJ|Ij|St)\.)+(?:[A-Za-z])?$")
_GENDER_WORDS = {
    "M": {"m", "man", "male", "mannelijk", "heer", "dhr", "de heer", "h", "jongen", "mr", "mnr"},
    "F": {"v", "vrouw", "f", "female", "vrouwelijk", "mevrouw", "mevr", "mw", "w", "meisje", "mrs", "ms"},
    None: {
        "o",
        "onbekend",
        "u",
        "x",
        "unknown",
        "-",
        "?",
        "n",
        "nvt",
        "n.v.t.",
        "anders",
        "other",
        "diverse",
    },
}


@lru_cache(maxsize=1)
def titles() -> dict:
    """``reference_data/titles.yaml`` with every key normalized by :func:`_key`."""
    data = yaml.safe_load(resource("reference_data", "titles.yaml").read_text(encoding="utf-8"))
    return {section: {_key(k): v for k, v in entries.items()} for section, entries in data.items()}


@lru_cache(maxsize=1)
def _prefix_set() -> frozenset[tuple[str, ...]]:
    return frozenset(name_prefixes())


@lru_cache(maxsize=4)
def first_name_genders(extra_file: str | None = None) -> dict[str, str]:
    """Lower-cased first name → M/F from ``reference_data/first_names.csv`` and an extra name,gender CSV."""
    table: dict[str, str] = {}
    paths = [resource("reference_data", "first_names.csv")] + ([Path(extra_file)] if extra_file else [])
    for path in paths:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
        for row in csv.DictReader(lines):
            gender = (row.get("gender") or "").strip().upper()[:1]
            if gender in ("M", "F") and row.get("name"):
                table.setdefault(row["name"].strip().lower(), gender)
    return table


def _key(token: str) -> str:
    """Comparable form of a word: lower case, straight apostrophes, no dots or commas."""
    return " ".join(token.lower().translate(_APOSTROPHES).replace(".", "").replace(",", " ").split())


def tokenize(text: str) -> list[str]:
    """Name words, with "van't" → "van 't" and "d'Ancona" → "d'", "Ancona".

    Examples:
        >>> tokenize("van't Hof"), tokenize("d'Ancona"), tokenize("  J.P.  de   Vries ")
        (['van', "'t", 'Hof'], ["d'", 'Ancona'], ['J.P.', 'de', 'Vries'])
    """
    text = str(text).replace("\u00a0", " ").translate(_APOSTROPHES)
    text = _GLUED.sub(r"\1 't", re.sub(r"(?<![\w'])'\s+([ts])\b", r"'\1", text))
    text = _ELIDED.sub(r"\1' ", text)
    return text.split()


def prefix_length(tokens: list[str], start: int = 0) -> int:
    """Number of tokens from ``start`` that form the longest surname prefix (0 if none).

    Examples:
        >>> prefix_length(["VAN", "DER", "BERG"]), prefix_length(["in", "'t", "Veld"])
        (2, 2)
        >>> prefix_length(["El", "Amrani"])
        0
    """
    if start < len(tokens) and tokens[start] in ABBREVIATED_PREFIXES:
        return 1
    lowered = [t.lower() for t in tokens[start : start + 4]]
    for n in range(len(lowered), 0, -1):
        if tuple(lowered[:n]) in _prefix_set():
            return n
    return 0


def is_prefix(tokens: list[str]) -> bool:
    """True when ``tokens`` are exactly one surname prefix ("van der", "'t")."""
    if len(tokens) == 1 and tokens[0] in ABBREVIATED_PREFIXES:
        return True
    return bool(tokens) and tuple(t.lower() for t in tokens) in _prefix_set()


def join_infix(infix: str | None, surname: str | None) -> str:
    """Infix and surname as written: no space after an elided prefix ("d'Ancona").

    Examples:
        >>> join_infix("de", "Vries"), join_infix("d'", "Ancona"), join_infix(None, "Jansen")
        ('de Vries', "d'Ancona", 'Jansen')
    """
    if not infix:
        return surname or ""
    return (
        infix
        + ("" if infix.endswith("'") and not infix.endswith(" 't") and infix not in ("'t", "'s") else " ")
        + (surname or "")
    )


def capitalise_infix(infix: str | None) -> str | None:
    """The infix as it is written when it leads: "de" → "De", "van 't" → "Van 't", "'t" → "'t"."""
    if not infix:
        return infix
    return infix[0].upper() + infix[1:] if infix[0].isalpha() else infix


def _cap_word(word: str) -> str:
    """One name word in proper case; mixed case as typed ("McDonald") is kept.

    Examples:
        >>> _cap_word("VRIES"), _cap_word("ijsselstein"), _cap_word("McDonald"), _cap_word("o'BRIEN")
        ('Vries', 'IJsselstein', 'McDonald', "O'Brien")
    """
    letters = [c for c in word if c.isalpha()]
    if (
        letters
        and not (all(c.isupper() for c in letters) or all(c.islower() for c in letters))
        and word[:1].isupper()
    ):
        return word
    parts = re.split(r"([\-'])", word.lower())
    out = []
    for part in parts:
        if part.startswith("ij"):
            out.append("IJ" + part[2:])
        else:
            out.append(part[:1].upper() + part[1:])
    return "".join(out)


def proper_case(text: str | None) -> str | None:
    """Every word of a surname or first name in proper case ("VAN GOGH-BOS" words → "Van Gogh-Bos")."""
    if not text:
        return text
    return " ".join(_cap_word(w) for w in text.split())


def canonical_initials(tokens: list[str]) -> str | None:
    """Initials written as "J.P." ("JP", "j p", "J. P." all become "J.P.").

    Examples:
        >>> canonical_initials(["JP"]), canonical_initials(["j.", "p"]), canonical_initials(["Th.J."])
        ('J.P.', 'J.P.', 'Th.J.')
    """
    letters: list[str] = []
    for token in tokens:
        if "." in token:
            letters += [p for p in token.split(".") if p]
        elif token.upper() == "IJ":
            letters.append("IJ")
        else:
            letters += list(token)
    letters = [p[0].upper() + (p[1:].lower() if p.upper() != "IJ" else "J") for p in letters if p.isalpha()]
    return "".join(p + "." for p in letters) or None


def initials_of(first_name: str | None) -> str | None:
    """Initials of first names: "Jan Pieter" → "J.P.", "IJsbrand" → "IJ.", "Jan-Willem" → "J.W.".

    Examples:
        >>> initials_of("Jan Pieter"), initials_of("IJsbrand"), initials_of("Jan-Willem")
        ('J.P.', 'IJ.', 'J.W.')
    """
    if not first_name:
        return None
    parts = [p for p in re.split(r"[\s\-]+", first_name) if p and p[0].isalpha()]
    return "".join(("IJ" if p[:2].upper() == "IJ" else p[0].upper()) + "." for p in parts) or None


def _strip_leading(tokens: list[str], keep: int = 0) -> tuple[list[str], list[str], str | None, bool]:
    """Remove salutations and prefix titles from the front, leaving at least ``keep`` tokens ("Heer" is a
    surname too); return (titles, rest, gender, salutation_seen)."""
    table, found, gender, seen = titles(), [], None, False
    while len(tokens) > keep:
        two = _key(" ".join(tokens[:2])) if len(tokens) > 1 else None
        one = _key(tokens[0])
        if two and two in table["salutations"] and len(tokens) > 2:
            gender, seen, tokens = gender or table["salutations"][two], True, tokens[2:]
        elif two and two in table["prefix_titles"] and len(tokens) > 2:
            found.append(table["prefix_titles"][two])
            tokens = tokens[2:]
        elif one in table["salutations"] and (len(tokens) > 1 or one != "fam") and one != "mr":
            gender, seen, tokens = gender or table["salutations"][one], True, tokens[1:]
        elif one in table["prefix_titles"] and len(tokens) > 1:
            found.append(table["prefix_titles"][one])
            tokens = tokens[1:]
        else:
            break
    return found, tokens, gender, seen


def _strip_suffixes(tokens: list[str]) -> tuple[list[str], list[str]]:
    """Remove suffixes ("jr.", "MSc") from the end; return (rest, suffixes)."""
    table, found = titles()["suffixes"], []
    while len(tokens) > 1 and _key(tokens[-1]) in table and not is_prefix(tokens[-2:-1]):
        found.insert(0, table[_key(tokens.pop())])
    return tokens, found


@dataclass(frozen=True)
class Given:
    """The parsed content of a first-name or initials field."""

    title: str | None = None
    gender: str | None = None
    first_name: str | None = None
    initials: str | None = None
    infix: str | None = None


def _looks_like_initials(token: str, field: str) -> bool:
    if _INITIALS.match(token):
        return True
    bare = token.replace(".", "")
    if field == "initials":
        return len(bare) <= 3 and bare.isalpha() and bare.lower() not in first_name_genders()
    return 1 <= len(bare) <= 3 and bare.isalpha() and bare.isupper() and len(token) < 4 and len(bare) < 3


@lru_cache(maxsize=200_000)
def parse_given(text: str | None, field: str = "first") -> Given:
    """Parse a first-name (``field="first"``) or initials (``field="initials"``) field.

    Examples:
        >>> parse_given("Jan de")
        Given(title=None, gender=None, first_name='Jan', initials=None, infix='de')
        >>> parse_given("dhr. J.P.", "initials")
        Given(title=None, gender='M', first_name=None, initials='J.P.', infix=None)
        >>> parse_given("ir. JAN PIETER")
        Given(title='ir.', gender=None, first_name='Jan Pieter', initials=None, infix=None)
    """
    if text is None or not str(text).strip():
        return Given()
    found, tokens, gender, _ = _strip_leading(tokenize(text))
    infix = None
    for i in range(1, len(tokens)):
        if is_prefix(tokens[i:]):
            infix, tokens = " ".join(t.lower() for t in tokens[i:]), tokens[:i]
            break
    initials = [t for t in tokens if _looks_like_initials(t, field)]
    names = [t for t in tokens if not _looks_like_initials(t, field)]
    return Given(
        " ".join(found) or None,
        gender,
        proper_case(" ".join(names)) or None,
        canonical_initials(initials),
        infix,
    )


@dataclass(frozen=True)
class Surname:
    """The parsed content of a surname field (which may hold a whole name)."""

    title: str | None = None
    gender: str | None = None
    first_name: str | None = None
    initials: str | None = None
    infix: str | None = None
    last_name: str | None = None
    partner_infix: str | None = None
    partner_last_name: str | None = None
    name_use: str | None = None
    suffix: str | None = None
    infix_typed: str | None = None
    partner_infix_typed: str | None = None


def _simple(tokens: list[str]) -> tuple[list[str], list[str], list[str]]:
    """One surname without partner part: (given tokens, infix tokens, surname tokens).

    The prefix may lead ("de Vries"), trail ("Vries de") or follow given names ("Jan de Vries").
    """
    lead = 0
    while (
        lead < len(tokens) - 1 and _INITIALS.match(tokens[lead]) and tokens[lead] not in ABBREVIATED_PREFIXES
    ):
        lead += 1
    given, tokens = tokens[:lead], tokens[lead:]
    n = prefix_length(tokens)
    if n and n < len(tokens):
        rest = tokens[n:]
        # "van de van de Jong": an infix column glued in front of a surname that already had it.
        if len(rest) > n and [t.lower() for t in rest[:n]] == [t.lower() for t in tokens[:n]]:
            rest = rest[n:]
        return given, tokens[:n], rest
    for i in range(1, len(tokens)):
        if is_prefix(tokens[i:]):
            return given, tokens[i:], tokens[:i]
    for i in range(1, len(tokens) - 1):
        n = prefix_length(tokens, i)
        if n and i + n < len(tokens):
            return given + tokens[:i], tokens[i : i + n], tokens[i + n :]
    return given, [], tokens


def _partner_split(tokens: list[str], hyphen_use: str) -> tuple[list[str], list[str] | None, str | None]:
    """Split off a partner name: (own tokens, partner tokens or None, name use)."""
    markers = titles()["partner_markers"]
    for i in range(1, len(tokens) - 1):
        use = markers.get(_key(tokens[i]))
        if use == "partner-own":
            return tokens[i + 1 :], tokens[:i], use
        if use == "own-partner":
            return tokens[:i], tokens[i + 1 :], use
    text = " ".join(tokens)
    match = re.search(r"(?<=\w)\s*-\s*(?=\S)|(?<=\w)\s+-\s*(?=\S)", text)
    if match and not is_prefix(tokenize(text[: match.start()])):
        left, right = tokenize(text[: match.start()]), tokenize(text[match.end() :])
        if left and right and not re.fullmatch(r"\d+", right[0]):
            return (
                (right, left, "partner-own") if hyphen_use == "partner-own" else (left, right, "own-partner")
            )
    return tokens, None, None


@lru_cache(maxsize=500_000)
def parse_surname(text: str | None, hyphen_use: str = "partner-own") -> Surname:
    """Parse a surname field: prefix anywhere, inverted "Vries, Jan de", partner names, titles, suffixes.

    Examples:
        >>> s = parse_surname("Vries, J.P. de")
        >>> (s.initials, s.infix, s.last_name)
        ('J.P.', 'de', 'Vries')
        >>> s = parse_surname("Jansen-de Vries")
        >>> (s.infix, s.last_name, s.partner_last_name, s.name_use)
        ('de', 'Vries', 'Jansen', 'partner-own')
        >>> parse_surname("VAN 'T HOF").infix, parse_surname("d'Ancona").last_name
        ("van 't", 'Ancona')
        >>> parse_surname("El Amrani").infix is None
        True
    """
    if text is None or not str(text).strip():
        return Surname()
    text = " ".join(str(text).split())
    after: Given = Given()
    if "," in text:
        text, _, rest = text.partition(",")
        rest_tokens = tokenize(rest.strip(" ,"))
        if is_prefix(rest_tokens):
            after = Given(infix=" ".join(t.lower() for t in rest_tokens))
        elif rest_tokens:
            after = parse_given(" ".join(rest_tokens), "first")
    found, tokens, gender, _ = _strip_leading(tokenize(text), keep=1)
    tokens, suffixes = _strip_suffixes(tokens)
    own, partner, use = _partner_split(tokens, hyphen_use)
    given, infix, core = _simple(own)
    p_infix, p_core = ([], []) if partner is None else _simple(partner)[1:]
    given_parsed = parse_given(" ".join(given), "first") if given else Given()
    infix_typed = " ".join(infix) or after.infix
    return Surname(
        title=" ".join(found) or after.title,
        gender=gender or after.gender,
        first_name=given_parsed.first_name or after.first_name,
        initials=given_parsed.initials or after.initials,
        infix=infix_typed.lower() if infix_typed else None,
        last_name=proper_case(" ".join(core)) or None,
        partner_infix=" ".join(p_infix).lower() or None,
        partner_last_name=proper_case(" ".join(p_core)) or None,
        name_use=use,
        suffix=" ".join(suffixes) or None,
        infix_typed=infix_typed,
        partner_infix_typed=" ".join(p_infix) or None,
    )


@lru_cache(maxsize=10_000)
def parse_title(text: str | None) -> tuple[str | None, str | None, bool]:
    """A title field: (canonical titles, gender from a salutation, salutation seen?).

    Examples:
        >>> parse_title("Dhr. Drs."), parse_title("Mevrouw"), parse_title("Familie")
        (('drs.', 'M', True), (None, 'F', True), (None, None, True))
    """
    if text is None or not str(text).strip():
        return None, None, False
    found, rest, gender, seen = _strip_leading(tokenize(text) + ["\0"])
    rest = [t for t in rest if t != "\0"]
    table = titles()["prefix_titles"]
    extra = [table.get(_key(t), t) for t in rest]
    return " ".join(found + extra) or None, gender, seen


@lru_cache(maxsize=1_000)
def parse_gender(text: str | None) -> tuple[str | None, bool]:
    """A gender field: (M/F/None, recognised?).

    Examples:
        >>> parse_gender("Vrouw"), parse_gender("m"), parse_gender("onbekend"), parse_gender("42")
        (('F', True), ('M', True), (None, True), (None, False))
    """
    if text is None or not str(text).strip():
        return None, True
    key = _key(str(text))
    for gender, words in _GENDER_WORDS.items():
        if key in words:
            return gender, True
    return None, False
