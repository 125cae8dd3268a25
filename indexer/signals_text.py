"""Near-identical ad texts: template ads placed by one hand with another name or number.

Texts are compared as sets of word shingles (three words in a row, folded, numbers
dropped) by their Jaccard similarity. Comparing every pair is quadratic, so MinHash
with banding (locality-sensitive hashing) proposes candidate pairs and each candidate
is then checked exactly: a reported pair is always truly similar; a similar pair is
missed only with the tiny probability computed at ``BANDS`` below.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

SHINGLE_WORDS = 3
"""Three words in a row: long enough that shared shingles mean shared wording, short
enough that one changed word (a name, a city) spoils only three shingles."""

MIN_JACCARD = 0.7
"""Share of shingles two texts must have in common. A 40-word template with its name,
city and price changed keeps about 0.7-0.8; two different ads that share the stock
phrases of a site ("discreet", "call me") stay well below 0.3."""

BANDS, ROWS = 20, 4
"""80 MinHash values in 20 bands of 4: a pair at Jaccard 0.7 becomes a candidate with
probability 1 - (1 - 0.7^4)^20 ≈ 0.999, a pair at 0.3 with only about 0.15 (and is
then rejected by the exact check)."""

MAX_BUCKET = 500
"""A band bucket holding more texts than this is boilerplate shared by everyone; its
members are compared with its first member only, so it cannot cost n² comparisons."""

_MASK = np.uint64((1 << 61) - 1)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio): mixes bits
_RNG = np.random.default_rng(20261122)  # fixed seed: the same texts give the same groups
_A = _RNG.integers(1, 1 << 61, size=BANDS * ROWS, dtype=np.uint64)
_B = _RNG.integers(0, 1 << 61, size=BANDS * ROWS, dtype=np.uint64)


def shingles(folded: str) -> frozenset[int]:
    """64-bit hashes of the word shingles of an already folded text: each word hashed
    once (CRC-32, deterministic across runs), neighbours mixed by wrapping multiplies."""
    words = folded.split()
    if len(words) < SHINGLE_WORDS:
        return frozenset()
    ids = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    n = len(words) - SHINGLE_WORDS + 1
    mixed = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE_WORDS):
            mixed = (mixed ^ ids[k:k + n]) * _MIX
    return frozenset(mixed.tolist())


def signature(sh: frozenset[int]) -> np.ndarray:
    """MinHash signature: per hash function, the least hashed shingle."""
    values = np.fromiter(sh, dtype=np.uint64, count=len(sh))
    with np.errstate(over="ignore"):  # wrapping multiply is the hash, on purpose
        hashed = (values[:, None] * _A[None, :] + _B[None, :]) & _MASK
    return hashed.min(axis=0)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def candidate_buckets(sets: list[frozenset[int]]) -> list[list[int]]:
    """Indices that share all ROWS MinHash values of at least one band (2+ per bucket)."""
    if len(sets) < 2:
        return []
    sigs = np.stack([signature(s) for s in sets]).reshape(len(sets), BANDS, ROWS)
    keys = np.zeros((len(sets), BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            keys = (keys ^ sigs[:, :, r]) * _MIX
    out: list[list[int]] = []
    for band in range(BANDS):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        shared = np.flatnonzero(counts > 1)
        if shared.size:
            order = np.argsort(inverse, kind="stable")
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            out += [order[starts[g]:starts[g] + counts[g]].tolist() for g in shared]
    return out


def near_groups(texts: Iterable[str]) -> list[set[str]]:
    """Groups (two or more) of distinct folded texts that are near-identical, transitively."""
    sets = {t: s for t in dict.fromkeys(texts) if (s := shingles(t))}
    keys = list(sets)
    parent = list(range(len(keys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    checked: set[tuple[int, int]] = set()
    for members in candidate_buckets([sets[k] for k in keys]):
        pairs = ((members[0], m) for m in members[1:]) if len(members) > MAX_BUCKET else \
                ((a, b) for n, a in enumerate(members) for b in members[n + 1:])
        for a, b in pairs:
            if (a, b) in checked or find(a) == find(b):
                continue
            checked.add((a, b))
            if jaccard(sets[keys[a]], sets[keys[b]]) >= MIN_JACCARD:
                parent[find(a)] = find(b)
    groups: dict[int, set[str]] = defaultdict(set)
    for i, key in enumerate(keys):
        groups[find(i)].add(key)
    return [g for g in groups.values() if len(g) > 1]
