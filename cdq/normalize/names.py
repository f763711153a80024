"""Person names: title, initials, first name, infix (tussenvoegsel), surname, partner name and suffix.

Each name FIELD is parsed once per distinct value (a million rows share far fewer first names, initials
and surnames than rows); :mod:`cdq.normalize.name_lines` combines the parsed fields per row with
vectorised operations and writes the salutation and envelope lines.

The surname prefix table is ``reference_data/name_prefixes.txt`` (the population register's table of
voorvoegsels), titles, salutations and suffixes are ``reference_data/titles.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import yaml

from cdq.normalize.first_names import first_name_genders
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


#: Particles that belong to the surname itself, never an infix: "El Amrani", "Ben Ali", "Mac Donald".
SURNAME_PARTICLES = {"el", "al", "ben", "bin", "abu", "ait", "ould", "bou", "mac", "mc", "o'", "st", "st."}


@lru_cache(maxsize=1)
def name_prefixes() -> tuple[tuple[str, ...], ...]:
    """The surname prefix table as token tuples, longest first (``("van", "der")``, ``("de",)``, ...)."""
    lines = resource("reference_data", "name_prefixes.txt").read_text(encoding="utf-8").splitlines()
    prefixes = {tuple(line.strip().lower().translate(_APOSTROPHES).split()) for line in lines}
    prefixes.discard(())
    prefixes = {p for p in prefixes if not p[0].startswith("#")}
    return tuple(sorted(prefixes, key=len, reverse=True))


@lru_cache(maxsize=1)
def _prefix_set() -> frozenset[tuple[str, ...]]:
    return frozenset(name_prefixes())


def _key(token: str) -> str:
    """Comparable form of a word: lower case, straight apostrophes, no dots or commas."""
    return " ".join(token.lower().translate(_APOSTROPHES).replace(".", "").replace(",", " ").split())


#: Words joining two people in one name field ("J. en M. de Vries", "Dhr. & Mevr. Jansen", "Mr and Mrs Smith").
COUPLE_WORDS = frozenset({"en", "&", "and", "+", "und", "et"})
_CALL_NAME = re.compile(r"""\(\s*([^()]*?)\s*\)|"\s*([^"]*?)\s*"|“\s*([^”]*?)\s*”""")


def call_name(text: str) -> tuple[str, str | None]:
    """The text without a call name (roepnaam) written in parentheses or quotes, and that call name.

    Examples:
        >>> call_name("C. (Carla) Bosman"), call_name('W.H. "Wim" Kok'), call_name("Jan Bos")
        (('C. Bosman', 'Carla'), ('W.H. Kok', 'Wim'), ('Jan Bos', None))
    """
    match = _CALL_NAME.search(text)
    if not match:
        return text, None
    inner = next(g for g in match.groups() if g is not None)
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split())
    if inner and all(_key(t) in titles()["salutations"] or _key(t) in titles()["prefix_titles"]
                     for t in inner.split()):
        return inner + " " + rest, None  # "Vries, J. de (dhr.)": a salutation, not a call name
    return rest, inner or None


def split_couple(tokens: list[str]) -> tuple[list[str], list[str] | None]:
    """Split name tokens at a word joining two people: (first person's tokens, second person's or None).

    Examples:
        >>> split_couple(["J.", "en", "M.", "de", "Vries"])
        (['J.'], ['M.', 'de', 'Vries'])
        >>> split_couple(["Jansen"])
        (['Jansen'], None)
    """
    for i in range(1, len(tokens) - 1):
        if tokens[i].lower().rstrip(".") in COUPLE_WORDS:
            return tokens[:i], tokens[i + 1 :]
    return tokens, None


def english_mr(tokens: list[str]) -> bool:
    """Whether a leading "Mr" is the English salutation (a man) rather than the Dutch law title "mr.".

    The Dutch title is written "mr." in lower case, and it is what a capitalised "Mr." before initials, before
    another title or before a Dutch surname with a prefix is ("Mr. drs. P. Jansen", "MR J. DE VRIES"). "Mr"
    without a dot, "Mr. John Smith" and "Mr. and Mrs. Smith" are English.

    Examples:
        >>> english_mr(["Mr", "John", "Smith"]), english_mr(["mr.", "J.", "de", "Vries"])
        (True, False)
        >>> english_mr(["Mr.", "John", "Smith"]), english_mr(["Mr.", "drs.", "P.", "Jansen"])
        (True, False)
        >>> english_mr(["Mr.", "and", "Mrs.", "Smith"]), english_mr(["MR", "J.", "DE", "VRIES"])
        (True, False)
    """
    if not tokens or _key(tokens[0]) != "mr" or tokens[0][:1] != "M":
        return False
    rest = tokens[1:]
    if rest and rest[0].lower().rstrip(".") in COUPLE_WORDS:
        return True
    if rest and (_key(rest[0]) in titles()["prefix_titles"] or _key(rest[0]) in titles()["salutations"]):
        return False
    if any(prefix_length(rest, i) for i in range(1, len(rest))):
        return False
    if not tokens[0].endswith("."):
        return True
    return bool(rest) and not _INITIALS.match(rest[0]) and rest[0][:1].isupper()


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
    table, gender, seen = titles(), None, False
    found: list[str] = []
    while len(tokens) > keep:
        two = _key(" ".join(tokens[:2])) if len(tokens) > 1 else None
        one = _key(tokens[0])
        if one == "mr" and english_mr(tokens) and (len(tokens) > 1 or keep == 0):
            gender, seen, tokens = gender or "M", True, tokens[1:]
        elif two and two in table["salutations"] and len(tokens) > 2:
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
    table = titles()["suffixes"]
    found: list[str] = []
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
    second_initials: str | None = None
    second_first_name: str | None = None
    second_gender: str | None = None
    second_surname: str | None = None


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

    A call name in parentheses is the first name ("Cornelia (Carla)"); two people joined by "en" or "&"
    ("J. en M.") give the first person's parts and the second person's (``second_*``).

    Examples:
        >>> g = parse_given("Jan de")
        >>> g.first_name, g.infix
        ('Jan', 'de')
        >>> g = parse_given("dhr. J.P.", "initials")
        >>> g.gender, g.initials
        ('M', 'J.P.')
        >>> g = parse_given("ir. JAN PIETER")
        >>> g.title, g.first_name
        ('ir.', 'Jan Pieter')
        >>> g = parse_given("Cornelia (Carla)")
        >>> g.first_name, g.initials
        ('Carla', 'C.')
        >>> g = parse_given("J. en M.", "initials")
        >>> g.initials, g.second_initials
        ('J.', 'M.')
    """
    if text is None or not str(text).strip():
        return Given()
    rest, call = call_name(str(text))
    first, second = split_couple(tokenize(rest))
    own = _given_tokens(first, field, call)
    if second is None:
        return own
    other = _given_tokens(second, field, None)
    return replace(own, second_initials=other.initials or initials_of(other.first_name),
                   second_first_name=other.first_name, second_gender=other.gender)


def _given_tokens(tokens: list[str], field: str, call: str | None) -> Given:
    """The parts of one person's given-name tokens; a call name becomes the first name."""
    found, tokens, gender, _ = _strip_leading(tokens)
    infix = None
    for i in range(1, len(tokens)):
        if is_prefix(tokens[i:]):
            infix, tokens = " ".join(t.lower() for t in tokens[i:]), tokens[:i]
            break
    initials = [t for t in tokens if _looks_like_initials(t, field)]
    names = [t for t in tokens if not _looks_like_initials(t, field)]
    if call and not _looks_like_initials(call, "first"):
        formal = canonical_initials(initials) or initials_of(proper_case(" ".join(names)))
        return Given(" ".join(found) or None, gender, proper_case(call), formal, infix)
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
    second_initials: str | None = None
    second_first_name: str | None = None
    second_gender: str | None = None
    second_surname: str | None = None


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


def _is_title_word(token: str) -> bool:
    key = _key(token)
    return key in titles()["salutations"] or key in titles()["prefix_titles"]


def natural_order(text: str) -> str:
    """A name written surname first with commas, in natural order.

    Examples:
        >>> natural_order("VRIES, DE, A."), natural_order("Vries, Jan de"), natural_order("Berg, van der")
        ('A. DE VRIES', 'Jan de Vries', 'van der Berg')
        >>> natural_order("Jansen-de Vries, M."), natural_order("dhr. Vries de, J.")
        ('M. Jansen-de Vries', 'dhr. J. de Vries')
    """
    segments = [seg.strip() for seg in text.split(",") if seg.strip()]
    if len(segments) < 2:
        return " ".join(text.replace(",", " ").split())
    surname, infix, given = tokenize(segments[0]), [], []
    lead = []
    while len(surname) > 1 and _is_title_word(surname[0]):
        lead.append(surname.pop(0))
    for segment in segments[1:]:
        tokens = tokenize(segment)
        if is_prefix(tokens):
            infix = tokens
        else:
            given += tokens
    for i in range(1, len(given)):
        if is_prefix(given[i:]):
            infix, given = infix or given[i:], given[:i]
            break
    for i in range(1, len(surname)):
        if is_prefix(surname[i:]):
            infix, surname = infix or surname[i:], surname[:i]
            break
    return " ".join(lead + given + infix + surname)


def surname_start(tokens: list[str]) -> int:
    """Index of the token where the surname starts in a name in natural order (titles already removed).

    Initials lead; the surname starts at the first prefix ("de", "van der"), else at a hyphenated double
    name or a particle ("El Amrani") after the first given name, else it is the last word; a partner marker
    ("geb.", "e.v.") ends the search, and a trailing prefix ("Vries de") makes the whole text a surname.

    Examples:
        >>> surname_start(["A.", "de", "Vries-Bakker"]), surname_start(["Maria", "Hendriks-de", "Wit"])
        (1, 1)
        >>> surname_start(["Jan-Willem", "de", "Boer"]), surname_start(["Jan", "Peter", "Jansen"])
        (1, 2)
        >>> surname_start(["Maria", "Jansen", "geb.", "de", "Vries"]), surname_start(["Vries", "de"])
        (1, 0)
    """
    n = len(tokens)
    i0 = 0
    while i0 < n - 1 and _INITIALS.match(tokens[i0]) and tokens[i0] not in ABBREVIATED_PREFIXES:
        i0 += 1
    markers = titles()["partner_markers"]
    end = next((i for i in range(i0 + 1, n - 1) if _key(tokens[i]) in markers), n)
    if end == n and any(is_prefix(tokens[j:]) for j in range(i0 + 1, n)):
        return i0
    for i in range(i0, end):
        token = tokens[i]
        k = prefix_length(tokens, i)
        # "Jan-Willem de Boer" is a given name, "Jansen-de Vries" a double surname
        hyphen = "-" in token.strip("-") and (i > i0 or i == n - 1 or is_prefix([token.rsplit("-", 1)[1]]))
        particle = token.lower() in SURNAME_PARTICLES and i + 1 < n and (i > i0 or n - i0 == 2)
        if (k and i + k < n) or hyphen or particle:
            return i
    return end - 1 if end < n else max(n - 1, 0)


@lru_cache(maxsize=500_000)
def parse_surname(text: str | None, hyphen_use: str = "partner-own") -> Surname:
    """Parse a surname field: prefix anywhere, inverted "Vries, Jan de", partner names, titles, suffixes.

    The field may hold a whole name ("Mw. A. de Vries-van Dam", "VRIES, DE, A.", "C. (Carla) Bosman") or
    a couple ("J. en M. de Vries": the first person's parts, the second person's in ``second_*``).

    Examples:
        >>> s = parse_surname("Vries, J.P. de")
        >>> (s.initials, s.infix, s.last_name)
        ('J.P.', 'de', 'Vries')
        >>> s = parse_surname("Jansen-de Vries")
        >>> (s.infix, s.last_name, s.partner_last_name, s.name_use)
        ('de', 'Vries', 'Jansen', 'partner-own')
        >>> s = parse_surname("A. de Vries-Bakker")
        >>> (s.initials, s.partner_infix, s.partner_last_name, s.last_name)
        ('A.', 'de', 'Vries', 'Bakker')
        >>> parse_surname("VAN 'T HOF").infix, parse_surname("d'Ancona").last_name
        ("van 't", 'Ancona')
        >>> parse_surname("El Amrani").infix is None
        True
    """
    if text is None or not str(text).strip():
        return Surname()
    rest, call = call_name(" ".join(str(text).split()))
    tokens = tokenize(natural_order(rest) if "," in rest else rest)
    first, second = split_couple(tokens)
    if second is None:
        return _parse_natural(tokens, hyphen_use, call)
    base = _parse_natural(second, hyphen_use, None)
    if has_own_surname(first):
        # "Dhr. J. de Vries en Mevr. A. Bakker": two full names; the record keeps the first person
        person = _parse_natural(first, hyphen_use, call)
        other = join_infix(base.infix, base.last_name) if base.last_name else None
        return replace(person, second_initials=base.initials or initials_of(base.first_name),
                       second_first_name=base.first_name, second_gender=base.gender, second_surname=other)
    own = _given_tokens(first, "first", call)
    return replace(
        base, title=own.title or base.title, gender=own.gender, first_name=own.first_name,
        initials=own.initials or initials_of(own.first_name),
        second_initials=base.initials or initials_of(base.first_name),
        second_first_name=base.first_name, second_gender=base.gender,
    )


def has_own_surname(tokens: list[str]) -> bool:
    """Whether the first person of a couple is named in full ("Dhr. J. de Vries" rather than "Dhr. J.").

    Examples:
        >>> has_own_surname(["Dhr.", "J.", "de", "Vries"]), has_own_surname(["Dhr.", "J."]), has_own_surname(["Jan"])
        (True, False, False)
    """
    rest = _strip_leading(tokens)[1]
    names = [t for t in rest if not _INITIALS.match(t) and not _looks_like_initials(t, "first")]
    return len(names) >= 2 or (bool(names) and len(rest) > len(names))


def _parse_natural(tokens: list[str], hyphen_use: str, call: str | None) -> Surname:
    """One person's name in natural order (titles, given names, surname with partner name, suffixes)."""
    found, tokens, gender, _ = _strip_leading(tokens, keep=1)
    tokens, suffixes = _strip_suffixes(tokens)
    given: list[str] = []
    own, partner, use = _partner_split(tokens, hyphen_use)
    start = surname_start(tokens) if partner is not None else 0
    if start and not any(t.endswith("-") for t in tokens[:start]) and not tokens[start].startswith("-"):
        # "A. de Vries-Bakker": the given part is no part of the partner name
        given, tokens = tokens[:start], tokens[start:]
        own, partner, use = _partner_split(tokens, hyphen_use)
    simple_given, infix, core = _simple(own)
    given += simple_given
    p_infix, p_core = ([], []) if partner is None else _simple(partner)[1:]
    given_parsed = _given_tokens(given, "first", call) if given or call else Given()
    infix_typed = " ".join(infix) or None
    return Surname(
        title=" ".join(found) or given_parsed.title,
        gender=gender or given_parsed.gender,
        first_name=given_parsed.first_name,
        initials=given_parsed.initials,
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
def parse_title(text: str | None) -> tuple[str | None, str | None, bool, str | None]:
    """A title field: (canonical titles, gender from a salutation, salutation seen?, second person's gender).

    "Mr" alone is the English salutation, "mr." the Dutch law title; "Dhr. en Mevr." names a couple.

    Examples:
        >>> parse_title("Dhr. Drs."), parse_title("Mevrouw"), parse_title("Familie")
        (('drs.', 'M', True, None), (None, 'F', True, None), (None, None, True, None))
        >>> parse_title("Dhr. en Mevr."), parse_title("Mr"), parse_title("mr.")
        ((None, 'M', True, 'F'), (None, 'M', True, None), ('mr.', None, False, None))
    """
    if text is None or not str(text).strip():
        return None, None, False, None
    first, second = split_couple(tokenize(text))
    found, rest, gender, seen = _strip_leading(first + ["\0"])
    rest = [t for t in rest if t != "\0"]
    table = titles()["prefix_titles"]
    extra = [table.get(_key(t), t) for t in rest]
    second_gender = _strip_leading(second + ["\0"])[2] if second else None
    return " ".join(found + extra) or None, gender, seen, second_gender


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
