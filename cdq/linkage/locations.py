"""The two-level model of organisations: an organisation above its locations (branches).

Linkage clusters are locations: a person, or one branch of an organisation at its own address and phone.
:func:`organisation_ids` groups location clusters into organisations (one name or one KvK number);
:func:`place_moved_locations` puts a branch record found at an address no other record of its organisation
has (a branch that moved) into the one branch it can be.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.linkage.cluster import connected_components
from cdq.linkage.compare import Columns
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
        same |= np.isin(vectors["company"].to_numpy(), names) & both
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
    frame = pd.DataFrame({"label": labels, "org": organisation, "branch": branch, "source": sources,
                          "phone": phones})
    frame = frame[frame["branch"] & frame["org"].notna()]
    for _, org in frame.groupby("org", sort=False):
        size = org["label"].map(org["label"].value_counts())
        placed = org[size >= 2]
        if placed.empty:
            continue
        sources_of = placed.groupby("label")["source"].agg(set).to_dict()
        phones_of = placed[placed["phone"] >= 0].groupby("label")["phone"].agg(set).to_dict()
        for index, row in org[size == 1].iterrows():
            fits = [lab for lab, seen in sources_of.items() if row["source"] not in seen
                    and (row["phone"] < 0 or not phones_of.get(lab) or row["phone"] in phones_of[lab])]
            if len(fits) == 1:
                out[index] = fits[0]
                sources_of[fits[0]].add(row["source"])
    return out
