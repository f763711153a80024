"""Name rules: registered, vectorised predicates; each one is a reason code.

A rule is ``f(view, ctx) -> pd.Series[bool]`` over a *view*: one row per distinct name record with the
parts as plain strings ("" when empty) and derived columns (``full``, ``given``, ``surname``, ``*_key``
normalised forms). ``ctx`` carries the name knowledge. Rules are registered with :func:`register_rule`
and switched on, off and weighted in ``rules/plausibility.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from cdq.names.knowledge import Knowledge, norm
from cdq.normalize._distinct import arrow_text
from cdq.normalize.names import titles
from cdq.normalize.organisations import TRADE_WORDS, _legal_form_pattern, legal_form
from cdq.registry import Registry
from cdq.resources import resource

PARTS = ["title", "initials", "first_name", "infix", "last_name", "gender", "company_name", "party_type"]


@dataclass(frozen=True)
class RuleContext:
    """What rules may consult besides the view."""

    knowledge: Knowledge


RuleFunc = Callable[[pd.DataFrame, RuleContext], pd.Series]


@dataclass(frozen=True)
class Rule:
    code: str
    func: RuleFunc
    description: str


#: reason code -> rule (switched on, off and weighted in ``rules/plausibility.yaml``)
RULES: Registry[Rule] = Registry("name rule")


def register_rule(code: str, description: str) -> Callable[[RuleFunc], RuleFunc]:
    """Register ``func(view, ctx) -> bool Series`` under the reason code ``code`` (the function is unchanged)."""

    def decorate(func: RuleFunc) -> RuleFunc:
        RULES.add(code, Rule(code, func, description))
        return func

    return decorate


@lru_cache(maxsize=None)
def _word_list(filename: str) -> frozenset[str]:
    text = resource("reference_data", "names", filename).read_text(encoding="utf-8")
    return frozenset(norm(line) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def build_view(parts: pd.DataFrame) -> pd.DataFrame:
    """Add derived columns to a frame of distinct name records (the parts as strings, "" when empty).

    Examples:
        >>> v = build_view(pd.DataFrame([{"first_name": "Jan", "infix": "de", "last_name": "Vries"}]))
        >>> v.loc[0, "full"], v.loc[0, "surname_key"]
        ('Jan de Vries', 'de vries')
    """
    view = pd.DataFrame({c: parts[c].fillna("").astype(str).str.strip() if c in parts else "" for c in PARTS},
                        index=parts.index)
    view["surname"] = _join(view["infix"], view["last_name"])
    view["given"] = view["first_name"]
    view["full"] = _join(view["first_name"], view["surname"])
    view["everything"] = _join(view["title"], view["initials"], view["full"])
    # norm() works character by character, so the key of a joined text is the join of the parts' keys
    keys = {c: _norm_series(view[c]) for c in ("title", "initials", "first_name", "infix", "last_name")}
    view["first_name_key"], view["last_name_key"] = keys["first_name"], keys["last_name"]
    view["surname_key"] = _join(keys["infix"], keys["last_name"])
    view["full_key"] = _join(keys["first_name"], view["surname_key"])
    view["everything_key"] = _join(keys["title"], keys["initials"], view["full_key"])
    return view


def _join(*columns: pd.Series) -> pd.Series:
    """Join texts with one space, leaving out empty ones."""
    out = columns[0]
    for column in columns[1:]:
        out = (out + " " + column).str.strip()
    return out


def _any_part(view: pd.DataFrame, columns: list[str], pattern: str, flags: int = 0, prepare=None) -> pd.Series:
    """Whether ``pattern`` is found in any of ``columns``; searched once per distinct value of each column.

    Name parts repeat far more than whole records, so this is much cheaper than searching ``full``.
    """
    compiled = re.compile(pattern, flags)
    found = np.zeros(len(view), bool)
    for column in columns:
        codes, uniques = pd.factorize(view[column])
        texts = uniques if prepare is None else [prepare(u) for u in uniques]
        hits = np.fromiter((compiled.search(u) is not None for u in texts), bool, len(uniques))
        found |= hits[codes] if len(uniques) else False
    return pd.Series(found, index=view.index)


_TEXT_PARTS = ["title", "initials", "first_name", "infix", "last_name"]
_NAME_PARTS = ["first_name", "infix", "last_name"]


def _norm_series(s: pd.Series) -> pd.Series:
    uniques = s.unique()
    return s.map(dict(zip(uniques, (norm(u) for u in uniques))))


@register_rule("NAME_HAS_DIGITS", "a digit in a name")
def has_digits(view, ctx):
    return _any_part(view, _NAME_PARTS + ["initials"], r"\d")


_ROMAN = re.compile(r"\b[IVX]+\b")


@register_rule("NAME_REPEATED_CHARS", "one character three or more times in a row ('Jaaaan', 'xxxx')")
def repeated_chars(view, ctx):
    # roman numerals ("Herman III") are not repeated letters
    return (_any_part(view, ["first_name", "last_name"], r"([^\W\d_])\1\1", re.IGNORECASE,
                      prepare=lambda u: _ROMAN.sub("", u))
            | _two_same_characters(view["full_key"]))


def _two_same_characters(keys: pd.Series) -> pd.Series:
    """The whole key is one word character twice ("xx"); only keys of two (or, with a newline, three) long can be."""
    short = keys.str.len().between(2, 3).to_numpy(bool)
    found = np.zeros(len(keys), bool)
    found[short] = _search(keys[short], r"^(\w)\1$").to_numpy(bool)
    return pd.Series(found, index=keys.index)


def _search(series: pd.Series, pattern: str) -> pd.Series:
    """``re.search`` once per distinct value (patterns with back-references, which .str.contains warns on)."""
    compiled = re.compile(pattern)
    uniques = series.unique()
    return series.map(dict(zip(uniques, (compiled.search(u) is not None for u in uniques))))


_PLACEHOLDER_TOKENS = r"\b(?:test\w*|onbekend|unknown|dummy|nvt|klant|relatie|debiteur|crediteur|anoniem)\b"


@register_rule("NAME_PLACEHOLDER", "a placeholder instead of a name ('onbekend', 'test', 'n.v.t.', 'x', 'klant 42')")
def placeholder(view, ctx):
    words = _word_list("placeholders.txt")
    exact = (view["full_key"].isin(words) | view["first_name_key"].isin(words)
             | view["last_name_key"].isin(words) | view["everything_key"].isin(words))
    # the key of the record is the parts' keys joined by spaces, and a placeholder word never spans a space
    return exact | _any_part(view, _TEXT_PARTS, _PLACEHOLDER_TOKENS, prepare=norm)


@register_rule("NAME_FICTIONAL", "a famous fictional name ('Donald Duck', 'Sinterklaas')")
def fictional(view, ctx):
    names = _word_list("fictional.txt")
    return view["full_key"].isin(names) | view["everything_key"].isin(names) | view["last_name_key"].isin(
        {n for n in names if " " not in n}) & (view["first_name_key"] == "")


_AMBIGUOUS_FORMS = re.compile(r"^(?:ba|wa|ua|ver|coop|stg)$", re.IGNORECASE)
_TRADE = re.compile(r"\b(?:" + "|".join(TRADE_WORDS) + r")\b|\w{3,}(?:techniek|bedrijf|handel|service|bouw)\b",
                    re.IGNORECASE)


def _has_legal_form(text: str) -> bool:
    """A legal form, not counting bare "Ba"/"Wa" (surnames) or "Ver" ("Ver Huell") without their dots."""
    if not legal_form(text):
        return False
    return legal_form(" ".join(t for t in text.split() if not _AMBIGUOUS_FORMS.match(t))) is not None


@lru_cache(maxsize=1)
def _legal_form_prefilter() -> str:
    """An RE2 pattern (Arrow's kernels) that finds every text the legal-form regex finds, and a few more.

    Looser than :func:`_legal_form_pattern` on purpose: ASCII word boundaries instead of Unicode ones, up to
    two separators of any kind between the letters instead of '.' and a space, no check after the form. Only
    the texts it finds go to the exact check, which runs once per distinct text.
    """
    _, canonical = _legal_form_pattern()
    spellings = sorted(canonical, key=len, reverse=True)
    alternatives = "|".join("[^A-Za-z0-9]{0,2}".join(re.escape(ch) for ch in spelling) for spelling in spellings)
    return rf"(?i)(?:^|[^A-Za-z0-9_.])(?:{alternatives})"


@register_rule("NAME_IS_COMPANY", "a company in a person field (legal form or trade word); moved to company_name")
def is_company(view, ctx):
    text = view["everything"]
    maybe = arrow_text(text).str.contains(_legal_form_prefilter(), regex=True).fillna(False).to_numpy(bool)
    flags = np.zeros(len(view), bool)
    if maybe.any():
        flags[maybe] = _per_unique(text[maybe], _has_legal_form).to_numpy(bool)
    legal = pd.Series(flags, index=view.index)
    known_first = view["first_name_key"].isin(ctx.knowledge.first.keys())
    # a trade word never spans a space, so searching each distinct part finds what searching the record would
    trade = _any_part(view, _TEXT_PARTS, _TRADE.pattern, re.IGNORECASE) & ~known_first & (view["initials"] == "")
    trade &= ~view["surname_key"].isin(ctx.knowledge.surnames) | (view["first_name"] != "")
    return legal | trade


@register_rule("NAME_HAS_EMAIL", "an e-mail address in a name field")
def has_email(view, ctx):
    return _any_part(view, _TEXT_PARTS, r"@|\bwww\.|\.(?:nl|com|be|org)\b", re.IGNORECASE)


@register_rule("NAME_HAS_PHONE", "a phone number in a name field")
def has_phone(view, ctx):
    return _any_part(view, _TEXT_PARTS, r"(?:\d[\s\-().]*){6,}")


_STREET = r"\w*(?:straat|laan|weg|plein|gracht|kade|singel|steeg|dreef|hof|park|markt|dijk|pad|erf|street|road)"


@register_rule("NAME_HAS_STREET", "an address (street and number, or a postcode) in a name field")
def has_street(view, ctx):
    # only records with a digit can hold a house number or a postcode
    digits = _any_part(view, _TEXT_PARTS, r"\d").to_numpy()
    found = np.zeros(len(view), bool)
    if digits.any():
        text = view.loc[digits, "everything"]
        found[digits] = (text.str.contains(rf"\b{_STREET}\s+\d", regex=True, case=False)
                         | text.str.contains(r"\b[1-9]\d{3}\s?[A-Za-z]{2}\b", regex=True)).to_numpy(bool)
    return pd.Series(found, index=view.index)


_TITLE_WORDS = {norm(t) for t in [*titles()["salutations"], *titles()["prefix_titles"]]} | {"mr", "mevr", "dhr", "fam"}


@register_rule("NAME_TITLE_ONLY", "a title or salutation without a name ('Dhr.', 'Mevrouw', 'Dr.')")
def title_only(view, ctx):
    no_name = (view["first_name"] == "") & (view["last_name"] == "")
    has_title = (view["title"] != "") | (view["gender"] != "")
    # the key's words are the first name's and the surname's: each checked once per distinct value
    titles_only = lambda k: all(t in _TITLE_WORDS for t in k.split())  # noqa: E731
    tokens = ((view["full_key"] != "") & _per_unique(view["first_name_key"], titles_only)
              & _per_unique(view["surname_key"], titles_only))
    only_title_text = view["full_key"].isin(_TITLE_WORDS) | tokens
    return (no_name & has_title & (view["initials"] == "")) | only_title_text


@register_rule("NAME_SWAPPED", "first and last name swapped ('Jansen' as first name, 'Pieter' as last name)")
def swapped(view, ctx):
    first, sur = ctx.knowledge.first, ctx.knowledge.surnames
    f, s = view["first_name_key"], view["last_name_key"]
    # the last name may be a surname too (the Meertens list holds "Kees" and "Anna"): a first-name field
    # holding a surname that is no first name, next to a known first name, is what a swap looks like
    return f.isin(sur) & ~f.isin(first.keys()) & s.isin(first.keys()) & (view["infix"] == "")


def _initial_letters(initials: str) -> set[str]:
    return {norm(chunk)[:1] for chunk in re.split(r"[.\s]+", initials) if chunk}


@register_rule("NAME_INITIALS_MISMATCH", "the first name's initial is not among the initials")
def initials_mismatch(view, ctx):
    has_both = (view["initials"] != "") & (view["first_name_key"] != "")
    pairs = view.loc[has_both, ["initials", "first_name_key"]]
    result = pd.Series(False, index=view.index)
    if len(pairs):
        keys = pairs["initials"] + "\x1f" + pairs["first_name_key"]
        uniques = keys.unique()
        verdict = {}
        for key in uniques:
            initials, first = key.split("\x1f")
            letters = _initial_letters(initials)
            verdict[key] = bool(letters) and first[:1] not in letters and not (
                first.startswith("ij") and "i" in letters)
        result.loc[has_both] = keys.map(verdict).astype(bool)
    return result


_GENDER_WORDS = {"m": "M", "man": "M", "male": "M", "dhr": "M", "de heer": "M", "heer": "M", "mr": "M",
                 "v": "F", "f": "F", "vrouw": "F", "female": "F", "mevr": "F", "mevrouw": "F", "mw": "F",
                 "mej": "F", "mrs": "F", "ms": "F"}


def declared_gender(view: pd.DataFrame) -> pd.Series:
    """M/F from the gender column, else from a salutation in the title; "" when unknown."""
    from_gender = _per_unique(view["gender"], lambda g: _GENDER_WORDS.get(norm(g), ""))
    from_title = _per_unique(view["title"], lambda t: next(
        (_GENDER_WORDS[w] for w in norm(t).split() if w in _GENDER_WORDS and w != "mr"), ""))
    return from_gender.where(from_gender != "", from_title)


def _per_unique(series: pd.Series, func) -> pd.Series:
    """``func`` applied once per distinct value."""
    uniques = series.unique()
    return series.map(dict(zip(uniques, (func(u) for u in uniques))))


@register_rule("NAME_GENDER_MISMATCH", "the first name's gender contradicts the salutation or gender column")
def gender_mismatch(view, ctx):
    declared = declared_gender(view)
    first = ctx.knowledge.first
    name_gender = _per_unique(view["first_name_key"], lambda k: first.get(k.split(" ")[0], "") if k else "")
    return (declared != "") & name_gender.isin(["M", "F"]) & (declared != name_gender)


_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn", "1234567890"]
#: Keyboard 4-runs that real surnames contain ("Arwert", "Rezai", "Alberty", "Buizert", "Trewin").
_RUN_IN_NAMES = {"wert", "reza", "azer", "erty", "zert", "trez", "trew", "ytre", "uytr"}
_KEYBOARD = "|".join(sorted({r[i:i + 4] for row in _ROWS for r in (row, row[::-1])
                             for i in range(len(r) - 3)} - _RUN_IN_NAMES))


@register_rule("NAME_KEYBOARD_RUN", "four or more neighbouring keyboard keys ('asdf', 'qwerty')")
def keyboard_run(view, ctx):
    # a run across the two names ("qw" + "erty"): literal ASCII alternatives, so Arrow's RE2 finds what re finds
    both = view["first_name_key"] != ""
    across = np.zeros(len(view), bool)
    across[both.to_numpy()] = arrow_text(view.loc[both, "first_name_key"] + view.loc[both, "last_name_key"]).str.contains(
        _KEYBOARD, regex=True).fillna(False).to_numpy(bool)
    return _any_part(view, ["first_name_key", "last_name_key"], _KEYBOARD) | pd.Series(across, index=view.index)


@register_rule("NAME_UNLIKELY_CHARS", "characters that do not occur in names (#, *, _, !, /, ...)")
def unlikely_chars(view, ctx):
    return _any_part(view, _NAME_PARTS, r"[^\w\s'’`´.\-]|_")


@register_rule("NAME_NO_VOWELS", "a word of four or more letters without a vowel ('Pfrtzl', 'Xzcvk')")
def no_vowels(view, ctx):
    return _any_part(view, ["first_name_key", "last_name_key"], r"\b[bcdfghjklmnpqrstvwxz]{4,}\b")


@register_rule("NAME_PUNCTUATION_ONLY", "a name part without a single letter ('...', \"'-\", '?')")
def punctuation_only(view, ctx):
    return _any_part(view, _NAME_PARTS, r"^[^\w]+$|^_+$")


def _repeated_tokens(first: str, last: str) -> bool:
    """A word three or more times in the name ("Piet Piet Piet Piet"); twice is a real name often enough
    ("Jay-Jay", the surname "Chang Chang", "Thomas Thomas")."""
    words = [w for w in (first + " " + last).split() if len(w) > 1]
    return any(words.count(w) >= 3 for w in set(words))


@register_rule("NAME_REPEATED_TOKENS", "the same word three or more times ('Piet Piet Piet Piet')")
def repeated_tokens(view, ctx):
    words = view["first_name_key"].str.count(r"\S+") + view["last_name_key"].str.count(r"\S+")
    maybe = (words >= 3).to_numpy(bool)  # most names have two words: only the rest is looked at
    found = np.zeros(len(view), bool)
    if maybe.any():
        keys = view.loc[maybe, "first_name_key"] + "\x1f" + view.loc[maybe, "last_name_key"]
        found[maybe] = _per_unique(keys, lambda k: _repeated_tokens(*k.split("\x1f"))).to_numpy(bool)
    return pd.Series(found, index=view.index)


@register_rule("NAME_MISSING", "a person record without any name")
def missing(view, ctx):
    return (view["full"] == "") & (view["initials"] == "") & (view["title"] == "") & (view["gender"] == "")


def run_rules(view: pd.DataFrame, ctx: RuleContext, codes: list[str] | None = None) -> pd.DataFrame:
    """Run the rules named in ``codes`` (default: all) on a view; one bool column per reason code."""
    codes = list(RULES) if codes is None else codes
    return pd.DataFrame({code: RULES[code].func(view, ctx).fillna(False).astype(bool) for code in codes},
                        index=view.index)
