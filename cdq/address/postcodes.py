"""The one Dutch postcode rule (``reference_data/postcodes.yaml``): canonical form, validity, display.

Used by normalization (``cdq.normalize.addresses``), address completion (``cdq.address.keys``) and printouts, so
"1234 SS" or "1234-ab" get the same verdict everywhere. Vectorised over a Series (Arrow string kernels).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from cdq.config import load_model
from cdq.resources import resource


class PostcodeRules(BaseModel):
    """The authoring form of ``postcodes.yaml``."""

    model_config = ConfigDict(extra="forbid")
    pattern: str
    forbidden_letters: list[str]
    separators: str


@lru_cache(maxsize=1)
def rules() -> PostcodeRules:
    """The bundled postcode rules (validated once)."""
    return load_model(resource("reference_data", "postcodes.yaml"), PostcodeRules)


def _text(values: pd.Series) -> pd.Series:
    try:
        return values.astype("string[pyarrow]")
    except (TypeError, ValueError, ArithmeticError):
        text = values.astype(object).map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        return text.astype("string[pyarrow]")


def _squashed(values: pd.Series) -> pd.Series:
    """Arrow text upper-cased, separators dropped (empty text stays empty)."""
    return _text(values).str.upper().str.replace(rules().separators, "", regex=True)


def squash(values: pd.Series) -> pd.Series:
    """Upper-case, separators dropped; ``None`` where empty (object dtype). Validity: :func:`is_valid`.

    Examples:
        >>> squash(pd.Series([" 1234 ab", None, "", "1049-ff", "1049.FF"])).tolist()
        ['1234AB', None, None, '1049FF', '1049FF']
    """
    text = _squashed(values)
    out = text.astype(object)
    return out.where(text.notna() & (text != ""), None)


def is_valid(squashed: pd.Series) -> pd.Series:
    """True where a squashed postcode follows the pattern and its letters are not a forbidden pair.

    Examples:
        >>> is_valid(pd.Series(["1234AB", "0123AB", "1234SS", None, "1234ABC"])).tolist()
        [True, False, False, False, False]
    """
    return pd.Series(_valid(_text(squashed)), index=squashed.index)


def _valid(text: pd.Series) -> np.ndarray:
    """:func:`is_valid` over Arrow text that is already squashed (empty text is not valid)."""
    ok = text.str.match(rules().pattern) & ~text.str.slice(4).isin(rules().forbidden_letters)
    return ok.fillna(False).to_numpy(dtype=bool)


def display(squashed: pd.Series) -> pd.Series:
    """``1234 AB`` for a valid squashed postcode, ``None`` otherwise.

    Examples:
        >>> display(pd.Series(["1234AB", "1234SS"])).tolist()
        ['1234 AB', None]
    """
    valid = is_valid(squashed).to_numpy()
    text = squashed.astype(object)
    spaced = np.array([f"{v[:4]} {v[4:]}" if ok else None for v, ok in zip(text, valid)], dtype=object)
    return pd.Series(spaced, index=squashed.index, dtype=object)


def canonical(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``(canonical, valid)``: valid postcodes as "1234 AB", others unchanged (normalization keeps them).

    Examples:
        >>> pc, ok = canonical(pd.Series(["1234ab", "1234-AB", "0123 AB", "1234 SS", None]))
        >>> pc.tolist(), ok.tolist()
        (['1234 AB', '1234 AB', '0123 AB', '1234 SS', None], [True, True, False, False, False])
    """
    # one pass in Arrow's kernels: squash, check, space (the Series functions above convert at every step)
    text = _squashed(values)
    valid = _valid(text)
    spaced = (text.str.slice(0, 4) + " " + text.str.slice(4)).to_numpy(dtype=object)
    out = np.where(valid, spaced, values.to_numpy(dtype=object))
    return pd.Series(out, index=values.index, dtype=object), pd.Series(valid, index=values.index)
