"""Is the mood real? Near-duplicate posts (copies with small changes, cross-posts) merged into
one message, and each author's weight capped, so that neither a copied post nor one busy
account can swing a window. Pure and deterministic: the same posts give the same weights.

    found = weigh(texts, authors)
    found.weights      # per post, in [0, 1]: 0 for a merged copy, less than 1 for a capped author
    found.copies       # per post: how many posts its message stands for (0 for a merged copy)
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# One author's posts in a window weigh at most as much as this many posts.
AUTHOR_CAP = 3.0
# Two posts whose 4-character shingles overlap this much (Jaccard) are one message.
SAME_MESSAGE = 0.8
# Shorter texts are never merged: "I love acme" from five people is five opinions, while a
# copied post (copypasta, a campaign) is longer than this.
MIN_MESSAGE_CHARS = 40
_SHINGLE = 4
_BANDS = 8  # simhash bands of 8 bits: posts sharing any band are compared
# A bucket keeps this many messages to compare newcomers with; near copies differ in at most
# this many of their simhash's 64 bits (4-character shingles overlapping 80% differ in ~6).
MAX_REPRESENTATIVES = 32
MAX_SIMHASH_BITS = 16

_URL = re.compile(r"https?://\S+|www\.\S+")
_RETWEET = re.compile(r"^rt\s+@\w+:?\s*")
_MENTION = re.compile(r"@\w+")
_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Weighing:
    weights: list[float]
    copies: list[int]
    messages: int  # distinct messages among the posts
    duplicates_merged: int  # posts that counted as a copy of another
    unique_authors: int
    capped_authors: dict[str, int]  # author -> posts, for authors whose weight was capped

    def effective(self) -> float:
        return sum(self.weights)


def weigh(texts: Sequence[str], authors: Sequence[str | None], cap: float = AUTHOR_CAP) -> Weighing:
    groups = near_duplicates(texts)
    weights = [0.0] * len(texts)
    copies = [0] * len(texts)
    for members in groups:
        weights[members[0]] = 1.0
        copies[members[0]] = len(members)
    per_author: dict[str, list[int]] = defaultdict(list)
    for i, author in enumerate(authors):
        if author:
            per_author[author].append(i)
    capped: dict[str, int] = {}
    for author, items in per_author.items():
        total = sum(weights[i] for i in items)
        if total > cap:
            capped[author] = len(items)
            for i in items:
                weights[i] *= cap / total
    unknown = sum(1 for a in authors if not a)
    return Weighing(
        weights=weights,
        copies=copies,
        messages=len(groups),
        duplicates_merged=len(texts) - len(groups),
        unique_authors=len(per_author) + unknown,
        capped_authors=capped,
    )


def normalize(text: str) -> str:
    """What a copy keeps: lower case, no links, no retweet prefix, no mentions, no punctuation."""
    plain = _RETWEET.sub("", text.lower().strip())
    plain = _MENTION.sub(" ", _URL.sub(" ", plain))
    return " ".join(_NON_WORD.sub(" ", plain).split())


def near_duplicates(texts: Sequence[str]) -> list[list[int]]:
    """Groups of indices, each the posts of one message, in order of first appearance."""
    keys = [normalize(t) for t in texts]
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if len(key) < MIN_MESSAGE_CHARS:
            continue
        # Texts the same but for their numbers are one template ("you won, claim #4711"): one
        # message, found by its key rather than by comparing every pair of its copies.
        template = _DIGITS.sub("0", key)
        if template in first:
            union(first[template], i)
        else:
            first[template] = i
    # Near copies: candidates share a band of their simhash; a Jaccard check confirms them.
    # Within a bucket each post is compared with at most MAX_REPRESENTATIVES earlier posts of
    # other messages, and only where their simhashes are close: near-linear however adversarial
    # the input (10,000 copies of one spam template all share every bucket: 50 million pairs).
    shingles = {i: _shingles(keys[i]) for i in first.values()}
    signatures = {i: _simhash(found) for i, found in shingles.items()}
    buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, signature in signatures.items():
        for band in range(_BANDS):
            buckets[(band, (signature >> (8 * band)) & 0xFF)].append(i)
    for members in buckets.values():
        representatives: list[int] = []
        for i in members:
            for r in representatives:
                if find(i) == find(r):
                    break
                if (signatures[i] ^ signatures[r]).bit_count() <= MAX_SIMHASH_BITS and _jaccard(
                    shingles[i], shingles[r]
                ) >= SAME_MESSAGE:
                    union(i, r)
                    break
            else:
                if len(representatives) < MAX_REPRESENTATIVES:
                    representatives.append(i)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(texts)):
        groups[find(i)].append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _shingles(text: str) -> frozenset[str]:
    if len(text) <= _SHINGLE:
        return frozenset({text})
    return frozenset(text[i : i + _SHINGLE] for i in range(len(text) - _SHINGLE + 1))


def _simhash(features: frozenset[str]) -> int:
    hashes = np.array(
        [hashlib.blake2b(f.encode(), digest_size=8).digest() for f in sorted(features)],
        dtype="S8",
    )
    bits = np.unpackbits(np.frombuffer(hashes.tobytes(), dtype=np.uint8)).reshape(-1, 64)
    majority = bits.sum(axis=0) * 2 > len(features)
    return int.from_bytes(np.packbits(majority).tobytes(), "big")


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
