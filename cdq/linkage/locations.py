"""The two-level model of organisations: an organisation above its locations (branches).

Linkage clusters are locations: a person, or one branch of an organisation at its own address and phone.
:func:`organisation_ids` groups location clusters into organisations (one name or one KvK number);
:func:`place_moved_locations` puts a branch record found at an address no other record of its organisation
has (a branch that moved) into the one branch it can be.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pandas as pd

from cdq.linkage.cluster import connected_components
from cdq.linkage.columns import Columns
from cdq.linkage.compare import at_levels
from cdq.linkage.settings import Settings

#: Company levels that name one organisation (its branches included): the same name, or a typo of it.
ORGANISATION_LEVELS = ("very_similar", "exact")


def organisation_ids(prepared: pd.DataFrame, l: np.ndarray, r: np.ndarray, vectors: pd.DataFrame,
                     labels: np.ndarray, ids: np.ndarray, s: Settings) -> np.ndarray:
    """The organisation above each cluster: the two-level model (organisation -> its locations).

    Clusters are locations (a branch at its own address and phone is its own cluster); records of one
    company name (or a typo of it) or one KvK number belong to one organisation whatever their address.
    A person record with an organisation name (a contact) belongs to that organisation. Two KvK numbers
    that differ are two organisations, whatever the name. None where a record has no organisation.
    """
    company = Columns.of(prepared).codes("company_key") >= 0
    out = np.full(len(labels), None, dtype=object)
    if not company.any():
        return out
    same = same_organisation(prepared, l, r, vectors, s)
    # every location cluster lies inside one organisation: its records are one another's edges too
    members = np.flatnonzero(company)
    group = connected_components(len(labels), np.r_[l[same], members], np.r_[r[same], labels[members]])
    has = np.zeros(len(labels), dtype=bool)
    np.logical_or.at(has, group, company)
    out[has[group]] = ids[group[has[group]]]
    return out


def same_organisation(prepared: pd.DataFrame, l: np.ndarray, r: np.ndarray, vectors: pd.DataFrame,
                      s: Settings) -> np.ndarray:
    """Pairs that name one organisation (the edges of :func:`organisation_ids`): the same name or a typo of it
    on both records and no different KvK number, or the same KvK number."""
    company = Columns.of(prepared).codes("company_key") >= 0
    both = company[l] & company[r]
    same = np.zeros(len(l), dtype=bool)
    if "company" in vectors.columns:
        names = [s.levels("company").index(x) for x in ORGANISATION_LEVELS]
        same |= at_levels(vectors["company"].to_numpy(), names) & both
    if "kvk" in vectors.columns:
        kvk = vectors["kvk"].to_numpy()
        same = (same & (kvk != 0)) | (kvk == s.levels("kvk").index("exact"))
    return same


def place_moved_locations(labels: np.ndarray, organisation: np.ndarray, branch: np.ndarray, sources: np.ndarray,
                          phones: np.ndarray) -> np.ndarray:
    """Cluster labels with each lone branch record joined to the one branch of its organisation it can be.

    A branch that moved shows up as a record of its organisation at an address no other record has: a
    cluster of its own. It is the branch that its source does not list yet: a source (an ERP, an adviser's
    sheet) holds one record per branch, so the branches its other records are already in are excluded,
    and so is a branch with another phone number (its own landline says it is another branch). The record
    joins when exactly one branch is left; with none or several it stays a location of its own (still of
    the organisation). Only branches seen at least twice take a record in: two lone records never pair up.

    Args:
        labels: cluster label per record. organisation: organisation id per record (None: none).
        branch: whether a record is an organisation's own record (not a person, not a contact).
        sources: the source system per record. phones: phone code per record (-1: none).

    Examples:
        >>> labels = np.array([0, 0, 2, 2, 4, 5])
        >>> org = np.array(["o"] * 6, dtype=object)
        >>> src = np.array(["erp", "crm", "erp", "crm", "erp", "crm"], dtype=object)
        >>> place_moved_locations(labels, org, np.ones(6, bool), src, np.full(6, -1)).tolist()
        [0, 0, 2, 2, 4, 5]
        >>> src[2] = "xls"  # branch 2 has no erp record: the lone erp record 4 is its branch
        >>> place_moved_locations(labels, org, np.ones(6, bool), src, np.full(6, -1)).tolist()
        [0, 0, 2, 2, 2, 5]
    """
    out = labels.copy()
    rows = np.flatnonzero(np.asarray(branch, dtype=bool) & pd.notna(organisation))
    # plain Python over the branch records (a few per cent of a file): a pandas groupby per organisation cost
    # seconds on a file with thousands of organisations, nearly all of which have nothing to place
    keys = list(zip(organisation[rows].tolist(), labels[rows].tolist()))
    size = Counter(keys)
    sources_of: dict = defaultdict(dict)  # organisation -> {branch label seen twice: its sources}
    phones_of: dict = defaultdict(dict)  # organisation -> {branch label seen twice: its phones}
    for i, key in zip(rows.tolist(), keys):
        if size[key] >= 2:
            sources_of[key[0]].setdefault(key[1], set()).add(sources[i])
            if phones[i] >= 0:
                phones_of[key[0]].setdefault(key[1], set()).add(phones[i])
    for i, (org, label) in zip(rows.tolist(), keys):
        if size[(org, label)] != 1 or org not in sources_of:
            continue
        source, phone, known = sources[i], phones[i], phones_of[org]
        fits = [lab for lab, seen in sources_of[org].items()
                if source not in seen and (phone < 0 or not known.get(lab) or phone in known[lab])]
        if len(fits) == 1:
            out[i] = fits[0]
            sources_of[org][fits[0]].add(source)
    return out
