"""A labelled evaluation of name plausibility: held-out real names versus junk of every kind.

Real names are a random sample of name lists (e.g. the Meertens surnames in ``../shared/data/nl_names``)
that the model and the knowledge are then built *without*, so every real name in the evaluation is unseen,
plus foreign names listed here. Junk entries are authored here, dozens per kind. Used by
``tests/test_names_evaluation.py`` and ``benchmarks/bench_names.py``.
"""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cdq.names.knowledge import Knowledge, builtin, norm
from cdq.normalize.names import name_prefixes

#: Full names from communities in the Netherlands, listed for the evaluation (kept out of training).
FOREIGN = [
    ("Mevlüt", "M", "Çavuşoğlu"), ("Gülşen", "F", "Karabulut"), ("Abdelilah", "M", "Ouarzazi"),
    ("Touria", "F", "Boukhriss"), ("Anjanie", "F", "Ramcharan"), ("Roshan", "M", "Jagroep"),
    ("Ketut", "M", "Sukarsa"), ("Nyoman", "M", "Widiastuti"), ("Grzegorz", "M", "Brzozowski"),
    ("Agnieszka", "F", "Chrzanowska"), ("Shudarney", "F", "Rosalia"), ("Xiaoming", "M", "Zhuang"),
    ("Thi Hoa", "F", "Nguyen"), ("Oleksandra", "F", "Tkachenko"), ("Tesfalem", "M", "Ghebremariam"),
    ("Abdiwali", "M", "Jama"), ("Chinedu", "M", "Nwachukwu"), ("Siobhan", "F", "O'Sullivan"),
    ("Hovhannes", "M", "Mkrtchyan"), ("Zurab", "M", "Tsiklauri"), ("Ngozi", "F", "Eze"),
    ("Bogumiła", "F", "Szczęsna"), ("Jesús", "M", "Domínguez"), ("Ioana", "F", "Constantinescu"),
    ("Marlies", "F", "Tjon Affo"), ("Rishi", "M", "Baldewsingh"), ("Sumitra", "F", "Lachmansingh"),
    ("Yeliz", "F", "Kocabıyık"), ("Oğuzhan", "M", "Üstündağ"), ("Nouhaila", "F", "El Ouakili"),
    ("Soufyan", "M", "Ait Ouaissa"), ("Wing Kei", "M", "Cheung"), ("Mei Ling", "F", "Tjoe"),
    ("Jerrel", "M", "Martis"), ("Shantal", "F", "Lourens"), ("Dewi", "F", "Soemodihardjo"),
    ("Björn", "M", "Lindqvist"), ("Siddharth", "M", "Venkataraman"), ("Afshin", "M", "Ghorbani"),
    ("Mahsa", "F", "Jafarzadeh"),
]

#: Junk entries by kind: (kind, parts). Authored for cdq; a record is junk when a steward would not accept
#: it as a person's name, or when it holds a fact that must be fixed (swapped, mismatched, a company).
JUNK: list[tuple[str, dict]] = [
    *[("digits", {"first_name": f, "last_name": s}) for f, s in [
        ("Jan2", "Jansen"), ("P3ter", "de Vries"), ("Klaas", "Bakker12"), ("Anna", "Smit 2"), ("1234", "5678"),
        ("Kees", "Visser3"), ("M0hamed", "Kaya")]],
    *[("repeated", {"first_name": f, "last_name": s}) for f, s in [
        ("Jaaaan", "Jansen"), ("Mmmmm", "Mmmmm"), ("Piet", "Zzzzz"), ("Aaaa", "Bbbb"), ("Ee", ""),
        ("Klaas", "Vriesss")]],
    *[("placeholder", {"first_name": f, "last_name": s}) for f, s in [
        ("", "onbekend"), ("Test", "Test"), ("", "n.v.t."), ("x", "x"), ("Klant", "42"), ("", "Testklant"),
        ("Onbekend", "Onbekend"), ("", "NVT"), ("Dummy", "Klant"), ("", "xxx"), ("Voornaam", "Achternaam"),
        ("", "Anoniem"), ("Unknown", ""), ("Test", "Persoon"), ("", "idem")]],
    *[("fictional", {"first_name": f, "infix": i, "last_name": s}) for f, i, s in [
        ("Donald", "", "Duck"), ("Mickey", "", "Mouse"), ("Harry", "", "Potter"), ("Sherlock", "", "Holmes"),
        ("", "", "Sinterklaas"), ("Piet", "", "Piraat"), ("John", "", "Doe"), ("James", "", "Bond"),
        ("Dagobert", "", "Duck"), ("Kabouter", "", "Plop"), ("Jan", "", "Modaal"), ("Homer", "", "Simpson"),
        ("", "", "Batman"), ("Pietje", "", "Bell")]],
    *[("company", {"first_name": f, "last_name": s}) for f, s in [
        ("Bakkerij", "Jansen"), ("", "Installatietechniek Bos B.V."), ("", "Jansen Holding BV"),
        ("", "Stichting De Regenboog"), ("", "Autobedrijf Kaya"), ("Schildersbedrijf", "de Groot"),
        ("", "Van Dijk Transport B.V."), ("", "Restaurant De Gouden Leeuw"), ("", "Smit & Zn v.o.f.")]],
    *[("email", {"first_name": f, "last_name": s}) for f, s in [
        ("", "jan.devries@gmail.com"), ("info@bakkerij.nl", ""), ("Piet", "piet@hotmail.com"),
        ("", "www.jansen.nl"), ("", "k.smit@ziggo.nl")]],
    *[("phone", {"first_name": f, "last_name": s}) for f, s in [
        ("", "06-12345678"), ("Jan", "0612345678"), ("", "+31 20 123 4567"), ("Bel", "020-5551234")]],
    *[("street", {"first_name": f, "last_name": s}) for f, s in [
        ("", "Kerkstraat 12"), ("Jan", "Dorpsweg 5a"), ("", "Hoofdstraat 1, 1234 AB Amsterdam"),
        ("Marktplein", "3"), ("", "Stationsweg 101 hs")]],
    *[("title_only", parts) for parts in [
        {"title": "Dhr."}, {"title": "Mevrouw"}, {"title": "Dr."}, {"last_name": "Mevr."},
        {"first_name": "De heer"}, {"title": "Fam."}, {"last_name": "dhr"}]],
    *[("swapped", {"first_name": f, "last_name": s}) for f, s in [
        ("Jansen", "Pieter"), ("Bakker", "Anna"), ("Visser", "Kees"), ("Mulder", "Johanna"),
        ("Öztürk", "Mehmet"), ("Dijkstra", "Sanne")]],
    *[("initials_mismatch", {"initials": i, "first_name": f, "last_name": s}) for i, f, s in [
        ("P.", "Jan", "Jansen"), ("A.B.", "Kees", "Smit"), ("M.", "Fatma", "Kaya"), ("S.", "Wim", "Bos"),
        ("E.J.", "Lotte", "Mulder")]],
    *[("gender_mismatch", {"title": t, "first_name": f, "last_name": s}) for t, f, s in [
        ("Mevr.", "Pieter", "Jansen"), ("Dhr.", "Anna", "de Vries"), ("Mevrouw", "Mohamed", "El Amrani"),
        ("De heer", "Fatma", "Yilmaz"), ("Mw.", "Kees", "Bakker")]],
    *[("keyboard", {"first_name": f, "last_name": s}) for f, s in [
        ("asdf", "asdf"), ("Qwerty", "Uiop"), ("", "asdfgh"), ("Jan", "Zxcvbn"), ("Hjkl", "Jansen"),
        ("", "qwertz"), ("Poiu", "Lkjh")]],
    *[("punctuation", {"first_name": f, "last_name": s}) for f, s in [
        ("", "..."), ("", "'-"), ("-", "-"), ("?", "?"), ("Jan", "--"), ("", ".,"), ("...", "..."), ("", "/"),
        ("", "' '"), ("*", ""), ("", "-.-"), ("Anna", "?")]],
    *[("repeated_tokens", {"first_name": f, "last_name": s}) for f, s in [
        ("Piet Piet Piet", "Piet"), ("Jan Jan", "Jan"), ("Kees", "Bakker Bakker Bakker"),
        ("Anna Anna Anna", "Anna"), ("Klaas Klaas", "Klaas"), ("", "Smit Smit Smit"), ("Mo Mo", "Mo"),
        ("Jan", "Jan Jan")]],
    *[("gibberish", {"first_name": f, "last_name": s}) for f, s in [
        ("Xqzvbk", "Jansen"), ("Pfrtzl", "Brkx"), ("", "Kdjfkdjf"), ("Jan", "Xzcvqw"), ("Wqxz", "Vbnm"),
        ("", "Gfhgfhgf"), ("Dfgkj", "Smit"), ("Anna", "Zxqj"), ("", "Hdhdhdh"), ("Jkjkjk", "Bos"),
        ("", "Sdfsdfsdf"), ("Piet", "Vvbnqz")]],
]

#: What "flagged" means per kind: implausible, or (for consistency checks) the reason code is given,
#: or (company) the record was moved to the organisation fields.
EXPECTED_CODE = {"swapped": "NAME_SWAPPED", "initials_mismatch": "NAME_INITIALS_MISMATCH",
                 "gender_mismatch": "NAME_GENDER_MISMATCH"}


@dataclass
class Labelled:
    """The labelled records and the knowledge/training names that exclude every held-out real name."""

    records: pd.DataFrame
    train_knowledge: Knowledge


def _split_surname(surname: str) -> tuple[str, str]:
    """("van den", "Berg") from "van den Berg"."""
    tokens = surname.split()
    lowered = [t.lower() for t in tokens]
    for prefix in name_prefixes():
        if len(prefix) < len(tokens) and tuple(lowered[:len(prefix)]) == prefix:
            return " ".join(tokens[:len(prefix)]), " ".join(tokens[len(prefix):])
    return "", surname


def read_shared(shared: Path) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(first names with gender, all surnames, top-1000 surnames) from ``shared/data/nl_names``."""
    folder = Path(shared) / "nl_names"
    with open(folder / "first_names_gender_voornamen.csv", encoding="utf-8") as f:
        first = [(r["name"], r["gender"]) for r in csv.DictReader(f)]
    with gzip.open(folder / "surnames_all_meertens.lst.gz", "rt", encoding="utf-8") as f:
        surnames = [line.strip() for line in f if line.strip()]
    with open(folder / "surnames_top1000_2007.csv", encoding="utf-8") as f:
        top = [r["natural name"] for r in csv.DictReader(f)]
    return first, surnames, top


def build(shared: Path, *, n_real: int = 600, seed: int = 7) -> Labelled:
    """Hold out ``n_real`` real records (rare and common surnames, foreign names) and add the junk list."""
    rng = random.Random(seed)
    first, surnames, top = read_shared(shared)
    # the junk list's real words ("Jansen" in a swapped record) must stay known, so they are not held out
    junk_words = {w for _, parts in JUNK for v in parts.values() for w in norm(v).split()}
    plain = [s for s in surnames if s.replace(" ", "").replace("-", "").replace("'", "").isalpha()
             and not set(norm(s).split()) & junk_words]
    top = [s for s in top if not set(norm(s).split()) & junk_words]
    held_sur = rng.sample(plain, n_real * 2 // 3) + rng.sample(top, n_real // 3)
    held_first = rng.sample([f for f in first if norm(f[0]) not in junk_words], len(held_sur))
    rows = []
    for (fname, gender), surname in zip(held_first, held_sur):
        infix, last = _split_surname(surname)
        title = rng.choice(["", "", "Dhr." if gender == "M" else "Mevr."])
        initials = rng.choice(["", fname[0].upper() + "."])
        rows.append({"kind": "real", "title": title, "initials": initials, "first_name": fname,
                     "infix": infix, "last_name": last})
    for fname, _gender, surname in FOREIGN:
        infix, last = _split_surname(surname)
        rows.append({"kind": "real_foreign", "first_name": fname, "infix": infix, "last_name": last})
    rows += [{"kind": kind, **parts} for kind, parts in JUNK]
    records = pd.DataFrame(rows).fillna("")
    return Labelled(records, _training_knowledge(first, surnames, records))


def _training_knowledge(first, surnames, records: pd.DataFrame) -> Knowledge:
    """Built-in + shared lists, minus every word of every held-out real name."""
    real = records[records["kind"].str.startswith("real")]
    held = {w for col in ("first_name", "last_name") for v in real[col] for w in norm(v).split()}
    held |= {norm(v) for col in ("first_name", "last_name") for v in real[col]}
    k = builtin()
    for name, gender in first:
        k.add_first(name, gender)
    k.surnames |= {norm(s) for s in surnames}
    k.first = {n: g for n, g in k.first.items() if n not in held and not set(n.split()) & held}
    k.surnames = {s for s in k.surnames if s not in held and not set(s.split()) & held}
    return k


def flagged(records: pd.DataFrame, result: pd.DataFrame) -> pd.Series:
    """Whether each record was flagged: implausible, its expected consistency code given, or moved as a company."""
    expected = [EXPECTED_CODE.get(kind) for kind in records["kind"]]
    has_code = pd.Series([e is not None and e in issues.split(";")
                          for e, issues in zip(expected, result["name_issues"])], index=records.index)
    return ~result["name_plausible"].astype(bool) | has_code | result["is_company"].astype(bool)


def table(records: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """Per kind: count, flagged, and the share accepted (real) or flagged (junk); plus totals."""
    flags = flagged(records, result)
    frame = pd.DataFrame({"kind": records["kind"], "flagged": flags})
    per = frame.groupby("kind")["flagged"].agg(["count", "sum"]).rename(columns={"sum": "flagged"})
    per["rate"] = [(1 - f / c) if k.startswith("real") else f / c
                   for k, c, f in zip(per.index, per["count"], per["flagged"])]
    per["measure"] = ["accepted" if k.startswith("real") else "flagged" for k in per.index]
    real = frame["kind"].str.startswith("real")
    totals = pd.DataFrame({
        "count": [int(real.sum()), int((~real).sum())],
        "flagged": [int(flags[real].sum()), int(flags[~real].sum())],
        "rate": [1 - flags[real].mean(), flags[~real].mean()],
        "measure": ["accepted", "flagged"],
    }, index=["ALL REAL", "ALL JUNK"])
    return pd.concat([per, totals]).reset_index(names="kind")
