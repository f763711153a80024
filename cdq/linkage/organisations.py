"""Organisation names for matching: legal forms, "Koninklijke", punctuation, initials and word order removed.

One source for legal forms: ``reference_data/legal_forms.yaml`` (the normalize stage reads the same file).
A name becomes its significant words in their written order (:func:`company_words`); the comparison key is
those words sorted (word order is not identity: "Bosch GmbH Robert" is "Robert Bosch GmbH"), the compact key
the words written together ("ST Microelectronics" is "STMicroelectronics").

Examples:
    >>> company_words("KONINKLIJKE PHILIPS ELECTRONICS, N.V.")
    ('philips', 'electronics')
    >>> company_words("* N.V. PHILIPS' GLOEILAMPENFABRIEKEN")
    ('philips', 'gloeilampenfabrieken')
    >>> company_words("D.S.M. IP ASSETS B.V."), company_words("GIST BROCADES NV, DELFT")
    (('dsm', 'ip', 'assets'), ('gist', 'brocades'))
    >>> company_key("Bosch GmbH Robert") == company_key("Robert Bosch GmbH")
    True
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from cdq.linkage.text import ascii_lower
from cdq.resources import reference_yaml

#: Words that say what kind of thing a name is, not which one: dropped from the key (legal forms come from
#: reference_data/legal_forms.yaml).
GENERIC_WORDS = frozenset({"the", "and", "en", "und", "et", "co", "cie", "company", "compagnie", "holding",
                           "holdings", "koninklijke", "royal", "firma", "fa"})
#: A token this close to "koninklijke" (Jaro-Winkler) is a misspelling of it ("koniklijke", "kinonklijke").
_ROYAL_SIMILARITY = 0.85


@lru_cache(maxsize=1)
def legal_form_words() -> tuple[frozenset[str], tuple[tuple[str, ...], ...]]:
    """Legal-form spellings from ``reference_data/legal_forms.yaml``: single words (dots and spaces squashed:
    "b.v." -> "bv") and multi-word phrases ("besloten vennootschap"), longest phrase first."""
    data = reference_yaml("reference_data", "legal_forms.yaml")
    words: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for form, spellings in data.items():
        for spelling in [form, *spellings]:
            text = ascii_lower(str(spelling)) or ""
            parts = re.sub(r"[^a-z0-9 ]", "", text.replace(".", "")).split()
            if len(parts) == 1 or (parts and " " in text and all(len(p) == 1 for p in parts)):
                words.add("".join(parts))
            elif parts:
                phrases.add(tuple(parts))
    return frozenset(words), tuple(sorted(phrases, key=len, reverse=True))


def _tokens(value: object) -> list[str]:
    """Lower-case ASCII words and commas; remarks in brackets dropped, apostrophes removed ("philips'")."""
    text = ascii_lower(value) or ""
    text = re.sub(r"\([^)]*\)?|\[.*$|\{[^}]*\}?", " ", text)
    text = re.sub(r"['`\u2019]", "", text)
    text = re.sub(r"&", " and ", text)
    text = re.sub(r",", " , ", text)
    return re.sub(r"[^a-z0-9,]+", " ", text).split()


def _join_letters(tokens: list[str]) -> list[str]:
    """Runs of two or more single letters are one word: "d s m" -> "dsm", "n v" -> "nv", "u s" -> "us"."""
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            out.extend(["".join(run)] if len(run) > 1 else run)
            run = []
        if token:
            out.append(token)
    return out


def _royal(token: str) -> bool:
    return token in ("kon", "konink", "koninkl") or (
        len(token) >= 8 and token[:1] == "k" and JaroWinkler.similarity(token, "koninklijke") >= _ROYAL_SIMILARITY)


def company_words(value: object) -> tuple[str, ...]:
    """The significant words of an organisation name, in written order (empty when nothing is left).

    Legal forms anywhere, generic words ("the", "company", "holding", "Koninklijke" and its misspellings) and
    commas are dropped; what follows a legal form that ends the name ("Alcatel N.V., Amsterdam, NL",
    "Philips Electronics N.V. te Eindhoven") or a " te " is the seat, not the name, and is dropped too.

    Examples:
        >>> company_words("Koninklijke, Philips Electronics N.V. Groenewoudseweg 1")
        ('philips', 'electronics')
        >>> company_words("N.V. NUTRICIA"), company_words("Stichting Het Gebouw")
        (('nutricia',), ('het', 'gebouw'))
        >>> company_words("KONIN KLIJKE PHILIPS"), company_words("B.V.")
        (('philips',), ())
    """
    words, phrases = legal_form_words()
    tokens = _join_letters(_tokens(value))
    # "konin klijke": a split misspelling of koninklijke
    merged: list[str] = []
    for token in tokens:
        if merged and _royal(merged[-1] + token) and not _royal(merged[-1]):
            merged[-1] += token
        else:
            merged.append(token)
    tokens = merged
    is_form = [t in words for t in tokens]
    for i in range(len(tokens) - 1):  # "comm v" (Comm.V.), "b va" (B.V.A.)
        if tokens[i] + tokens[i + 1] in words and len(tokens[i + 1]) <= 2:
            is_form[i] = is_form[i + 1] = True
    for phrase in phrases:
        k = len(phrase)
        for i in range(len(tokens) - k + 1):
            if tuple(tokens[i:i + k]) == phrase:
                is_form[i:i + k] = [True] * k
    names = [i for i, t in enumerate(tokens) if not is_form[i] and t != "," and not _royal(t)]
    if names:
        # after a legal form that follows the name, a comma, "te" or a house number starts the seat or
        # address ("Alcatel N.V., Amsterdam"); other words still belong to the name ("Bosch GmbH Robert")
        end = len(tokens)
        for i, form in enumerate(is_form):
            rest = tokens[i + 1:]
            if form and i > names[0] and rest and (rest[0] in (",", "te") or any(t.isdigit() for t in rest)):
                end = i
                break
        seat = [i for i, t in enumerate(tokens) if t == "te" and names[0] < i < end]
        end = seat[0] if seat else end
        names = [i for i in names if i < end]
    kept = [tokens[i] for i in names if tokens[i] not in GENERIC_WORDS]
    return tuple(kept)


def company_key(value: object) -> str | None:
    """The words of :func:`company_words`, sorted and space-joined; None when none is left."""
    words = company_words(value)
    return " ".join(sorted(words)) if words else None


def company_compact(value: object) -> str | None:
    """The words written together in their order: "ST Microelectronics" = "STMicroelectronics"."""
    words = company_words(value)
    return "".join(words) if words else None


@lru_cache(maxsize=1 << 16)
def _word_match(a: str, b: str) -> bool:
    """One word of a name stands for the other: equal, a typo (one edit in 4+ letters, Jaro-Winkler >= 0.9 in
    5+), or an abbreviation (3+ letters that start the other: "tech" / "technologies", "ind" / "industries")."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 3 and long_.startswith(short) and short.isalpha():
        return True
    if len(short) >= 4 and OSA.distance(a, b, score_cutoff=1) <= 1:
        return True
    return len(short) >= 5 and JaroWinkler.similarity(a, b) >= 0.9


def _found(words: list[str], others: list[str]) -> list[bool]:
    """Per word, whether some other word matches it (:func:`_word_match`), exact hits first."""
    exact = set(others)
    return [w in exact or any(_word_match(w, o) for o in others if o[:1] == w[:1] or o[1:2] == w[1:2])
            for w in words]


def company_level(a: str, b: str, very_similar: float = 0.9) -> int:
    """Agreement of two company keys (sorted words), for the levels below ``exact``.

    3 = very similar (the same words, typos and abbreviations aside), 2 = subset (every word of one name is
    in the other: "Akzo Nobel" / "Akzo Nobel Coatings"), 1 = a shared word of 4+ letters, 0 = different.

    Examples:
        >>> company_level("electronics philips", "electronicss phillips")
        3
        >>> company_level("nobel akzo", "akzo coatings nobel"), company_level("ip assets dsm", "dsm")
        (2, 2)
        >>> company_level("gloeilampenfabrieken philips", "electronics philips")
        1
        >>> company_level("bakkerij jansen", "slagerij pietersen")
        0
    """
    if Levenshtein.normalized_similarity(a, b) >= very_similar:
        return 3
    wa, wb = a.split(), b.split()
    # two words can only match when they share their first or second letter (an abbreviation or
    # Jaro-Winkler >= 0.9 keeps the first, one edit keeps one of the two): most pairs end here
    if not ({w[0] for w in wa} & {w[0] for w in wb} or {w[1:2] for w in wa} & {w[1:2] for w in wb}):
        return 0
    in_b, in_a = _found(wa, wb), _found(wb, wa)
    if all(in_b) and all(in_a):
        return 3
    if (all(in_b) and max(map(len, wa)) >= 3) or (all(in_a) and max(map(len, wb)) >= 3):
        return 2
    if any(ok and len(x) >= 4 for ok, x in zip(in_b, wa)):
        return 1
    return 0
