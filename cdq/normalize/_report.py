"""Collect changes and flags while normalizing; turn them into the ``issues`` column and findings frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cdq.columns import FINDINGS
from cdq.reasons import REASONS

#: Codes that only note a cosmetic rewrite: they go to findings, not to the row's ``issues``.
COSMETIC = {
    "POSTCODE_REFORMATTED",
    "PHONE_REFORMATTED",
    "EMAIL_REFORMATTED",
    "DATE_REFORMATTED",
    "NAME_RECASED",
    "NAME_INITIALS_REFORMATTED",
    "PARTY_TYPE_DERIVED",
    "LEGAL_FORM_DERIVED",
}


class Collector:
    """Accumulates (rows, column, code, severity, value, detail) records for one normalize run."""

    def __init__(self, frame: pd.DataFrame, stage: str = "normalize"):
        self.n = len(frame)
        self.record_ids = (
            frame["record_id"].to_numpy(dtype=object)
            if "record_id" in frame
            else np.arange(self.n).astype(str).astype(object)
        )
        self.stage = stage
        self.parts: list[dict] = []

    def add(self, mask, column: str, code: str, severity: str, value=None, detail=None) -> None:
        """Record ``code`` for every row where ``mask`` is true.

        ``value`` and ``detail`` are per-row arrays (or scalars) written to the findings.
        """
        if code not in REASONS:
            raise KeyError(f"unregistered reason code {code}")
        rows = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(rows):
            return
        self.parts.append(
            {
                "rows": rows,
                "column": column,
                "code": code,
                "severity": severity,
                "value": _take(value, rows),
                "detail": _take(detail, rows),
            }
        )

    def issues(self, existing: pd.Series | None = None) -> np.ndarray:
        """The ';'-joined issue codes per row, appended to ``existing`` (no code twice in a row).

        Codes follow the order in which they were first recorded. Each row's set of codes is a bit pattern;
        the string is built once per distinct pattern (a few hundred), not once per row and code.
        """
        out = np.full(self.n, "", dtype=object)
        if existing is not None:
            out[:] = existing.fillna("").astype(str).to_numpy(dtype=object)
        masks: dict[str, np.ndarray] = {}
        for part in self.parts:
            if part["code"] not in COSMETIC:
                masks.setdefault(part["code"], np.zeros(self.n, dtype=bool))[part["rows"]] = True
        had_rows = np.flatnonzero(out != "")
        had = [set(v.split(";")) for v in out[had_rows]]
        for code, mask in masks.items():
            for k in np.flatnonzero(mask[had_rows]):
                if code in had[k]:
                    mask[had_rows[k]] = False
        return _append_codes(out, list(masks), list(masks.values()))

    def findings(self) -> pd.DataFrame:
        """One row per change or flag, with the fixed :data:`cdq.columns.FINDINGS` columns."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in FINDINGS})
        frames = []
        for part in self.parts:
            k = len(part["rows"])
            frames.append(
                pd.DataFrame(
                    {
                        "stage": self.stage,
                        "rule": part["code"].lower(),
                        "column": part["column"],
                        "record_id": self.record_ids[part["rows"]],
                        "value": part["value"],
                        "severity": part["severity"],
                        "reason_code": part["code"],
                        "detail": part["detail"]
                        if part["detail"] is not None
                        else np.full(k, None, dtype=object),
                    },
                    columns=FINDINGS,
                )
            )
        return pd.concat(frames, ignore_index=True)


def _append_codes(out: np.ndarray, codes: list[str], masks: list[np.ndarray]) -> np.ndarray:
    """``out`` (texts per row, "" when none) with, per row, the codes whose mask is set appended ';'-joined in
    the order of ``codes``; changed in place and returned."""
    n = len(out)
    for start in range(0, len(codes), 64):  # one 64-bit word per 64 codes
        words = codes[start : start + 64]
        bits = np.zeros(n, dtype=np.uint64)
        for j, mask in enumerate(masks[start : start + 64]):
            bits[mask] |= np.uint64(1 << j)
        patterns, inverse = np.unique(bits, return_inverse=True)
        texts = np.array(
            [";".join(w for j, w in enumerate(words) if int(p) >> j & 1) for p in patterns] or [""], dtype=object
        )
        part = texts[inverse.reshape(-1)]
        both = (out != "") & (part != "")
        out[both] = out[both] + ";" + part[both]
        alone = out == ""
        out[alone] = part[alone]
    return out


def _take(value, rows: np.ndarray):
    if value is None or isinstance(value, str):
        return value
    return np.asarray(value, dtype=object)[rows]
