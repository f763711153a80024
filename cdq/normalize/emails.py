"""E-mail addresses: syntax (email-validator), lower-cased domain, typo suggestions, role/no-reply flags.

The domain part is checked once per distinct domain (a million addresses share a few thousand domains);
the local part passes a vectorised dot-atom check, and only unusual addresses (quoted, non-ASCII) go
through email-validator one by one. No DNS look-ups unless ``check_deliverability`` is on.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from email_validator import EmailNotValidError, validate_email
from rapidfuzz.distance import DamerauLevenshtein

from cdq.normalize._distinct import arrow_text, map_distinct
from cdq.normalize._report import Collector
from cdq.resources import reference_yaml

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
#: A dot-atom local part (RFC 5322), written for Arrow's RE2 engine (full match, no anchors needed).
_LOCAL = rf"{_ATOM}(?:\.{_ATOM})*"
_TLD_TYPOS = {
    "nll": "nl",
    "nk": "nl",
    "n": "nl",
    "con": "com",
    "cmo": "com",
    "om": "com",
    "co": "com",
    "comm": "com",
    "ocm": "com",
    "bee": "be",
}


@lru_cache(maxsize=1)
def reference() -> dict:
    """The provider, typo and role tables from ``reference_data/email_domain_typos.yaml``."""
    data = reference_yaml("reference_data", "email_domain_typos.yaml")
    data["providers"] = sorted(set(data["providers"]))
    return data


@lru_cache(maxsize=None)
def suggest_domain(domain: str) -> str | None:
    """The provider domain a mistyped domain was meant to be, or None.

    Examples:
        >>> suggest_domain("gmial.com"), suggest_domain("ziggo.nll"), suggest_domain("hotmial.com")
        ('gmail.com', 'ziggo.nl', 'hotmail.com')
        >>> suggest_domain("kpnmail.com"), suggest_domain("gmail.com"), suggest_domain("bakkerij.nl")
        ('kpnmail.nl', None, None)
    """
    ref = reference()
    if domain in ref["providers"]:
        return None
    if domain in ref["typos"]:
        return ref["typos"][domain]
    name, _, tld = domain.rpartition(".")
    fixed = f"{name}.{_TLD_TYPOS.get(tld, tld)}"
    if fixed != domain and fixed in ref["providers"]:
        return fixed
    if len(domain) >= 8:
        close = [p for p in ref["providers"] if DamerauLevenshtein.distance(domain, p, score_cutoff=1) <= 1]
        if len(close) == 1:
            return close[0]
    return None


@lru_cache(maxsize=None)
def _domain(domain: str, check_deliverability: bool) -> tuple[str | None, bool]:
    """(normalized domain or None if invalid, deliverable?) for one domain."""
    try:
        result = validate_email("x@" + domain, check_deliverability=check_deliverability)
    except EmailNotValidError as e:
        if check_deliverability and "does not" in str(e):
            return domain.lower(), False
        return None, True
    return result.domain, True


def _full(address: str) -> tuple[str | None]:
    try:
        result = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return (None,)
    return (result.local_part + "@" + result.domain,)


def _split_at(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(local part, domain) split at the last '@'; <NA> where there is no '@'.

    Split in Arrow's kernels, several times faster than ``rpartition`` over Python objects.
    """
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype(object).where(values.notna(), None)
    parts = pc.split_pattern(pa.array(text, type=pa.string(), from_pandas=True), "@", max_splits=1, reverse=True)
    has_at = pc.fill_null(pc.equal(pc.list_value_length(parts), 2), False)
    parts = pc.if_else(has_at, parts, pa.scalar(None, type=parts.type))
    local, domain = (pc.list_element(parts, i) for i in (0, 1))
    return (
        pd.Series(local, index=values.index, dtype="string[pyarrow]"),
        pd.Series(domain, index=values.index, dtype="string[pyarrow]"),
    )


def canonical_emails(values: pd.Series, check_deliverability: bool = False) -> pd.DataFrame:
    """Columns ``email`` (normalized, None if invalid), ``domain`` and ``deliverable`` of an e-mail column."""
    text = arrow_text(values).str.strip().str.replace(r"^(?:mailto:)|^<|>$", "", regex=True)
    local, domain = _split_at(text)
    domains = map_distinct(
        domain.astype(object).to_frame("d"),
        ["d"],
        lambda d: _domain(d, check_deliverability) if d else (None, True),
        ["d", "ok"],
    )
    fast = (local.str.len().le(64) & local.str.fullmatch(_LOCAL)).fillna(False).to_numpy(dtype=bool)
    norm_domain = domains["d"].to_numpy(dtype=object)
    ok = fast & pd.notna(norm_domain)
    email = np.full(len(text), None, dtype=object)
    email[ok] = (local.astype(object) + "@").to_numpy(dtype=object)[ok] + norm_domain[ok]
    slow = ~fast & text.notna().to_numpy()
    if slow.any():
        email[slow] = map_distinct(text[slow].astype(object).to_frame("e"), ["e"], _full, ["e"])[
            "e"
        ].to_numpy()
    # one spelling per address: providers treat the local part case-insensitively, and so do the CRMs
    email = np.array([e.lower() if isinstance(e, str) else e for e in email], dtype=object)
    dom = _split_at(pd.Series(email, index=values.index, dtype=object))[1]
    return pd.DataFrame(
        {
            "email": email,
            "domain": dom.astype(object).to_numpy(dtype=object),
            "deliverable": domains["ok"].to_numpy(dtype=object),
        },
        index=values.index,
    )


def normalize_emails(frame: pd.DataFrame, report: Collector, check_deliverability: bool = False) -> None:
    """Normalize ``email`` in place; add ``email_suggestion``; flag invalid, typo, role and no-reply."""
    before = frame["email"].to_numpy(dtype=object)
    parsed = canonical_emails(frame["email"], check_deliverability)
    present, email = pd.notna(before), parsed["email"].to_numpy(dtype=object)
    ok = pd.notna(email)
    frame["email"] = np.where(ok, email, before)
    report.add(present & ok & (email != before), "email", "EMAIL_REFORMATTED", "info", before)
    report.add(present & ~ok, "email", "EMAIL_INVALID", "error", before)
    domain = parsed["domain"]
    suggestion = map_distinct(
        domain.to_frame("d"), ["d"], lambda d: (suggest_domain(d) if d else None,), ["s"]
    )
    local = _split_at(parsed["email"])[0].str.lower()
    fixed = (local + "@" + suggestion["s"].astype("string")).astype(object).to_numpy(dtype=object)
    has_suggestion = ok & pd.notna(suggestion["s"].to_numpy(dtype=object))
    frame["email_suggestion"] = np.where(has_suggestion, fixed, None)
    report.add(
        has_suggestion, "email", "EMAIL_DOMAIN_TYPO", "warning", before, frame["email_suggestion"].to_numpy()
    )
    ref = reference()
    bare = local.str.replace(r"[.\d]+$", "", regex=True)
    report.add(
        ok & bare.isin(ref["role_local_parts"]).to_numpy(), "email", "EMAIL_ROLE_ADDRESS", "info", before
    )
    report.add(
        ok & bare.isin(ref["no_reply_local_parts"]).to_numpy(), "email", "EMAIL_NO_REPLY", "warning", before
    )
    if check_deliverability:
        report.add(
            ok & ~parsed["deliverable"].to_numpy(dtype=bool),
            "email",
            "EMAIL_UNDELIVERABLE",
            "error",
            before,
        )
