"""Hold the records that fail a gate: the gate policy ``hold_failing`` of a pipeline.

With ``stop`` a failed critical expectation stops the run before anything is written. With
``hold_failing`` the records behind the failure are taken out of the run into the quarantine (reason
``GATE_HELD``, the expectation and column in ``detail``, their ``source`` and ``source_row``) and the rest
goes on. A failure that is not about single rows (an empty batch, a missing column, the row accounting)
always stops.

Examples:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"record_id": ["r1", "r2"], "source": ["crm", "crm"], "source_file": ["a.csv"] * 2,
    ...                       "source_row": [2, 3]})
    >>> failing = pd.DataFrame({"suite": ["staging"], "expectation": ["expect_column_values_to_match_regex"],
    ...                         "column": ["email"], "row_id": ["r2"]})
    >>> kept, held = hold_rows(frame, failing)
    >>> kept["record_id"].tolist(), held[["source", "source_row", "reason_code"]].values.tolist()
    (['r1'], [['crm', 3, 'GATE_HELD']])
"""

from __future__ import annotations

import pandas as pd

from cdq.columns import QUARANTINE
from cdq.reasons import GATE_HELD

POLICIES = ("stop", "hold_failing")


def hold_rows(frame: pd.DataFrame, failing: pd.DataFrame, id_column: str = "record_id",
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into the rows that go on and quarantine rows for those in ``failing.row_id``."""
    ids = frame[id_column].astype(str)
    why = failing.groupby("row_id").apply(
        lambda g: "; ".join(f"{s}: {e} on {c}" for s, e, c in zip(g["suite"], g["expectation"], g["column"])),
        include_groups=False) if len(failing) else pd.Series(dtype=object)
    held = frame[ids.isin(set(why.index))]
    quarantine = pd.DataFrame({
        "source": held.get("source"), "source_file": held.get("source_file"), "source_row": held.get("source_row"),
        "column": held[id_column].astype(str).map(
            failing.drop_duplicates("row_id").set_index("row_id")["column"]) if len(held) else None,
        "reason_code": GATE_HELD, "detail": held[id_column].astype(str).map(why), "raw": None,
    }).reindex(columns=QUARANTINE)
    return frame[~ids.isin(set(why.index))].reset_index(drop=True), quarantine.reset_index(drop=True)


def row_refs(quarantine: pd.DataFrame) -> list[str]:
    """``source|row`` of each held record (no personal data: where it came from, not what it says)."""
    held = quarantine[quarantine["reason_code"].eq(GATE_HELD)]
    return [f"{s}|{r}" for s, r in zip(held["source"], held["source_row"])]
