"""Scores of a clustering against the truth: pairwise precision/recall/F1 and B-cubed.

Only records present in both frames are scored; the counts of records missing on either side are reported.
"""

from __future__ import annotations

import pandas as pd


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(predicted: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise and B-cubed scores of two cluster labelings indexed by record id.

    Args:
        predicted: cluster label per record id (index).
        truth: true entity label per record id (index).

    Examples:
        >>> p = pd.Series(["a", "a", "b", "c"], index=[1, 2, 3, 4])
        >>> t = pd.Series(["x", "x", "x", "y"], index=[1, 2, 3, 4])
        >>> s = evaluate(p, t)
        >>> s["precision"], round(s["recall"], 3), round(s["f1"], 3)
        (1.0, 0.333, 0.5)
    """
    common = predicted.index.intersection(truth.index)
    frame = pd.DataFrame({"p": predicted.loc[common].astype(str).values, "t": truth.loc[common].astype(str).values})
    both = _pairs(frame.groupby(["p", "t"]).size())
    pred_pairs = _pairs(frame.groupby("p").size())
    true_pairs = _pairs(frame.groupby("t").size())
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    cell = frame.groupby(["p", "t"])["p"].transform("size")
    p_size = frame.groupby("p")["p"].transform("size")
    t_size = frame.groupby("t")["t"].transform("size")
    b3_p = float((cell / p_size).mean()) if len(frame) else 1.0
    b3_r = float((cell / t_size).mean()) if len(frame) else 1.0
    return {
        "records": len(frame), "missing_in_predicted": int(len(truth.index.difference(predicted.index))),
        "missing_in_truth": int(len(predicted.index.difference(truth.index))),
        "true_pairs": true_pairs, "predicted_pairs": pred_pairs, "correct_pairs": both,
        "precision": precision, "recall": recall, "f1": _f1(precision, recall),
        "bcubed_precision": b3_p, "bcubed_recall": b3_r, "bcubed_f1": _f1(b3_p, b3_r),
    }
