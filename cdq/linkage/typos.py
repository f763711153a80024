"""Typing errors that edit distances miss: the same characters in another order.

Jaro-Winkler and the edit distance see "Sofia" / "foSia", "Noah" / "hNoaN" or "Birmingham" / "Birgmhniam" as
different strings, and a different first name vetoes a pair. Letters keyed in the wrong order (and a key
struck twice) keep the letters themselves: compared as multisets they agree. Two people's names or
addresses being each other's anagram is rare; "Lisa" / "Elias" differ by a letter that is not a repeat,
"Karin" / "Irina" by a letter replaced, so neither is a scramble.
"""

from __future__ import annotations

import numpy as np
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
    values = np.asarray(values, dtype=object)
    out = np.zeros((len(values), len(_ALPHABET)), dtype=np.int16)
    for start in range(0, len(values), _COUNT_BLOCK):  # bounded temporaries on a million e-mail addresses
        out[start:start + _COUNT_BLOCK] = _counts_of(values[start:start + _COUNT_BLOCK])
    return out


#: Values counted at once by :func:`character_counts`.
_COUNT_BLOCK = 65_536


def _counts_of(values: np.ndarray) -> np.ndarray:
    k = len(_ALPHABET)
    text = pa.array(values, type=pa.large_string(), from_pandas=True)
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


def scrambled_rows(counts: np.ndarray, a: np.ndarray, b: np.ndarray, min_length: int = 3) -> np.ndarray:
    """Per pair of rows ``a``, ``b`` of ``counts`` (:func:`character_counts` of distinct values): one value is the
    other scrambled (:func:`scrambled_counts`), counted through only where the lengths allow it.

    Examples:
        >>> c = character_counts(np.array(["sofia", "fosia", "karin", "irina", ""], dtype=object))
        >>> scrambled_rows(c, np.array([0, 2, 4]), np.array([1, 3, 0])).tolist()
        [True, False, False]
    """
    out = np.zeros(len(a), dtype=bool)
    length = counts.sum(axis=1, dtype=np.int64)
    # a scramble keeps the length (a doubled key adds one): only those pairs are compared count by count
    maybe = np.flatnonzero((np.abs(length[a] - length[b]) <= 1) & (length[a] >= min_length)
                           & (length[b] >= min_length))
    out[maybe] = scrambled_counts(counts[a[maybe]], counts[b[maybe]], min_length)
    return out


#: The alphabet in code point order (digits first), as :func:`sorted_characters` orders a value's characters.
_SORTED = sorted(_ALPHABET)
_SORTED_SLOTS = np.array([_ALPHABET.index(ch) for ch in _SORTED])
_SORTED_BYTES = np.frombuffer("".join(_SORTED).encode("ascii"), dtype=np.uint8)


def sorted_characters_of(values: np.ndarray) -> np.ndarray:
    """:func:`sorted_characters` of every value (an object array of str / None), from their character counts:
    the sorted characters are each character of the alphabet, in order, as often as the value holds it.

    Examples:
        >>> sorted_characters_of(np.array(["k.t50@hernandez.com", "..", None], dtype=object)).tolist()
        ['05acdeehkmnnortz', None, None]
    """
    values = np.asarray(values, dtype=object)
    out = np.empty(len(values), dtype=object)
    for start in range(0, len(values), _COUNT_BLOCK):
        counts = _counts_of(values[start:start + _COUNT_BLOCK])[:, _SORTED_SLOTS].astype(np.int64)
        lengths = counts.sum(axis=1)
        data = np.repeat(np.tile(_SORTED_BYTES, len(counts)), counts.ravel())
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        text = pa.LargeStringArray.from_buffers(len(counts), pa.py_buffer(offsets), pa.py_buffer(data.tobytes()))
        block = text.to_numpy(zero_copy_only=False).astype(object)
        block[lengths == 0] = None
        out[start:start + len(block)] = block
    return out


#: One random 64-bit number per character of the alphabet: a value's multiset hash is the sum (mod 2**64) of
#: its characters' numbers, so a scrambled value has the same hash and one more key adds that key's number.
_CHARACTER_HASH = np.random.default_rng(20).integers(0, 2**63, len(_ALPHABET), dtype=np.int64).astype(np.uint64)
_SORTED_HASH = np.sort(_CHARACTER_HASH)


def multiset_hashes(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(length, hash) per row of character counts: what :func:`maybe_scrambled` tests pairs on."""
    length = counts.sum(axis=1, dtype=np.int64)
    hashes = np.zeros(len(counts), dtype=np.uint64)
    for j in range(counts.shape[1]):  # wrapping uint64 sums (a matrix product would go through floats)
        hashes += counts[:, j].astype(np.uint64) * _CHARACTER_HASH[j]
    return length, hashes


def maybe_scrambled(la: np.ndarray, ha: np.ndarray, lb: np.ndarray, hb: np.ndarray, min_length: int) -> np.ndarray:
    """Pairs that may be one value scrambled (a necessary condition of :func:`scrambled_counts`): both at least
    ``min_length`` long, and the same multiset hash at the same length, or one length more by exactly one
    character's number. Everything :func:`scrambled_counts` accepts passes; almost nothing else does.

    Examples:
        >>> c = character_counts(np.array(["sofia", "fosia", "lisa", "elias", "karin", "irina"], dtype=object))
        >>> length, hashes = multiset_hashes(c)
        >>> a, b = np.array([0, 2, 4]), np.array([1, 3, 5])
        >>> maybe_scrambled(length[a], hashes[a], length[b], hashes[b], 3).tolist()  # "elias": one more, not a repeat
        [True, True, False]
    """
    ok = (la >= min_length) & (lb >= min_length)
    same = ok & (la == lb) & (ha == hb)
    near = np.flatnonzero(ok & (np.abs(la - lb) == 1))  # the character lookup only for lengths one apart
    la, ha, lb, hb = la[near], ha[near], lb[near], hb[near]
    longer = np.where(la >= lb, ha - hb, hb - ha)  # uint64: wraps as the sums did
    at = np.minimum(np.searchsorted(_SORTED_HASH, longer), len(_SORTED_HASH) - 1)
    same[near] |= _SORTED_HASH[at] == longer
    return same

