"""First names and their gender: cdq's authored tables plus an optional user list with counts.

``reference_data/names/first_names.tsv`` (names with gender M/F/U and community) and
``reference_data/first_names.csv`` (formal, older and regional Dutch names) are written for cdq; a user's
``name,gender[,count]`` CSV (``names.first_names_file``) adds to them. A name borne by men and women alike
gets no gender unless one gender has ``threshold`` of its weight.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from cdq.resources import resource

#: Share of a name's bearers (or list entries) that must have one gender before it is derived from the name.
GENDER_THRESHOLD = 0.9


def _gender_rows(path: Path) -> list[tuple[str, str, float]]:
    """(name, M/F/U, weight) rows of a name list: ``name,gender[,count]`` CSV or the authored TSV."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    if path.suffix == ".tsv":
        return [(p[0], p[1], 1.0) for p in (ln.split("\t") for ln in lines) if len(p) > 1]
    rows = []
    for row in csv.DictReader(lines):
        count = (row.get("count") or "").strip()
        rows.append((row.get("name") or "", row.get("gender") or "", float(count) if count else 1.0))
    return rows


@lru_cache(maxsize=8)
def first_name_genders(extra_file: str | None = None, threshold: float = GENDER_THRESHOLD) -> dict[str, str]:
    """Lower-cased first name → M/F, for the names whose gender is clear.

    Reads cdq's authored lists (``reference_data/names/first_names.tsv`` with U for unisex names, and
    ``reference_data/first_names.csv``) plus an optional ``name,gender[,count]`` CSV. A name listed with
    both genders (Ali: a Turkish man's name and short for Alida), or as unisex, gets a gender only when
    ``threshold`` of its weight (counts where the list has them) is one gender; otherwise none.

    Examples:
        >>> table = first_name_genders()
        >>> table["jan"], table["mien"], "ali" in table, "robin" in table
        ('M', 'F', False, False)
    """
    paths = [resource("reference_data", "names", "first_names.tsv"), resource("reference_data", "first_names.csv")]
    weights: dict[str, dict[str, float]] = {}
    for path in paths + ([Path(extra_file)] if extra_file else []):
        for name, gender, weight in _gender_rows(path):
            key, g = name.strip().lower(), gender.strip().upper()[:1]
            g = "F" if g == "V" else g
            if key and g in ("M", "F", "U"):
                entry = weights.setdefault(key, {})
                entry[g] = entry.get(g, 0.0) + weight
    table = {}
    for key, entry in weights.items():
        total = sum(entry.values())
        for g in ("M", "F"):
            if entry.get(g, 0.0) >= threshold * total:
                table[key] = g
    return table
