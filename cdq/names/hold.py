"""Hold records out of the golden records: junk names and mailbox correspondents without a name.

A person record whose name is junk (a placeholder, a fictional name, a keyboard run, punctuation only, one
word over and over: the name plausibility codes in :data:`JUNK_CODES`) names nobody, so its e-mail and phone
are no customer's either. A mailbox correspondent without a name is only an address that wrote or was
written to; it becomes a customer when linkage matches it to one. Both are held in the quarantine with
their reason and ``source|row`` (every input row still ends in a golden record or in the quarantine).

:func:`held_records` decides; the pipeline (``hold:`` in its YAML) removes them before the golden stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from cdq.columns import QUARANTINE
from cdq.reasons import register

#: Name plausibility codes that say the name is no person's name at all (a typo such as "Jaaaan" or
#: "Jan2" is a real customer's name mistyped: those records are kept).
JUNK_CODES = frozenset({"NAME_PLACEHOLDER", "NAME_FICTIONAL", "NAME_KEYBOARD_RUN", "NAME_PUNCTUATION_ONLY",
                        "NAME_REPEATED_TOKENS"})
JUNK = register("NAME_JUNK_HELD", "a person record whose name is junk (placeholder, fictional, keyboard run, "
                "punctuation, one word repeated) held out of the golden records", stage="names")
NAMELESS = register("MAIL_NAMELESS_HELD", "a mailbox correspondent without a name that matches no customer, "
                    "held out of the golden records", stage="names")
_NAME = ["title", "initials", "first_name", "infix", "last_name"]


@dataclass(frozen=True)
class HoldPolicy:
    """What to hold: junk names (``junk_names``) and nameless mail correspondents (``nameless_mail``:
    ``unless_matched`` = unless linkage put them with another record, ``always`` or ``never``)."""

    junk_names: bool = True
    nameless_mail: Literal["unless_matched", "always", "never"] = "unless_matched"


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def junk_name(frame: pd.DataFrame) -> pd.Series:
    """Person records whose ``issues`` hold a junk-name code (see :data:`JUNK_CODES`).

    Examples:
        >>> junk_name(pd.DataFrame({"issues": ["NAME_FICTIONAL", "NAME_REPEATED_CHARS", None],
        ...                         "party_type": ["person", "person", "person"]})).tolist()
        [True, False, False]
    """
    codes = _column(frame, "issues").fillna("").astype(str).str.split(";")
    junk = codes.map(lambda c: bool(JUNK_CODES.intersection(c)))
    return junk & _column(frame, "party_type").ne("organisation")


def nameless_mail(frame: pd.DataFrame) -> pd.Series:
    """Mailbox correspondents (they carry ``src:mail_roles``) without any name part or company."""
    from_mail = _column(frame, "src:mail_roles").notna()
    unnamed = frame.reindex(columns=[*_NAME, "company_name"]).isna().all(axis=1)
    return from_mail & unnamed


def _matched(frame: pd.DataFrame, clusters: pd.DataFrame, candidates: pd.Series) -> pd.Series:
    """Whether each candidate shares its cluster with a record that is no candidate (a customer in the
    batch or a stored one).

    Examples:
        >>> frame = pd.DataFrame({"record_id": ["m1", "m2", "m3", "c1"]})
        >>> clusters = pd.DataFrame({"record_id": ["m1", "c1", "m2", "m3", "stored:x"],
        ...                          "cluster_id": [1, 1, 2, 3, 3]})
        >>> _matched(frame, clusters, pd.Series([True, True, True, False]))[:3].tolist()
        [True, False, True]
    """
    ids = frame["record_id"].astype(str)
    members = clusters["record_id"].astype(str)
    customers = set(clusters.loc[~members.isin(set(ids[candidates])), "cluster_id"])
    cluster = ids.map(dict(zip(members, clusters["cluster_id"])))
    return cluster.isin(customers) & cluster.notna()


def held_records(frame: pd.DataFrame, clusters: pd.DataFrame, policy: HoldPolicy = HoldPolicy()) -> pd.DataFrame:
    """The records to hold out of the golden records, as quarantine rows (:data:`cdq.columns.QUARANTINE`)
    plus ``record_id``.

    Args:
        frame: the checked batch (``issues`` with the name codes, ``src:mail_roles`` for mail records).
        clusters: ``record_id, cluster_id`` from linkage (a record absent from it is alone).
        policy: what to hold.
    """
    junk = junk_name(frame) if policy.junk_names else pd.Series(False, index=frame.index)
    nameless = nameless_mail(frame) & ~junk
    if policy.nameless_mail == "never":
        nameless[:] = False
    elif policy.nameless_mail == "unless_matched":
        nameless &= ~_matched(frame, clusters, nameless | junk)
    held = frame[junk | nameless]
    is_junk = junk[held.index]
    return pd.DataFrame({
        "record_id": held["record_id"].astype(str),
        "source": held["source"], "source_file": _column(held, "source_file"),
        "source_row": _column(held, "source_row"),
        "column": is_junk.map({True: "last_name", False: "email"}),
        "reason_code": is_junk.map({True: JUNK, False: NAMELESS}),
        "detail": [_detail(issues, j) for issues, j in zip(_column(held, "issues"), is_junk)],
        "raw": [_raw(row, j) for row, j in zip(held.to_dict("records"), is_junk)],
    }, columns=["record_id", *QUARANTINE])


def _detail(issues: object, junk: bool) -> str:
    if not junk:
        return "mailbox correspondent without a name; no customer has this address"
    codes = sorted(JUNK_CODES.intersection(str(issues or "").split(";")))
    return "junk name: " + ", ".join(codes)


def _raw(row: dict, junk: bool) -> str:
    if not junk:
        return str(row.get("email") or "")
    return " ".join(str(row[c]) for c in _NAME if isinstance(row.get(c), str))
