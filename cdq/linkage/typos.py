"""Typing errors that edit distances miss: the same characters in another order.

Jaro-Winkler and the edit distance see "Sofia" / "foSia", "Noah" / "hNoaN" or "Birmingham" / "Birgmhniam" as
different strings, and a different first name vetoes a pair. Letters keyed in the wrong order (and a key
struck twice) keep the letters themselves: compared as multisets they agree. Two people's names or
addresses being each other's anagram is rare; "Lisa" / "Elias" differ by a letter that is not a repeat,
"Karin" / "Irina" by a letter replaced, so neither is a scramble.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

#: Letters and digits a scramble is counted over (anything else, "." "@" "-", is ignored).
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}
#: The alphabet position of each byte value (-1: not counted).
_BYTE_SLOT = np.full(256, -1, dtype=np.int64)
_BYTE_SLOT[[ord(ch) for ch in _ALPHABET]] = np.arange(len(_ALPHABET))


def sorted_characters(value: object) -> str | None:
    """The letters and digits of a value in alphabetical order: a blocking key scrambles share.

    Examples:
        >>> sorted_characters("k.t50@hernandez.com") == sorted_characters("k.t50eherand@z.ncom")
        True
    """
    key = "".join(sorted(ch for ch in (value if isinstance(value, str) else "") if ch in _INDEX))
    return key or None


def character_counts(values: np.ndarray) -> np.ndarray:
    """Counts of each letter and digit per value, as a (len(values), 36) array ("" or None: all zero).

    Counted over the values' UTF-8 bytes at once (an Arrow string array's data buffer): every letter and digit
    counted is ASCII, one byte, and no byte of a multi-byte character is one of them.

    Examples:
        >>> character_counts(np.array(["aab", "b.a"], dtype=object))[:, :3].tolist()
        [[2, 1, 0], [1, 1, 0]]
        >>> character_counts(np.array(["zoë9", None, ""], dtype=object))[:, [4, 25, 35]].tolist()
        [[0, 1, 1], [0, 0, 0], [0, 0, 0]]
    """
    k = len(_ALPHABET)
    text = pa.array(np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset: text.offset + len(text) + 1]
    data = text.buffers()[2]
    raw = (np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8))
    raw = raw[offsets[0]: offsets[-1]]
    slot = _BYTE_SLOT[raw]
    row = np.repeat(np.arange(len(text), dtype=np.int64), np.diff(offsets))
    keep = slot >= 0
    counts = np.bincount(row[keep] * k + slot[keep], minlength=len(text) * k)
    return counts.reshape(len(text), k).astype(np.int16)


def scrambled_counts(a: np.ndarray, b: np.ndarray, min_length: int) -> np.ndarray:
    """Rows of character counts that are one value scrambled: the same counts, or one character more on one
    side that the longer value already holds (a key struck twice), both at least ``min_length`` long.

    Examples:
        >>> c = character_counts(np.array(["sofia", "fosia", "noah", "hnoan", "lisa", "elias"], dtype=object))
        >>> scrambled_counts(c[[0, 2, 4]], c[[1, 3, 5]], 3).tolist()
        [True, True, False]
    """
    diff = a.astype(np.int32) - b
    off = np.abs(diff).sum(axis=1)
    at = np.abs(diff).argmax(axis=1)
    rows = np.arange(len(a))
    doubled = (off == 1) & (np.maximum(a[rows, at], b[rows, at]) >= 2)
    long_enough = (a.sum(axis=1) >= min_length) & (b.sum(axis=1) >= min_length)
    return ((off == 0) | doubled) & long_enough


def scrambled_values(a: np.ndarray, b: np.ndarray, min_length: int = 3) -> np.ndarray:
    """Per pair of values (two arrays of str, "" = missing): one is the other scrambled (:func:`scrambled_counts`),
    counted only where the lengths allow it.

    Examples:
        >>> scrambled_values(np.array(["sofia", "karin", ""], dtype=object), np.array(["fosia", "irina", "x"], dtype=object)).tolist()
        [True, False, False]
    """
    out = np.zeros(len(a), dtype=bool)
    if not len(a):
        return out
    counts = character_counts(np.r_[np.asarray(a, dtype=object), np.asarray(b, dtype=object)])
    ca, cb = counts[: len(a)], counts[len(a):]
    length = counts.sum(axis=1, dtype=np.int64)
    la, lb = length[: len(a)], length[len(a):]
    # a scramble keeps the length (a doubled key adds one): only those pairs are compared count by count
    maybe = np.flatnonzero((np.abs(la - lb) <= 1) & (la >= min_length) & (lb >= min_length))
    out[maybe] = scrambled_counts(ca[maybe], cb[maybe], min_length)
    return out


def scrambled(codes: np.ndarray, distinct: np.ndarray, l: np.ndarray, r: np.ndarray, mask: np.ndarray,
              min_length: int = 3) -> np.ndarray:
    """Per pair (where ``mask``): the two values are one another scrambled (:func:`scrambled_counts`).

    Args:
        codes: factorized value per record (-1 = missing).
        distinct: the distinct values in code order.
        l, r: the pairs' record positions.
        mask: the pairs to test (others are False).
        min_length: letters and digits each value needs at least (2-letter names scramble into each other).

    Examples:
        >>> codes, distinct = pd.factorize(pd.Series(["sofia", "fosia", "karin", "irina"]))
        >>> scrambled(codes, distinct.to_numpy(object), np.array([0, 2]), np.array([1, 3]),
        ...           np.array([True, True])).tolist()
        [True, False]
    """
    out = np.zeros(len(l), dtype=bool)
    idx = np.flatnonzero(mask & (codes[l] >= 0) & (codes[r] >= 0))
    if len(idx):
        which, pairs = pd.factorize(codes[l[idx]] * np.int64(len(distinct)) + codes[r[idx]])
        left, right = pairs // len(distinct), pairs % len(distinct)
        used, back = np.unique(np.r_[left, right], return_inverse=True)
        counts = character_counts(np.asarray(distinct, dtype=object)[used])
        a, b = back[: len(left)], back[len(left):]
        # a scramble keeps the length (a doubled key adds one): only those pairs of values are counted through
        length = counts.sum(axis=1, dtype=np.int64)
        maybe = np.flatnonzero((np.abs(length[a] - length[b]) <= 1) & (length[a] >= min_length)
                               & (length[b] >= min_length))
        hit = np.zeros(len(pairs), dtype=bool)
        hit[maybe] = scrambled_counts(counts[a[maybe]], counts[b[maybe]], min_length)
        out[idx] = hit[which]
    return out
