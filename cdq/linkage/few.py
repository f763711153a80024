"""Comparing ONE record (or a few) with a few hundred candidates: :class:`FewColumns`, the per-column arrays of
:class:`cdq.linkage.columns.Columns` without pandas' per-call set-up.

Batch linkage factorizes each column once over a frame of up to millions of records, where pandas' set-up
per call (~50-300 µs: a Series, an Index, dtype checks) is nothing. The service compares one record with
its candidates, a frame of a few hundred rows, a few dozen of those calls per request: there the set-up is
most of the cost. :class:`FewColumns` gives the very same arrays (codes in order of first appearance, -1
for a missing value, as ``pd.factorize``) from plain Python over the values, and the derived codes that
the comparisons name (``stem3``, ``end3``, ``plain2``, ``prefix<k>``, ``long<k>``) from the same string
operations per distinct value; any other derived code goes through :class:`Columns` itself.

:func:`use_few_columns` makes :func:`cdq.linkage.compare.compare` and :func:`cdq.linkage.vetoes.vetoes` use it
for one prepared frame. ``tests/test_linkage_few.py`` checks every array against :class:`Columns`' on real
and synthetic records, and :mod:`tests.test_leads_index` the scores against batch linkage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from cdq.linkage.columns import Columns
from cdq.linkage.measures import EDGE, _plain

__all__ = ["FewColumns", "use_few_columns", "FEW_ROWS"]

#: Frames up to this many rows use :class:`FewColumns` (above it pandas' vectorised calls win).
FEW_ROWS = 5_000


def _missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _head(k: int) -> Callable[[str], str | None]:
    return lambda v: v[:k]


def _long(k: int) -> Callable[[str], str | None]:
    return lambda v: v if len(v) >= k else None


#: The derived codes :class:`Columns` is asked for by name, as one function per (non-missing) value that
#: gives the value's derived text, or None (missing). ``prefix<k>`` and ``long<k>`` take any ``k``.
_DERIVED: dict[str, Callable[[str], str | None]] = {
    "stem3": lambda v: v[:3] if len(v) >= 3 else None,
    "end3": lambda v: v[-3:] if len(v) >= 3 else None,
    "plain2": lambda v: _plain(v)[:2],
    # cdq.linkage.measures.within_one_edit: the first and last EDGE characters of values of 2 * EDGE + 2 or more
    f"edge_start{EDGE}": lambda v: v[:EDGE] if len(v) >= 2 * EDGE + 2 else None,
    f"edge_end{EDGE}": lambda v: v[-EDGE:] if len(v) >= 2 * EDGE + 2 else None,
}
_PARAMETRIC = {"prefix": _head, "long": _long}
_PARAMETER = re.compile(r"(prefix|long)(\d+)")


def _derived(name: str) -> Callable[[str], str | None] | None:
    fn = _DERIVED.get(name)
    if fn is None and (m := _PARAMETER.fullmatch(name)):
        fn = _PARAMETRIC[m.group(1)](int(m.group(2)))
    return fn


#: Value types that are never missing: a column of only these needs no per-value missing check.
_PRESENT_TYPES = frozenset({str, int, bool})


def _factorize(values: list) -> tuple[np.ndarray, list]:
    """``pd.factorize`` of a short list: codes in order of first appearance, -1 for a missing value.

    Distinct values, their numbers and the codes come from C-level loops (``dict.fromkeys``, ``map``); only
    a column that holds something other than text or numbers is checked for missing values, once per
    distinct value.

    Examples:
        >>> codes, uniques = _factorize(["b", None, "a", "b", float("nan")])
        >>> codes.tolist(), uniques
        ([0, -1, 1, 0, -1], ['b', 'a'])
    """
    distinct = dict.fromkeys(values)
    seen = len(distinct)
    distinct.pop(None, None)  # the usual missing value, without a look at each distinct value
    if not set(map(type, distinct)) <= _PRESENT_TYPES:
        for gone in [u for u in distinct if _missing(u)]:
            del distinct[gone]
    uniques = list(distinct)
    number = dict(zip(uniques, range(len(uniques))))
    if len(uniques) == seen:  # nothing missing
        return np.fromiter(map(number.__getitem__, values), dtype=np.int64, count=len(values)), uniques
    return np.fromiter(map(number.get, values, repeat(-1)), dtype=np.int64, count=len(values)), uniques


#: A full birth date as ``prepare`` writes it: numpy parses these as pandas does (other texts go to pandas).
_ISO_DATE = re.compile(r"(1[7-9]|2[01])\d\d-\d\d-\d\d")


def _datetimes(dates: list) -> np.ndarray:
    """``pd.to_datetime(dates, errors="coerce", format="%Y-%m-%d")`` as ``datetime64[ns]`` (NaT where
    unparseable): ISO dates of the years 1700-2199 by numpy, each, anything else by pandas."""
    out = np.full(len(dates), np.datetime64("NaT", "ns"))
    other = []
    for k, d in enumerate(dates):
        if isinstance(d, str) and _ISO_DATE.fullmatch(d):
            try:
                out[k] = np.datetime64(d, "ns")
            except ValueError:  # "1980-02-30": no such day
                pass
        else:
            other.append(k)
    if other:
        parsed = pd.to_datetime(pd.Series([dates[k] for k in other], dtype="object"), errors="coerce", format="%Y-%m-%d")
        out[other] = parsed.to_numpy(dtype="datetime64[ns]")
    return out


def _int_or_missing(text: str) -> int:
    """``pd.to_numeric(..., errors="coerce").fillna(-1)`` of a slice of an ISO date: digits, or -1."""
    return int(text) if text.isascii() and text.isdigit() else -1


class FewColumns(Columns):
    """:class:`Columns` of a few prepared records, from plain Python over their values (see module doc).

    Of a prepared frame (``FewColumns(frame)``), or of prepared rows that never become one
    (:meth:`of_rows`: the service's path, without pandas' per-column set-up).
    """

    def __init__(self, prepared: pd.DataFrame | None = None, values: dict[str, list] | None = None):
        super().__init__(prepared)  # no frame: made only if a fallback needs one
        self._values: dict[str, list] = dict(values or {})
        self._rows = len(prepared) if prepared is not None else len(next(iter(self._values.values()), []))
        self._factors: dict[str, tuple[np.ndarray, list]] = {}

    @classmethod
    def of_rows(cls, columns: list[str], rows: list[list[Any]]) -> FewColumns:
        """The columns of prepared ``rows`` (lists of values in ``columns``' order, None where missing)."""
        values = [list(v) for v in zip(*rows)] if rows else [[] for _ in columns]
        return cls(values=dict(zip(columns, values)))

    @property
    def prepared(self) -> pd.DataFrame:
        """The records as a prepared frame: the frame given or shared, or (rows only) made on first use, by a
        derivation this class does not know, and then held."""
        if self._held is None and self._frame is None:
            self._held = pd.DataFrame(self._values)
        return super().prepared

    def __len__(self) -> int:
        return self._rows

    def has(self, column: str) -> bool:
        has_frame = self._held is not None or self._frame is not None
        return column in self._values or (has_frame and column in self.prepared.columns)

    def values(self, column: str) -> list:
        if column not in self._values:
            self._values[column] = self.prepared[column].tolist()
        return self._values[column]

    def array(self, column: str) -> np.ndarray:
        return np.asarray(self.values(column))

    def present(self, column: str) -> np.ndarray:
        return self._factors_of(column)[0] >= 0

    def flag(self, column: str) -> np.ndarray:
        key = f"_{column}_flag"
        if key not in self._codes:
            values = self.values(column)
            if set(map(type, values)) <= {bool}:
                self._codes[key] = np.array(values, dtype=bool)
            else:
                self._codes[key] = np.fromiter((False if _missing(v) else bool(v) for v in values), dtype=bool,
                                               count=self._rows)
        return self._codes[key]

    def birth_datetimes(self) -> np.ndarray:
        key = "_birth_datetime"
        if key not in self._text:
            codes, uniques = self._factors_of("birth_date")
            self._text[key] = np.r_[_datetimes(uniques), np.datetime64("NaT", "ns")][codes]
        return self._text[key]

    def _factors_of(self, column: str) -> tuple[np.ndarray, list]:
        if column not in self._factors:
            self._factors[column] = _factorize(self.values(column))
        return self._factors[column]

    def _per_distinct(self, column: str, fn: Callable[[Any], object], missing: object, dtype) -> np.ndarray:
        """``fn`` of each distinct value of ``column``, per record (``missing`` where the value is)."""
        codes, uniques = self._factors_of(column)
        return np.asarray([fn(v) for v in uniques] + [missing], dtype=dtype)[codes]

    def codes(self, column: str) -> np.ndarray:
        if column not in self._codes:
            self._codes[column] = self._factors_of(column)[0]
        return self._codes[column]

    def spaced(self, column: str) -> np.ndarray:
        key = f"_{column}_spaced"
        if key not in self._codes:
            self._codes[key] = self._per_distinct(column, lambda v: " " in v, False, bool)
        return self._codes[key]

    def date_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._date is None:
            self._date = self._parts("birth_date", ((0, 4), (5, 7), (8, 10)))  # type: ignore[assignment]
        return self._date  # type: ignore[return-value]

    def any_date_parts(self) -> tuple[np.ndarray, np.ndarray]:
        if self._any_date is None:
            full, partial = self.values("birth_date"), self.values("birth_partial")
            both = [p if _missing(f) else f for f, p in zip(full, partial)]
            self._factors["_any_birth_date"] = _factorize(both)
            self._any_date = self._parts("_any_birth_date", ((0, 4), (5, 7)))  # type: ignore[assignment]
        return self._any_date  # type: ignore[return-value]

    def _parts(self, column: str, spans: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, ...]:
        codes, uniques = self._factors_of(column)
        return tuple(np.asarray([_int_or_missing(str(d)[a:b]) for d in uniques] + [-1], dtype=np.int32)[codes]
                     for a, b in spans)

    def derived_codes(self, column: str, name: str, fn) -> np.ndarray:
        key = f"_{column}_{name}"
        if key not in self._codes:
            derive = _derived(name)
            if derive is None:  # a derivation this class does not know: pandas', as in batch
                return super().derived_codes(column, name, fn)
            codes, uniques = self._factors_of(column)
            derived, _ = _factorize([derive(v) for v in uniques])
            self._codes[key] = np.r_[derived, -1][codes].astype(np.int64)
        return self._codes[key]

    def first_letter(self, column: str) -> np.ndarray:
        key = f"_{column}_ord"
        if key not in self._codes:
            self._codes[key] = self._per_distinct(column, lambda v: ord(v[0]) if v else -1, -1, np.int64)
        return self._codes[key]

    def text(self, column: str) -> np.ndarray:
        if column not in self._text:
            suffix = "_distinct_or_empty"
            if column.endswith(suffix):
                values = [*self._factors_of(column[: -len(suffix)])[1], ""]
            else:
                values = ["" if _missing(v) else v for v in self.values(column)]
            out = np.empty(len(values), dtype=object)
            out[:] = values
            self._text[column] = out
        return self._text[column]


def use_few_columns(prepared: pd.DataFrame) -> Columns:
    """Make the comparisons and vetoes of ``prepared`` use :class:`FewColumns` (when it has at most
    :data:`FEW_ROWS` rows); returns the instance they will use."""
    if len(prepared) > FEW_ROWS:
        return Columns.of(prepared)
    return Columns.share(prepared, FewColumns(prepared))
