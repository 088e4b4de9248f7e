"""The statistical register model: where a draft reads as spoken Chinese, in wording no rule lists.

rules/register_model.npz (written by scripts/train_register_model.py, which says how and on what)
holds the weights of a logistic regression over the character 1–3-grams of a window of `width`
normalised characters, informal text against formal text; rules/register_model.yaml holds the
window width, the bias, the threshold and where the data came from. Every window of the text is
scored (bias + the weights of the n-grams inside it); windows above the threshold, merged where
they overlap and trimmed to the characters that pull the score up, are the spans returned.
check/register.py turns them into warnings (R5) where no rule already reports the words.

Loading is lazy (first call) and deterministic (arrays and a YAML file, no pickle, no randomness).
Scoring is vectorised: an n-gram is one 64-bit key (its code points, 21 bits each), looked up by
binary search in the sorted keys, so a 30,000-character report costs a few milliseconds.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES = Path(__file__).parent / "rules"
MODEL = RULES / "register_model.npz"
META = RULES / "register_model.yaml"
OFFICIAL = RULES / "official_prose.txt.gz"  # scripts/take_official_prose.py; official_prose.yaml lists it
EDGE = "|"  # what every character that is not a Chinese character becomes
_HAN_LO, _HAN_HI = 0x3400, 0x9FFF  # CJK Extension A and the Unified Ideographs: the characters kept
_HAN = re.compile(r"[^\u3400-\u9fff]")


def normalise(text: str) -> str:
    """One character for one: Chinese characters as they are, everything else (punctuation,
    digits, Latin letters, spaces) to | (an edge). Register is in the words: numbers and their
    formats (1.4 %, 9:33.2:51) differ between the corpora for reasons that are not register.
    Training and scoring read the same form."""
    return _HAN.sub(EDGE, text)


def gram_key(gram: str) -> int:
    """The 64-bit key of a 1–3-character n-gram: its code points, 21 bits each."""
    key = 0
    for ch in gram:
        key = (key << 21) | ord(ch)
    return key


@dataclass(frozen=True)
class Model:
    width: int
    bias: float
    threshold: float
    keys: tuple[Any, ...]  # per n (1, 2, 3): sorted int64 keys
    weights: tuple[Any, ...]  # per n: float64 weights, aligned with keys
    unigrams: Any  # the 1-gram weights as a table indexed by code point (0 … _HAN_HI)


@lru_cache(maxsize=1)
def official_prose() -> str:
    """Published official prose (the State Council's reports of 1954–1991 and the CPC's congress
    reports since 1969, ~830,000 characters): a stretch the model reads as spoken but that these use
    word for word is how official prose is written (还有很多, 方便, 房子是用来住的), not a leftover.
    The model's formal side is news, which lacks them; read when R5 first has a stretch to report."""
    with gzip.open(OFFICIAL, "rt", encoding="utf-8") as f:
        return f.read()


@lru_cache(maxsize=1)
def load_model() -> Model:
    """The model files, read once (numpy is imported here: only the register check needs it)."""
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    meta = yaml.safe_load(META.read_text(encoding="utf-8"))
    with np.load(MODEL, allow_pickle=False) as z:
        keys = tuple(z[f"keys{n}"].astype(np.int64) for n in (1, 2, 3))
        weights = tuple(z[f"weights{n}"].astype(np.float64) for n in (1, 2, 3))
    unigrams = np.zeros(_HAN_HI + 1)
    unigrams[keys[0]] = weights[0]
    return Model(int(meta["width"]), float(meta["bias"]), float(meta["threshold"]), keys, weights, unigrams)


def _codes(text: str) -> Any:
    """Code points of "|" + normalise(text) + "|" as int64, padded with | to at least the width
    (normalised here in numpy: the same mapping as normalise(), without a regex pass)."""
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    m = load_model()
    cp = np.frombuffer((EDGE + text + EDGE).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    cp[(cp < _HAN_LO) | (cp > _HAN_HI)] = ord(EDGE)
    if len(cp) < m.width:
        cp = np.concatenate((cp, np.full(m.width - len(cp), ord(EDGE), dtype=np.int64)))
    return cp


def _gram_weights(cp: Any) -> list[Any]:
    """Per n (1, 2, 3), the weight of the n-gram starting at each position (0 where unknown)."""
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    m = load_model()
    out = [m.unigrams[cp]]  # a table indexed by code point: every code point here is ≤ _HAN_HI
    for n in (2, 3):
        q = cp[: len(cp) - n + 1].copy()
        for k in range(1, n):
            q = (q << 21) | cp[k : len(cp) - n + 1 + k]
        # look up each distinct n-gram once, in order: binary search over sorted needles is several
        # times faster than over the text's order (measured: 1.5 ms against 8 ms for 30,000)
        distinct, back = np.unique(q, return_inverse=True)
        keys, weights = m.keys[n - 1], m.weights[n - 1]
        at = np.minimum(np.searchsorted(keys, distinct), len(keys) - 1)
        out.append(np.where(keys[at] == distinct, weights[at], 0.0)[back])
    return out


def window_scores(text: str) -> Any:
    """Score of the window starting at each position of "|" + normalise(text) + "|": bias + the
    weights of every 1-, 2- and 3-gram that lies inside it."""
    return _scores(_gram_weights(_codes(text)))


def _scores(per_n: list[Any]) -> Any:
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    m = load_model()
    count = len(per_n[0]) - m.width + 1
    total = np.full(count, m.bias)
    for n, w in zip((1, 2, 3), per_n, strict=True):
        c = np.concatenate(([0.0], np.cumsum(w)))
        last = m.width - n + 1  # the n-grams starting at i … i + last - 1 lie inside the window at i
        total += c[last : last + count] - c[:count]
    return total


def informal_spans(text: str, threshold: float | None = None) -> list[tuple[int, int, float]]:
    """(start, end, score) of the stretches of `text` that read as spoken: windows scoring above
    `threshold` (default: the model's), merged, trimmed to the characters whose n-grams weigh
    towards informal; score is the best window's."""
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    m = load_model()
    t = m.threshold if threshold is None else threshold
    per_n = _gram_weights(_codes(text))
    scores = _scores(per_n)
    hot = np.flatnonzero(scores > t).tolist()
    if not hot:
        return []
    w1, w2, _ = per_n
    s = EDGE + normalise(text) + EDGE
    s += EDGE * (len(w1) - len(s))  # the width padding of short texts
    out: list[tuple[int, int, float]] = []
    lo, hi, best = hot[0], hot[0] + m.width, float(scores[hot[0]])
    for i in [*hot[1:], None]:
        if i is not None and i <= hi:
            hi, best = i + m.width, max(best, float(scores[i]))
            continue
        span = _trim(s, lo, min(hi, len(s)), w1, w2)
        if span:
            out.append((span[0] - 1, span[1] - 1, round(best, 3)))  # -1: the leading pad
        if i is not None:
            lo, hi, best = i, i + m.width, float(scores[i])
    return [(a, b, v) for a, b, v in out if 0 <= a < b <= len(text)]


def span_score(text: str, start: int, end: int) -> float:
    """The model's score of text[start:end] as one window of any length: bias + the weights of the
    n-grams inside it (with the clause edge next to it, if any, as in training), scaled to the window
    width, so that a span of `width` characters scores as its window would."""
    import numpy as np  # heavy (~0.1 s): only the register model needs it, on its first use

    m = load_model()
    before = EDGE if start == 0 or not _HAN_LO <= ord(text[start - 1]) <= _HAN_HI else ""
    after = EDGE if end >= len(text) or not _HAN_LO <= ord(text[end]) <= _HAN_HI else ""
    cp = np.frombuffer((before + text[start:end] + after).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    cp[(cp < _HAN_LO) | (cp > _HAN_HI)] = ord(EDGE)
    if len(cp) < 3:
        return m.bias
    total = sum(float(w.sum()) for w in _gram_weights(cp))
    return m.bias + total * m.width / max(end - start, 1)


def _trim(s: str, lo: int, hi: int, w1: Any, w2: Any) -> tuple[int, int] | None:
    """The clause piece of [lo, hi) that pulls most towards informal, less the edge characters
    whose own weight (unigram plus the bigrams it starts and ends) pulls towards formal; None when
    fewer than two Chinese characters are left (one character alone is too little to call a
    register). One piece, not the whole merged stretch: the finding should name the spoken words."""

    def pull(i: int) -> float:
        return float(w1[i] + (w2[i] if i < len(w2) else 0.0) + (w2[i - 1] if i > 0 else 0.0))

    best: tuple[float, int, int] | None = None
    at = lo
    for piece in s[lo:hi].split(EDGE):
        a, b = at, at + len(piece)
        at = b + 1
        while a < b and pull(a) <= 0:
            a += 1
        while b > a and pull(b - 1) <= 0:
            b -= 1
        if b - a >= 2:
            total = sum(pull(i) for i in range(a, b))
            if best is None or total > best[0]:
                best = (total, a, b)
    return (best[1], best[2]) if best else None
