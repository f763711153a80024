"""Recognise input column headers as canonical staging columns, each with a confidence and a reason.

The synonym table lives in ``rules/headers.yaml``; headers are compared after :func:`header_key` (case,
accents, spacing and punctuation ignored). A header that is not a synonym word for word is cut into words
(:func:`header_tokens`) and recognised by the longest run of words that is a synonym; the other words must
be known qualifiers (``rules/header_vocabulary.yaml``: ``Telefon geschäftlich``, ``BezoekPostcode``,
``contact_first_name``, ``Postleitzahl des Mitarbeiters``). A word that changes the meaning (``Fax``,
``IBAN``, ``Type``) stops a word-run match. Values are checked too: a column recognised by its words whose
values contradict the target (an "e-mail" column without an ``@``) is not mapped, and an unrecognised column
whose values are all e-mail addresses is mapped by content.

An explicit mapping file overrides everything:

.. code-block:: yaml

    # mapping.yaml
    source: erp              # optional: the system name recorded as `source`
    columns:
      Klantnr: source_key    # input header -> canonical column (or a combined pseudo-target)
      Opmerking: null        # do not map this column (it is still kept as src:Opmerking)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from cdq.columns import COMBINED, MAPPABLE
from cdq.config import load_model, read_yaml
from cdq.errors import ConfigError, InputError
from cdq.resources import resource

TARGETS = set(MAPPABLE) | set(COMBINED)
#: A mapping target; pydantic reports an unknown one at its own key (file:line: columns.<header>).
if TYPE_CHECKING:  # a checker sees a column name; pydantic validates against the literal list at run time
    Target = str
else:
    Target = Literal[tuple(sorted(TARGETS))]

#: Address targets: one column per address block (home, business, ...) may map to each.
ADDRESS_TARGETS = frozenset({
    "street_and_number", "street", "house_number", "house_number_full", "house_letter",
    "house_number_addition", "postcode", "city", "country", "address_line",
})
#: Contact targets: every column recognised as one is kept; the first filled one per row wins.
CONTACT_TARGETS = frozenset({"email", "phone", "mobile", "other_emails", "other_phones"})
#: Targets that name something (a value can be anything): they lose a tie against a value-type target.
_ENTITY_TARGETS = frozenset({"company_name", "full_name", "name_or_company", "source_key", "adviser",
                             "party_type", "source_updated_at"})
_DATE_TARGETS = frozenset({"birth_date", "source_updated_at"})
#: Targets whose header words are ambiguous across exports: a column whose values disagree is not mapped
#: even when its header is a synonym (Salesforce "Title" holds job titles, Thunderbird "Birth Day" a day).
_STRICT_CONTENT = frozenset({"title", "birth_date"})
#: A column that is only "number" right of a street column is its house number (Teamleader: Straat, Nummer).
_NUMBER_WORDS = frozenset({"nummer", "number", "nr", "no", "numero", "huisnr", "hnr"})
#: Words that add nothing after an e-mail or phone word ("E-Mail 2: Adresse", "Telefon Nummer").
_GENERIC_WORDS = frozenset({"address", "adresse", "adres", "number", "nummer", "numero", "nr", "no"})
_MAX_TOKENS = 12
CONFIDENCE_EXACT = 1.0
CONFIDENCE_WORDS = 0.9
CONFIDENCE_LOOSE = 0.6
CONFIDENCE_CONTENT = 0.7


def numbered_duplicates(headers: list[str], numbered: str = "{name} ({n})") -> list[str]:
    """Headers made unique: the second of a name becomes ``numbered`` with ``n`` = 2, the third 3, and so on.

    Examples:
        >>> numbered_duplicates(["Naam", "Naam", "Plaats"])
        ['Naam', 'Naam (2)', 'Plaats']
        >>> numbered_duplicates(["id", "id", "id"], "{name}_{n}")
        ['id', 'id_2', 'id_3']
    """
    seen: dict[str, int] = {}
    out = []
    for name in headers:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else numbered.format(name=name, n=seen[name]))
    return out


def header_key(header: object) -> str:
    """Comparable form of a header: lower case, no accents, only letters and digits.

    Examples:
        >>> header_key("E-mail adres")
        'emailadres'
        >>> header_key("  KvK-Nummer ")
        'kvknummer'
        >>> header_key("Cliëntnummer"), header_key("Straße")
        ('clientnummer', 'strasse')
    """
    text = unicodedata.normalize("NFKD", str(header).replace("ß", "ss")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def header_tokens(header: object) -> list[str]:
    """The words of a header: camelCase, digits, punctuation and ``E-mail`` handled.

    Examples:
        >>> header_tokens("BezoekPostcode"), header_tokens("contact_first_name")
        (['bezoek', 'postcode'], ['contact', 'first', 'name'])
        >>> header_tokens("E-Mail 2: Adresse"), header_tokens("Telefon geschäftlich")
        (['email', '2', 'adresse'], ['telefon', 'geschaftlich'])
    """
    text = str(header).replace("ß", "ss")
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Za-z])(\d)|(\d)([A-Za-z])", lambda m: " ".join(g for g in m.groups() if g), text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\be[\s\-_.]*mail", "email", text)
    return re.findall(r"[a-z0-9]+", text)[:_MAX_TOKENS]


class MappingFile(BaseModel):
    """An explicit column mapping (authoring form)."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    columns: dict[str, Target | None] = {}


def load_mapping(path: str | Path) -> MappingFile:
    """Read and validate a mapping YAML file."""
    return load_model(path, MappingFile)


class Vocabulary(BaseModel):
    """``rules/header_vocabulary.yaml``: the words around a synonym in a header."""

    model_config = ConfigDict(extra="forbid")
    groups: dict[str, list[str]]
    entities: list[str]
    stopwords: list[str]
    secondary: list[str]
    veto: list[str]


@lru_cache(maxsize=4)
def synonym_table(path: str | None = None) -> dict[str, list[str]]:
    """Canonical target -> header keys, in priority order, from ``rules/headers.yaml``."""
    file = Path(path) if path else resource("rules", "headers.yaml")
    data, _ = read_yaml(file)
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping of canonical column -> list of headers")
    unknown = sorted(set(data) - TARGETS)
    if unknown:
        raise ConfigError(f"{file}: unknown canonical column(s) {', '.join(unknown)}")
    return {target: [header_key(h) for h in headers] for target, headers in data.items()}


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The header vocabulary (validated; errors name file, line and key)."""
    return load_model(resource("rules", "header_vocabulary.yaml"), Vocabulary)


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, tuple[str, int]]:
    """Header key -> (target, priority rank within its target)."""
    out: dict[str, tuple[str, int]] = {}
    for target, keys in synonym_table().items():
        for rank, key in enumerate(keys):
            out.setdefault(key, (target, rank))
    return out


@lru_cache(maxsize=1)
def _word_sets() -> tuple[dict[str, str], frozenset[str], frozenset[str], frozenset[str]]:
    v = vocabulary()
    groups = {header_key(w): g for g, words in v.groups.items() for w in words}
    ignorable = frozenset(header_key(w) for w in v.entities + v.stopwords)
    return groups, ignorable, frozenset(header_key(w) for w in v.secondary), frozenset(
        header_key(w) for w in v.veto)


@dataclass(frozen=True)
class ColumnMatch:
    """Where one input column goes: a target (``None``: kept only as ``src:``), how sure, and why."""

    header: str
    target: str | None
    confidence: float
    how: str
    group: str = ""
    secondary: bool = False
    rank: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"column": self.header, "target": self.target, "confidence": round(self.confidence, 2),
                "how": self.how, "group": self.group or None}


def _group_of(tokens: list[str]) -> str:
    """The address/phone block a header's words name (``''`` when none).

    A word may carry the block as a prefix of an address or contact word: ``bezoekpostcode``,
    ``factuurhuisnummer`` (but ``postcode`` itself is no "post" block).
    """
    groups = _word_sets()[0]
    for token in tokens:
        if token in groups:
            return groups[token]
    synonyms = _synonyms()
    for token in tokens:
        for word, group in groups.items():
            if len(word) >= 4 and token.startswith(word) and token != word:
                rest = token[len(word):]
                if any(rest.startswith(k) and synonyms[k][0] in ADDRESS_TARGETS | CONTACT_TARGETS
                       for k in _prefix_keys() if len(k) >= 3):
                    return group
    return ""


@lru_cache(maxsize=1)
def _prefix_keys() -> tuple[str, ...]:
    return tuple(k for k, (t, _) in _synonyms().items() if t in ADDRESS_TARGETS | CONTACT_TARGETS)


def _is_secondary(tokens: list[str]) -> bool:
    secondary = _word_sets()[2]
    return any(t in secondary or (t.isdigit() and 2 <= int(t) <= 9) for t in tokens)


def match_header(header: str) -> ColumnMatch:
    """The best target for one header by its words alone (no values seen).

    Examples:
        >>> m = match_header("Telefon geschäftlich")
        >>> m.target, m.group, m.confidence
        ('phone', 'business', 0.9)
        >>> match_header("Postleitzahl des Mitarbeiters").target
        'postcode'
        >>> match_header("Fax Number").target is None
        True
    """
    key = header_key(header)
    tokens = header_tokens(header)
    synonyms = _synonyms()
    if _foreign_letters(str(header)):
        # 'ID 番号', '電話 2': the letters the comparison would drop carry the meaning
        return ColumnMatch(header, None, 0.0, "not recognised (a script the synonym table does not cover)")
    if key in synonyms:
        target, rank = synonyms[key]
        return ColumnMatch(header, target, CONFIDENCE_EXACT, "synonym", _group_of(tokens),
                           _is_secondary(tokens), rank)
    best = _best_span(tokens)
    if best is None:
        return ColumnMatch(header, None, 0.0, "not recognised")
    return ColumnMatch(header, best.target, best.confidence, best.how, best.group, best.secondary, best.rank)


def _foreign_letters(header: str) -> bool:
    """Letters that have no Latin base letter (CJK, Cyrillic, Greek...): dropped by :func:`header_key`."""
    for ch in header:
        if ch.isalpha() and ord(ch) > 0x24F and not unicodedata.normalize("NFKD", ch).isascii():
            return True
    return False


def _spans(tokens: list[str]) -> list[tuple[int, int, str, int]]:
    """Every run of words that is a synonym: ``(start, end, target, rank)``."""
    synonyms = _synonyms()
    found = []
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            key = "".join(tokens[i:j])
            if key in synonyms:
                target, rank = synonyms[key]
                found.append((i, j, target, rank))
    return found


def _best_span(tokens: list[str]) -> ColumnMatch | None:
    groups, ignorable, secondary, veto = _word_sets()
    spans = _spans(tokens)
    if not spans:
        return None
    firsts = [(a, b) for a, b, t, _ in spans if t == "first_name"]
    lasts = [(a, b) for a, b, t, _ in spans if t in ("last_name", "full_name")]
    if any(b1 <= a2 or b2 <= a1 for a1, b1 in firsts for a2, b2 in lasts) and not set(tokens) & veto:
        # "Name, Vorname" / "Achternaam, voornaam": one column holding the whole name
        return ColumnMatch("", "full_name", CONFIDENCE_WORDS, "words: a first and a last name in one column")
    group_words = groups
    spans.sort(key=lambda s: (all(t in group_words for t in tokens[s[0]:s[1]]), -(s[1] - s[0]),
                              s[2] in _ENTITY_TARGETS, s[0]))
    start, end, target, rank = spans[0]
    rest = tokens[:start] + tokens[end:]
    vetoed = [t for t in rest if t in veto and not (t in ("date", "datum") and target in _DATE_TARGETS)]
    if vetoed:
        return ColumnMatch("", None, 0.0, f"not mapped: '{vetoed[0]}' changes the meaning of "
                           f"'{' '.join(tokens[start:end])}'")
    unknown = [t for t in rest if t not in ignorable and t not in groups and t not in secondary
               and not t.isdigit() and not _group_of([t])
               and not (target in CONTACT_TARGETS and t in _GENERIC_WORDS)]
    words = " ".join(tokens[start:end])
    if len(unknown) > 1 or (unknown and target in _ENTITY_TARGETS):
        return ColumnMatch("", None, 0.0, f"not mapped: '{words}' with unknown words {' '.join(unknown)}")
    confidence = CONFIDENCE_LOOSE if unknown else CONFIDENCE_WORDS
    how = f"words '{words}'" + (f" (unknown word '{unknown[0]}')" if unknown else "")
    return ColumnMatch("", target, confidence, how, _group_of(rest), _is_secondary(rest), rank)


# --- values -----------------------------------------------------------------------------------------

_EMAIL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_TITLE_WORDS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "ir", "ing", "drs", "dhr", "mevr", "mevrouw", "heer", "de",
    "the", "herr", "frau", "mme", "mlle", "m", "sir", "dame", "rev", "mw", "hr", "fr", "dipl", "bc", "ma",
    "msc", "bsc", "phd", "mej", "fam", "familie", "madame", "monsieur", "lady", "lord", "en", "und", "and",
    "et", "jhr", "jkvr", "prof.dr", "ds", "pastoor", "mag", "doctor", "professor", "mister",
})


def _share(values: list[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 1.0


def content_agrees(target: str, values: list[str]) -> bool:
    """Whether a column's values can be what its target holds (non-empty sample values).

    Examples:
        >>> content_agrees("email", ["jan@x.nl", "piet@y.nl"]), content_agrees("email", ["Jan", "Piet"])
        (True, False)
        >>> content_agrees("title", ["Sales Manager", "CEO", "Engineer"]), content_agrees("title", ["Dhr.", "Mw."])
        (False, True)
    """
    if not values:
        return True
    if target in ("email", "other_emails"):
        return _share(values, lambda v: "@" in v) >= 0.5
    if target in ("phone", "mobile", "other_phones"):
        return _share(values, lambda v: sum(c.isdigit() for c in v) >= 6) >= 0.5
    if target == "birth_date":
        return _share(values, lambda v: sum(c.isdigit() for c in v) >= 4 or bool(re.search(r"[A-Za-z]{3}", v))) >= 0.6
    if target in ("postcode", "house_number", "house_number_full", "kvk_number"):
        return _share(values, lambda v: any(c.isdigit() for c in v)) >= 0.6
    if target in ("first_name", "last_name", "infix", "initials", "city", "street", "full_name", "country"):
        return _share(values, lambda v: "@" not in v and not v.replace(" ", "").isdigit()) >= 0.6
    if target == "title":
        return _share(values, _looks_like_title) >= 0.6
    return True


def _looks_like_title(value: str) -> bool:
    words = [w for w in re.split(r"[\s.,/&+]+", value.lower()) if w]
    return bool(words) and all(w in _TITLE_WORDS for w in words)


def _content_target(values: list[str]) -> str | None:
    """A target read from values alone: e-mail addresses (the one value type that is unmistakable)."""
    if len(values) >= 1 and _share(values, lambda v: bool(_EMAIL_VALUE.fullmatch(v.strip()))) >= 0.8:
        return "email"
    return None


def _sample(frame: pd.DataFrame | None, header: str, limit: int = 500) -> list[str]:
    if frame is None or header not in frame.columns:
        return []
    column = frame[header]
    if isinstance(column, pd.DataFrame):
        column = column.iloc[:, 0]
    values = column.dropna().head(limit * 4)
    return [str(v).strip() for v in values if str(v).strip()][:limit]


# --- the whole table ----------------------------------------------------------------------------------

def recognise(headers: list[str], *, mapping: MappingFile | None = None, premapped: dict[str, str] | None = None,
              layout: str | None = None, frame: pd.DataFrame | None = None) -> list[ColumnMatch]:
    """One :class:`ColumnMatch` per header, in the input's column order.

    Order of authority: the mapping file, then the adapter's own layout (``premapped``), then synonyms and
    word runs (checked against the values in ``frame``), then values alone. Each target takes one column,
    except address targets (one per address block) and contact targets (every column is kept; the first
    filled one per row is the main value, see :mod:`cdq.staging`).

    Raises:
        InputError: the mapping file names a column the file does not have (the message lists the columns).
    """
    explicit = dict(mapping.columns) if mapping else {}
    missing = [h for h in explicit if h not in headers]
    if missing:
        raise InputError("mapping file", f"it names column(s) {', '.join(map(repr, missing))} that the input does "
                         f"not have; the input's columns are: {', '.join(map(repr, headers))}",
                         hint="correct the header names in the mapping file")
    candidates: list[tuple[tuple, ColumnMatch]] = []
    for position, header in enumerate(headers):
        if header in explicit:
            target = explicit[header]
            match = ColumnMatch(header, target, CONFIDENCE_EXACT if target else 0.0,
                                "mapping file" if target else "mapping file: not mapped",
                                _group_of(header_tokens(header)), _is_secondary(header_tokens(header)))
            candidates.append(((0, 0, position), match))
            continue
        if premapped and header in premapped:
            tokens = header_tokens(header)
            match = ColumnMatch(header, premapped[header], CONFIDENCE_EXACT, f"layout {layout or 'of the file'}",
                                _group_of(tokens), _is_secondary(tokens), position)
            candidates.append(((1, 0, position), match))
            continue
        match = _checked(match_header(header), _sample(frame, header) if frame is not None else None)
        order = (2, -match.confidence, match.rank, position)
        candidates.append((order, match))
    chosen = _assign(candidates)
    chosen = _number_after_street(headers, chosen)
    chosen = _second_name_is_company(headers, chosen)
    if frame is not None:
        chosen = _by_content(headers, chosen, frame)
    return [chosen[h] for h in headers]


def _checked(match: ColumnMatch, values: list[str] | None) -> ColumnMatch:
    """Reject a word match whose values contradict it; an exact synonym is only marked as doubtful."""
    if match.target is None or values is None or content_agrees(match.target, values):
        return match
    if match.confidence >= CONFIDENCE_EXACT and match.target not in _STRICT_CONTENT:
        return ColumnMatch(match.header, match.target, 0.5, match.how + "; values look different",
                           match.group, match.secondary, match.rank)
    return ColumnMatch(match.header, None, 0.0, f"not mapped: {match.how} -> {match.target}, but the values "
                       "do not look like that", match.group)


def _assign(candidates: list[tuple[tuple, ColumnMatch]]) -> dict[str, ColumnMatch]:
    """Give each target its columns: once, once per address block, or (contacts) to all in order."""
    chosen: dict[str, ColumnMatch] = {}
    taken: dict[tuple[str, str], str] = {}
    for _, match in sorted(candidates, key=lambda c: c[0]):
        target = _effective_target(match)
        if target is None:
            chosen[match.header] = ColumnMatch(match.header, None, match.confidence, match.how, match.group)
            continue
        if target in ADDRESS_TARGETS:
            slot = (target, match.group)
        elif target in CONTACT_TARGETS:
            slot = (target, f"#{match.header}")
        else:
            slot = (target, "")
        if slot in taken:
            chosen[match.header] = ColumnMatch(match.header, None, 0.0,
                                               f"not mapped: {target} is taken by {taken[slot]!r}", match.group)
            continue
        taken[slot] = match.header
        chosen[match.header] = match if target == match.target else ColumnMatch(
            match.header, target, match.confidence, match.how + " (a second value)", match.group, True, match.rank)
    return chosen


def _effective_target(match: ColumnMatch) -> str | None:
    """A second e-mail/phone column goes to other_emails/other_phones; a second name or address is not mapped."""
    target = match.target
    if target is None or not match.secondary or match.how.startswith(("mapping file", "layout")):
        return target
    if target == "email":
        return "other_emails"
    if target in ("phone", "mobile"):
        return "other_phones"
    if target in ("other_emails", "other_phones"):
        return target
    return None


def _number_after_street(headers: list[str], chosen: dict[str, ColumnMatch]) -> dict[str, ColumnMatch]:
    """``Straat | Nummer | Bus``: a bare "number" column right of a street column is the house number."""
    for left, header in zip(headers, headers[1:], strict=False):
        match = chosen[header]
        if header_key(header) in _NUMBER_WORDS and chosen[left].target == "street" and (
                match.target in (None, "source_key") and match.how != "mapping file"):
            chosen[header] = ColumnMatch(header, "house_number", 0.8, f"'{header}' right of the street column",
                                         chosen[left].group)
    return chosen


def _second_name_is_company(headers: list[str], chosen: dict[str, ColumnMatch]) -> dict[str, ColumnMatch]:
    """ERP layouts name the relation "Naam" beside a "Contactpersoon": with the person in one name column,
    the other name column is the organisation's name (when no column is the company name)."""
    if any(m.target == "company_name" for m in chosen.values()):
        return chosen
    for header in headers:
        match = chosen[header]
        if match.target is None and match.how == "not mapped: full_name is taken by " + repr(_taker(chosen)):
            chosen[header] = ColumnMatch(header, "company_name", CONFIDENCE_LOOSE,
                                         "a second name column beside the contact person's: the organisation")
            break
    return chosen


def _taker(chosen: dict[str, ColumnMatch]) -> str:
    return next((m.header for m in chosen.values() if m.target == "full_name"), "")


def _by_content(headers: list[str], chosen: dict[str, ColumnMatch], frame: pd.DataFrame) -> dict[str, ColumnMatch]:
    """Columns nothing recognised, whose values are e-mail addresses, map by content."""
    has_email = any(m.target == "email" for m in chosen.values())
    for header in headers:
        match = chosen[header]
        if match.target is not None or match.how.startswith("mapping file"):
            continue
        target = _content_target(_sample(frame, header))
        if target is None:
            continue
        if target == "email" and has_email:
            target = "other_emails"
        chosen[header] = ColumnMatch(header, target, CONFIDENCE_CONTENT, "values: e-mail addresses")
        has_email = True
    return chosen


def map_headers(headers: list[str], mapping: MappingFile | None = None) -> dict[str, str]:
    """``{input header: target}`` for the headers recognised by their names alone (main values only).

    Examples:
        >>> map_headers(["Klantnummer", "Voornaam", "Achternaam", "Woonplaats", "Opmerking"])
        {'Klantnummer': 'source_key', 'Voornaam': 'first_name', 'Achternaam': 'last_name', 'Woonplaats': 'city'}
    """
    if mapping is not None:
        mapping = MappingFile(source=mapping.source,
                              columns={h: t for h, t in mapping.columns.items() if h in headers})
    matches = recognise(headers, mapping=mapping)
    primary: dict[str, str] = {}
    used: set[str] = set()
    for m in matches:
        if m.target is None or m.target in used or m.secondary:
            continue
        used.add(m.target)
        primary[m.header] = m.target
    return primary
