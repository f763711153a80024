"""Map input column headers to canonical staging columns.

The synonym table lives in ``rules/headers.yaml``; headers are compared after :func:`header_key`
(case, accents, spacing and punctuation ignored). An explicit mapping file overrides the table:

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
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from cdq.columns import COMBINED, MAPPABLE
from cdq.config import load_model, read_yaml
from cdq.errors import ConfigError
from cdq.resources import resource

TARGETS = set(MAPPABLE) | set(COMBINED)
#: A mapping target; pydantic reports an unknown one at its own key (file:line: columns.<header>).
Target = Literal[tuple(sorted(TARGETS))]  # type: ignore[valid-type]


def header_key(header: object) -> str:
    """Comparable form of a header: lower case, no accents, only letters and digits.

    Examples:
        >>> header_key("E-mail adres")
        'emailadres'
        >>> header_key("  KvK-Nummer ")
        'kvknummer'
        >>> header_key("Cliëntnummer")
        'clientnummer'
    """
    text = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


class MappingFile(BaseModel):
    """An explicit column mapping (authoring form)."""

    model_config = ConfigDict(extra="forbid")
    source: str | None = None
    columns: dict[str, Target | None] = {}


def load_mapping(path: str | Path) -> MappingFile:
    """Read and validate a mapping YAML file."""
    return load_model(path, MappingFile)


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


def map_headers(headers: list[str], mapping: MappingFile | None = None) -> dict[str, str]:
    """Choose a canonical target for input headers; returns ``{input header: target}``.

    Explicit mapping entries win; then each target takes the highest-priority synonym present.
    A header is used for at most one target, and each target gets at most one header.

    Examples:
        >>> map_headers(["Klantnummer", "Voornaam", "Achternaam", "Woonplaats", "Opmerking"])
        {'Klantnummer': 'source_key', 'Voornaam': 'first_name', 'Achternaam': 'last_name', 'Woonplaats': 'city'}
    """
    chosen: dict[str, str] = {}
    taken_targets: set[str] = set()
    explicit = mapping.columns if mapping else {}
    for header, target in explicit.items():
        if header in headers and target is not None:
            chosen[header] = target
            taken_targets.add(target)
    blocked = set(explicit)
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(header_key(header), header)
    for target, keys in synonym_table().items():
        if target in taken_targets:
            continue
        for key in keys:
            header = by_key.get(key)
            if header is not None and header not in chosen and header not in blocked:
                chosen[header] = target
                taken_targets.add(target)
                break
    return {h: chosen[h] for h in headers if h in chosen}
