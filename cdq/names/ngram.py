"""A character n-gram language model of names (interpolated Witten-Bell smoothing).

Trained on lists of real names, it scores names it has never seen: "Kloosterhuis" or "Abacıoğlu" look like
names, "Xqzvbk" does not. The score of a name is its mean log-probability per character (including the
end of the name), mapped to 0..1 by a logistic curve calibrated at training time on names held out from
training, so that ``0.5`` sits at the :attr:`NgramModel.calibration_quantile` of unseen real names.

For speed the interpolated model is stored in backoff form: ``logp[h + c]`` for every seen (history,
character) pair and ``bow[h]`` (the log weight given to the shorter history) for every seen history;
looking a character up walks from the longest history down, which gives exactly the interpolated value.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cdq.errors import InputError
from cdq.names.knowledge import norm

BOS, EOS = "^", "$"
FORMAT = "cdq-name-ngram/1"


@dataclass
class NgramModel:
    """A trained character model; build it with :func:`train`, persist with :meth:`save`/:func:`load`."""

    order: int
    vocab_size: int
    logp: dict[str, float]
    bow: dict[str, float]
    unseen: float
    mid: float = -2.5
    scale: float = 0.25
    calibration_quantile: float = 0.002
    trained_on: int = 0
    #: Short names carry little evidence: their mean is shrunk toward the median unseen name by this many
    #: pseudo-characters ("Cox", "Yu" are not judged on one rare letter pair).
    prior_chars: float = 2.0
    _cache: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def char_logp(self, history: str, ch: str) -> float:
        """log P(ch | history) under the interpolated model."""
        acc = 0.0
        for k in range(min(len(history), self.order - 1), -1, -1):
            h = history[len(history) - k:]
            value = self.logp.get(h + ch)
            if value is not None:
                return acc + value
            acc += self.bow.get(h, 0.0)
        return acc + self.unseen

    def mean_logp(self, name: str) -> float:
        """Mean log-probability per character of a (normalised) name; ``nan`` for an empty name.

        Examples:
            >>> m = train(["jansen", "janssen", "hansen", "jan", "johan"], order=3, calibrate=False)
            >>> m.mean_logp("jansen") > m.mean_logp("xqzvk")
            True
        """
        if not name:
            return float("nan")
        n = self.order - 1
        padded = BOS * n + name + EOS
        logp, bow, unseen = self.logp, self.bow, self.unseen
        total = 0.0
        for i in range(n, len(padded)):  # char_logp inlined: this loop is the hot path
            ch, acc = padded[i], 0.0
            for k in range(n, -1, -1):
                h = padded[i - k:i]
                value = logp.get(h + ch)
                if value is not None:
                    acc += value
                    break
                acc += bow.get(h, 0.0)
            else:
                acc += unseen
            total += acc
        return total / (len(padded) - n)

    def score(self, name: str) -> float:
        """Plausibility of one name in 0..1 (cached per distinct normalised value)."""
        key = norm(name)
        cached = self._cache.get(key)
        if cached is None:
            lp = self.mean_logp(key)
            n = len(key) + 1
            lp = (n * lp + self.prior_chars * (self.mid + 6 * self.scale)) / (n + self.prior_chars)
            cached = float("nan") if lp != lp else 1.0 / (1.0 + math.exp(-(lp - self.mid) / self.scale))
            self._cache[key] = cached
        return cached

    def to_dict(self) -> dict:
        """A JSON-able dict (see :func:`from_dict`)."""
        return {"format": FORMAT, "order": self.order, "vocab_size": self.vocab_size, "unseen": self.unseen,
                "mid": self.mid, "scale": self.scale, "calibration_quantile": self.calibration_quantile,
                "trained_on": self.trained_on, "prior_chars": self.prior_chars, "logp": self.logp, "bow": self.bow}

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON (gzipped when the name ends in ``.gz``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
        return path


def from_dict(data: dict) -> NgramModel:
    """Rebuild a model from :meth:`NgramModel.to_dict` output."""
    if data.get("format") != FORMAT:
        raise ValueError(f"not a cdq name model (format {data.get('format')!r}, expected {FORMAT!r})")
    fields = ("order", "vocab_size", "logp", "bow", "unseen", "mid", "scale", "calibration_quantile", "trained_on")
    return NgramModel(**{k: data[k] for k in fields}, prior_chars=data.get("prior_chars", 2.0))


def load(path: str | Path) -> NgramModel:
    """Read a model written by :meth:`NgramModel.save`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        return from_dict(json.loads(raw.decode("utf-8")))
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read the name model ({e})",
                         hint="retrain it with `cdq names train`") from e


def _counts(names: list[str], order: int) -> tuple[dict[str, dict[str, int]], set[str]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    alphabet: set[str] = set()
    n = order - 1
    for name in names:
        padded = BOS * n + name + EOS
        alphabet.update(name)
        for i in range(n, len(padded)):
            for k in range(0, n + 1):
                counts[padded[i - k:i]][padded[i]] += 1
    return counts, alphabet


def _fit(names: list[str], order: int) -> NgramModel:
    counts, alphabet = _counts(names, order)
    vocab = len(alphabet) + 2  # letters seen, the end marker and one slot for any unseen character
    logp: dict[str, float] = {}
    bow: dict[str, float] = {}
    prob: dict[str, float] = {}
    for h in sorted(counts, key=len):  # shorter histories first: their probabilities are needed below
        following = counts[h]
        total, types = sum(following.values()), len(following)
        lam = total / (total + types)
        bow[h] = math.log(1 - lam)
        for ch, c in following.items():
            # every suffix of a seen (history, char) pair was counted too, so the lower order is known
            lower = prob[h[1:] + ch] if h else 1.0 / vocab
            p = lam * c / total + (1 - lam) * lower
            prob[h + ch] = p
            logp[h + ch] = math.log(p)
    unseen = bow[""] + math.log(1.0 / vocab)
    return NgramModel(order, vocab, logp, bow, unseen, trained_on=len(names))


def train(names: Iterable[str], *, order: int = 4, calibrate: bool = True,
          quantile: float = 0.002, seed: int = 0) -> NgramModel:
    """Train a model on real names; calibrate its 0..1 curve on a 10% hold-out of them.

    Args:
        names: real names (first names and surnames); they are normalised with :func:`~cdq.names.knowledge.norm`.
        order: n-gram order (4 suits lists of thousands of names, 3 lists of hundreds).
        calibrate: fit the logistic curve on held-out names (needs at least 50 names).
        quantile: the share of unseen real names that may score below 0.5.
    """
    distinct = sorted({k for k in (norm(n) for n in names) if k})
    model = _fit(distinct, order)
    if calibrate and len(distinct) >= 50:
        model.mid, model.scale = _calibration(distinct, order, quantile, seed)
        model.calibration_quantile = quantile
    return model


def _calibration(names: list[str], order: int, quantile: float, seed: int) -> tuple[float, float]:
    """(mid, scale): held-out names at ``quantile`` score 0.5; the median unseen name scores ~0.998."""
    shuffled = names[:]
    random.Random(seed).shuffle(shuffled)
    cut = max(len(shuffled) // 10, 5)
    held, rest = shuffled[:cut], shuffled[cut:]
    probe = _fit(rest, order)
    scores = sorted(probe.mean_logp(n) for n in held)
    low = scores[min(int(quantile * len(scores)), len(scores) - 1)]
    median = scores[len(scores) // 2]
    return low, max((median - low) / 6.0, 0.05)
