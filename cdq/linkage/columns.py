"""The per-column arrays of a prepared frame that every linkage stage shares (:class:`Columns`).

Factorized codes (-1 = missing), the distinct values in code order, derived keys (prefixes, name stems, first
letters), birth-date parts and digits, character counts: each computed once per prepared frame, on first use,
by whichever stage needs it first (blocking, the comparisons, the vetoes, clustering).
"""

from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from cdq.linkage.typos import character_counts, multiset_hashes

#: Factorized codes are int32 (fewer than 2**31 distinct values in any file): the comparisons gather both
#: records' codes of tens of millions of pairs, and half the bytes per code is about half the time (1M
#: records: a column's codes are 4 MB instead of 8, most of them in the cache). Arithmetic on codes that
#: could overflow (``code_l * k + code_r``) multiplies by an ``np.int64``, which widens the result.
CODE_DTYPE = np.int32


def _distinct_codes(codes: np.ndarray, uniques: np.ndarray, fn) -> np.ndarray:
    """Factorized codes (-1 = missing) of a vectorised string function applied to the distinct values only
    (``codes`` and ``uniques``: the column's factorization).

    Examples:
        >>> _distinct_codes(np.array([0, -1, 1, 2]), np.array(["ab", "ac", "bd"], dtype=object), lambda s: s.str[:1]).tolist()
        [0, -1, 0, 1]
    """
    derived = pd.factorize(fn(pd.Series(uniques, dtype="object")))[0]
    return np.r_[derived, -1][codes].astype(CODE_DTYPE)


class Columns:
    """Per-column arrays of a prepared frame: factorized codes (-1 = missing) and text.

    :meth:`of` keeps one instance per prepared frame, so the candidate pairs, the random pairs for u and the
    vetoes all reuse one factorization (at 1M records each costs a fraction of a second, per column).

    The shared instance holds its frame weakly: it lives in a process-wide cache, and a strong reference from
    there kept every frame ever compared alive (a process that compares many frames, a Spark Python worker
    or ``cdq serve``, grew with its input: 3.9 GB per Spark worker at 1M records). The frame's owner keeps
    it; when the frame goes, its instance goes too. An instance made directly holds its frame.
    """

    _cache: dict[int, tuple] = {}

    @classmethod
    def of(cls, prepared: pd.DataFrame) -> Columns:
        """The shared instance for ``prepared`` (dropped when the frame is garbage-collected)."""
        hit = cls._cache.get(id(prepared))
        if hit is not None and hit[0]() is prepared:
            return hit[1]
        return cls.share(prepared, cls(prepared))

    @staticmethod
    def share(prepared: pd.DataFrame, cols: Columns) -> Columns:
        """Make ``cols`` the shared instance :meth:`of` returns for ``prepared`` (until the frame is collected)."""
        key = id(prepared)

        def forget(_ref: object, key: int = key) -> None:
            Columns._cache.pop(key, None)

        ref = weakref.ref(prepared, forget)
        Columns._cache[key] = (ref, cols)
        cols._frame, cols._held = ref, None  # the cache must not keep the frame alive (see the class doc)
        return cols

    def __init__(self, prepared: pd.DataFrame | None):
        # ``None`` only for :class:`cdq.linkage.few.FewColumns` of rows that have no frame (yet)
        self._frame: weakref.ref[pd.DataFrame] | None = weakref.ref(prepared) if prepared is not None else None
        self._held: pd.DataFrame | None = prepared
        self._codes: dict[str, np.ndarray] = {}
        self._text: dict[str, np.ndarray] = {}
        self._date: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._any_date: tuple[np.ndarray, np.ndarray] | None = None
        # the value pairs of the chunk being compared (:meth:`pair_index`): the chunk's (l, r) and per column
        self._chunk: tuple[np.ndarray, np.ndarray] | None = None
        self._pairs: dict[str, tuple[np.ndarray, np.ndarray, np.int64]] = {}

    @property
    def prepared(self) -> pd.DataFrame:
        """The prepared frame (of the shared instance: held by whoever made it, gone once they drop it)."""
        frame = self._held if self._held is not None else self._frame() if self._frame is not None else None
        if frame is None:
            raise ReferenceError("Columns: the prepared frame was dropped; keep it while comparing its pairs")
        return frame

    def know(self, column: str, codes: np.ndarray, uniques: np.ndarray) -> None:
        """Take ``pd.factorize`` of ``column`` (codes and distinct values) from whoever made the column."""
        self._codes[column] = codes.astype(CODE_DTYPE, copy=False)
        self._text[f"{column}_distinct_or_empty"] = np.r_[uniques, np.array([""], dtype=object)].astype(object)

    def __len__(self) -> int:
        return len(self.prepared)

    def has(self, column: str) -> bool:
        """Whether the prepared records have ``column`` (``email_role`` is optional)."""
        return column in self.prepared.columns

    def values(self, column: str) -> list:
        """The values of ``column`` as a list (None, NaN or NA where missing)."""
        return self.prepared[column].tolist()

    def array(self, column: str) -> np.ndarray:
        """The values of a numeric column (``first_name_variant_id``) as its numpy array."""
        return self.prepared[column].to_numpy()

    def present(self, column: str) -> np.ndarray:
        """True where ``column`` has a value."""
        if column in self._codes:
            return self._codes[column] >= 0
        return self.prepared[column].notna().to_numpy()

    def flag(self, column: str) -> np.ndarray:
        """A yes/no column (``email_role``) as booleans, a missing value counting as no."""
        key = f"_{column}_flag"
        if key not in self._codes:
            self._codes[key] = self.prepared[column].fillna(False).to_numpy(dtype=bool)
        return self._codes[key]

    def codes(self, column: str) -> np.ndarray:
        if column not in self._codes:
            codes, uniques = pd.factorize(self.prepared[column])
            self.know(column, codes, np.asarray(uniques, dtype=object))
        return self._codes[column]

    def _factorization(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``pd.factorize`` of ``column`` (codes, distinct values) as this instance knows it: every per-record
        array derived from a column is computed per distinct value and taken back by code (factorizing a
        column of a million strings again costs ~0.1 s)."""
        return self.codes(column), self.text(f"{column}_distinct_or_empty")[:-1]

    def spaced(self, column: str) -> np.ndarray:
        """True where the value has more than one word (double surnames); once per column, per distinct value."""
        key = f"_{column}_spaced"
        if key not in self._codes:
            codes, uniques = self._factorization(column)
            spaced = pd.Series(uniques, dtype="object").str.contains(" ", na=False).to_numpy()
            self._codes[key] = np.r_[spaced, False][codes]
        return self._codes[key]

    def date_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Birth year, month and day per record as integers (-1 where missing), computed once."""
        if self._date is None:
            codes, uniques = self._factorization("birth_date")
            d = pd.Series(uniques, dtype="object")
            year, month, day = (np.r_[pd.to_numeric(d.str[a:b], errors="coerce").fillna(-1).to_numpy(np.int32), -1][codes]
                                for a, b in ((0, 4), (5, 7), (8, 10)))  # per distinct date; code -1 takes the last slot
            self._date = (year, month, day)
        return self._date

    def date_digits(self) -> np.ndarray:
        """The 8 digits of each record's full birth date YYYY-MM-DD as a (records, 8) int8 array (of -1 parts
        where there is none: never compared), computed once."""
        key = "_birth_digits"
        if key not in self._codes:
            y, m, d = self.date_parts()
            self._codes[key] = _digits(y, m, d, np.arange(len(y))).astype(np.int8)
        return self._codes[key]

    def birth_datetimes(self) -> np.ndarray:
        """Full birth dates as ``datetime64[ns]`` per record (NaT where missing or unparseable), parsed once per
        distinct date and computed once."""
        key = "_birth_datetime"
        if key not in self._text:
            codes, uniques = self._factorization("birth_date")
            parsed = pd.to_datetime(pd.Series(uniques, dtype="object"), errors="coerce", format="%Y-%m-%d")
            self._text[key] = np.r_[parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns")][codes]
        return self._text[key]

    def birth_days(self) -> np.ndarray:
        """Full birth dates as days since 1970-01-01 (float64, NaN where missing), computed once: a difference
        of two is the exact number of days between them, as the dates' own difference in days is."""
        key = "_birth_days"
        if key not in self._text:
            self._text[key] = (self.birth_datetimes() - np.datetime64(0, "ns")) / np.timedelta64(1, "D")
        return self._text[key]

    def any_date_parts(self) -> tuple[np.ndarray, np.ndarray]:
        """Birth year and month per record from a full or a partial date (-1 where unknown), computed once."""
        if self._any_date is None:
            both = self.prepared["birth_date"].fillna(self.prepared["birth_partial"])
            codes, uniques = pd.factorize(both)
            d = pd.Series(uniques, dtype="object")
            year, month = (np.r_[pd.to_numeric(d.str[a:b], errors="coerce").fillna(-1).to_numpy(np.int32), -1][codes]
                           for a, b in ((0, 4), (5, 7)))
            self._any_date = (year, month)
        return self._any_date

    def prefix_codes(self, column: str, k: int) -> np.ndarray:
        """Factorized first ``k`` characters of a column (-1 = missing), e.g. the 4 digits of a postcode."""
        return self.derived_codes(column, f"prefix{k}", lambda s: s.str[:k])

    def name_stem(self, column: str) -> np.ndarray:
        """Factorized first 3 letters of names of at least 3 letters (-1 otherwise): a short form keeps them."""
        return self.derived_codes(column, "stem3", lambda v: v.where(v.str.len() >= 3).str[:3])

    def derived_codes(self, column: str, name: str, fn) -> np.ndarray:
        """Factorized codes of a vectorised function ``fn`` of the distinct values of ``column``, cached as ``name``."""
        key = f"_{column}_{name}"
        if key not in self._codes:
            self._codes[key] = _distinct_codes(*self._factorization(column), fn)
        return self._codes[key]

    def first_letter(self, column: str) -> np.ndarray:
        """The first character per record as a code point (-1 = missing): comparable ACROSS columns."""
        key = f"_{column}_ord"
        if key not in self._codes:
            codes, uniques = self._factorization(column)
            first = np.array([ord(v[0]) if v else -1 for v in uniques], dtype=np.int64)
            self._codes[key] = np.r_[first, -1][codes]
        return self._codes[key]

    def pair_index(self, column: str, l: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.int64]:
        """``(which, uniques, k)``: the pairs' value pairs of ``column`` factorized (``uniques`` are
        ``code_l * k + code_r``, ``which`` each pair's position in them), once per column and chunk.

        Several levels of one comparison each measure a subset of the chunk's pairs (Jaro-Winkler, then the
        edit distance where that is low, then ...): one hash factorization serves them all.
        """
        if self._chunk is None or self._chunk[0] is not l or self._chunk[1] is not r:
            self._chunk, self._pairs = (l, r), {}
        if column not in self._pairs:
            codes = self.codes(column)
            k = np.int64(len(self.text(f"{column}_distinct_or_empty")))
            which, uniques = pd.factorize(codes[l] * k + codes[r])
            self._pairs[column] = (which, uniques, k)
        return self._pairs[column]

    def character_counts(self, column: str) -> np.ndarray:
        """Letters and digits counted per distinct value of ``column`` (rows as ``<column>_distinct_or_empty``,
        the last one, missing, all zero), computed once."""
        key = f"_{column}_characters"
        if key not in self._codes:
            self._codes[key] = character_counts(self.text(f"{column}_distinct_or_empty"))
        return self._codes[key]

    def multiset_hashes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(length, multiset hash) per row of :meth:`character_counts` (see cdq.linkage.typos), computed once."""
        key = f"_{column}_multiset"
        if key not in self._codes:
            self._codes[f"{key}_length"], self._codes[key] = multiset_hashes(self.character_counts(column))
        return self._codes[f"{key}_length"], self._codes[key]

    def has_pairs(self, column: str, l: np.ndarray, r: np.ndarray) -> bool:
        """Whether :meth:`pair_index` already holds ``column`` for this chunk."""
        return self._chunk is not None and self._chunk[0] is l and self._chunk[1] is r and column in self._pairs

    def forget_pairs(self) -> None:
        """Drop the chunk's value pairs (:meth:`pair_index`)."""
        self._chunk, self._pairs = None, {}

    def text(self, column: str) -> np.ndarray:
        """Values as an object array ("" = missing); ``<column>_distinct_or_empty``: the distinct values in code
        order, then "" (code -1, missing, indexes that last slot)."""
        if column.endswith("_distinct_or_empty") and column not in self._text:
            name = column[: -len("_distinct_or_empty")]
            codes, uniques = pd.factorize(self.prepared[name])
            self.know(name, self._codes.get(name, codes), np.asarray(uniques, dtype=object))
        if column not in self._text:
            # the distinct values taken back by code (code -1, missing, takes the last slot: "")
            self._text[column] = self.text(f"{column}_distinct_or_empty")[self.codes(column)]
        return self._text[column]


def columns_of(prepared: pd.DataFrame | Columns) -> Columns:
    """The :class:`Columns` of prepared records: the instance given, or the shared one of a prepared frame."""
    return prepared if isinstance(prepared, Columns) else Columns.of(prepared)


def _digits(y, m, d, rows) -> np.ndarray:
    """The 8 digits of YYYY-MM-DD per row, as a (rows, 8) array."""
    parts = [(y[rows], 4), (m[rows], 2), (d[rows], 2)]
    return np.stack([(p // 10 ** k) % 10 for p, width in parts for k in range(width - 1, -1, -1)], axis=1)
