"""Pure statistics over scored posts: what every report and alert is built from."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sentibot.report.quantify import NO_POSTS, Fit, Shares, estimate
from sentibot.sentiment import Sentiment

Z95 = 1.959964


@dataclass(frozen=True)
class Breakdown:
    """Window statistics: volume, mean compound with its 95% CI, and the shares of each class,
    estimated for the model's errors with their intervals (report/quantify.py)."""

    count: int
    mean_compound: float
    negative_share: float
    neutral_share: float
    positive_share: float
    ci_low: float = 0.0
    ci_high: float = 0.0
    shares: Shares = NO_POSTS

    @property
    def net(self) -> float:
        """Net sentiment: positive share minus negative share, in [-1, 1]."""
        return self.positive_share - self.negative_share


@dataclass(frozen=True)
class Summary:
    topic: str
    overall: Breakdown
    by_source: dict[str, Breakdown] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.overall.count


def breakdown(
    sentiments: Iterable[Sentiment],
    weights: Sequence[float] | None = None,
    model: str | None = None,
    fit: Fit | None = None,
) -> Breakdown:
    """`count` is the number of posts; the mean and the shares weigh each post by `weights`
    (report/integrity.py: a merged copy weighs 0, a capped author's posts less than 1). The
    shares are estimates corrected for how `model` errs (counted labels for a model with no
    fit, or none named; `fit` replaces the shipped one); the mean is the model's own,
    uncorrected."""
    items = list(sentiments)
    n = len(items)
    w = list(weights) if weights is not None else [1.0] * n
    total = sum(w)
    if n == 0 or total <= 0:
        return Breakdown(n, 0.0, 0.0, 0.0, 0.0)
    mean = sum(wi * s.compound for wi, s in zip(w, items, strict=True)) / total
    effective = total**2 / sum(wi * wi for wi in w)  # Kish's effective sample size
    if effective > 1:
        var = sum(wi * (s.compound - mean) ** 2 for wi, s in zip(w, items, strict=True)) / total
        half = Z95 * math.sqrt(var * effective / (effective - 1) / effective)
    else:
        half = 1.0  # one post says little: the interval spans most of the scale

    shares = estimate(items, w, model, fit=fit)
    return Breakdown(
        count=n,
        mean_compound=mean,
        negative_share=shares.values[0],
        neutral_share=shares.values[1],
        positive_share=shares.values[2],
        ci_low=max(-1.0, mean - half),
        ci_high=min(1.0, mean + half),
        shares=shares,
    )


def summarize(
    topic: str,
    scored: Sequence[tuple[str, Sentiment]],
    weights: Sequence[float] | None = None,
    model: str | None = None,
    fit: Fit | None = None,
) -> Summary:
    """`scored` is (source name, sentiment) per post; the rest as in `breakdown`."""
    w = list(weights) if weights is not None else [1.0] * len(scored)
    per_source: dict[str, list[tuple[Sentiment, float]]] = {}
    for (source, sentiment), weight in zip(scored, w, strict=True):
        per_source.setdefault(source, []).append((sentiment, weight))
    return Summary(
        topic=topic,
        overall=breakdown((s for _, s in scored), w, model, fit),
        by_source={
            name: breakdown([s for s, _ in items], [x for _, x in items], model, fit)
            for name, items in sorted(per_source.items())
        },
    )


@dataclass(frozen=True)
class Change:
    net_delta: float
    mean_delta: float
    volume_ratio: float | None  # None when the previous window was empty


def change(current: Breakdown, previous: Breakdown) -> Change:
    """How the window moved against the one before it."""
    return Change(
        net_delta=current.net - previous.net if previous.count else 0.0,
        mean_delta=current.mean_compound - previous.mean_compound if previous.count else 0.0,
        volume_ratio=current.count / previous.count if previous.count else None,
    )


@dataclass(frozen=True)
class ScoredText:
    text: str
    sentiment: Sentiment
    engagement: int = 0
    url: str | None = None
    source: str = ""
    post_id: int | None = None  # the stored post (for corrections); None in-process


def top_posts(posts: Sequence[ScoredText], label: str, n: int = 3) -> list[ScoredText]:
    """The most engaging posts of a label, weighted by how strongly they say it."""
    chosen = [p for p in posts if p.sentiment.label == label]
    return sorted(
        chosen, key=lambda p: (p.engagement + 1) * abs(p.sentiment.compound), reverse=True
    )[:n]


STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing don down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me more most
    my no nor not now of off on once only or other our ours out over own same she should so some
    such than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom why will with you your yours im ive dont
    cant its it's i'm i've don't can't get got just like really would one also still even http
    https www com co user amp rt via new that's there's what's he's she's they're we're you're
    isn't wasn't doesn't didn't won't""".split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'’]*")
# Links and @mentions say who and where, not what people feel: no term comes from them.
LINK_OR_MENTION = re.compile(r"https?://\S+|www\.\S+|@\w+", re.IGNORECASE)


def stem(word: str) -> str:
    """A word's crude stem, so inflections count as one term: `bag`/`bags`, `cancel`/
    `cancelled`/`cancels`, `charge`/`charged`/`charging`, `delay`/`delayed`."""
    w = word
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if len(w) - len(suffix) >= 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiouls":
        w = w[:-1]
    if len(w) > 3 and w.endswith("ll"):
        w = w[:-1]
    return w


def stems(term: str) -> frozenset[str]:
    return frozenset(stem(w) for w in term.split())


def merged(found: Sequence[Driver]) -> list[Driver]:
    """Drivers without repeats, strongest first: an inflection of a kept term is the same
    term (`bags` after `bag`); a word already inside a kept phrase says nothing more (`flight`
    after `cancelled flight`); a phrase said about as often as its kept words replaces them
    (`cancelled flight` for `cancelled` and `flight`)."""
    kept: list[Driver] = []
    for d in found:
        mine = stems(d.term)
        same = [i for i, k in enumerate(kept) if stems(k.term) & mine]
        if not same:
            kept.append(d)
            continue
        inside = all(stems(kept[i].term) < mine for i in same)
        if inside and d.count * 2 >= max(kept[i].count for i in same):
            kept[same[0]] = Driver(d.term, kept[same[0]].z, d.count)
            for i in reversed(same[1:]):
                del kept[i]
    return kept


def terms(text: str, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Words and two-word phrases of a post, without stop-words, the topic or mentions."""
    plain = LINK_OR_MENTION.sub(" ", text).lower()
    words = [w.strip("'’") for w in _WORD.findall(plain) if len(w) > 1]
    kept = [w for w in words if w not in STOP_WORDS and w not in exclude]
    bigrams = [
        f"{a} {b}"
        for a, b in zip(words, words[1:], strict=False)
        if not {a, b} & (STOP_WORDS | exclude)
    ]
    return kept + bigrams


@dataclass(frozen=True)
class Driver:
    term: str
    z: float
    count: int


def drivers(
    posts: Sequence[ScoredText],
    label: str,
    topic: str = "",
    n: int = 8,
    min_count: int = 2,
    prior_scale: float = 0.1,
) -> list[Driver]:
    """Terms most over-represented in posts of `label` against the rest of the window.

    Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008). The
    prior is the term distribution of the whole window, weighted as `prior_scale` times the
    window's size so that it shrinks rare terms without drowning a small window. Counts are
    per post (a word repeated in one post counts once). Only terms with z > 1.96 are kept.
    """
    inside = [p.text for p in posts if p.sentiment.label == label]
    outside = [p.text for p in posts if p.sentiment.label != label]
    return contrast(inside, outside, topic, n, min_count, prior_scale)


def contrast(
    inside_texts: Sequence[str],
    outside_texts: Sequence[str],
    topic: str = "",
    n: int = 8,
    min_count: int = 2,
    prior_scale: float = 0.1,
) -> list[Driver]:
    """Terms most over-represented in `inside_texts` against `outside_texts` (the log-odds of
    `drivers`): a label against the rest, or a spike's window against the hours before it."""
    exclude = frozenset(terms(topic)) | frozenset(_WORD.findall(topic.lower()))
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for text in inside_texts:
        inside.update(set(terms(text, exclude)))
    for text in outside_texts:
        outside.update(set(terms(text, exclude)))
    background = inside + outside
    total_bg = sum(background.values())
    n_in, n_out = sum(inside.values()), sum(outside.values())
    if not n_in or not n_out or not total_bg:
        return []
    prior_strength = prior_scale * total_bg
    found = []
    for term, count in inside.items():
        if count < min_count:
            continue
        alpha = prior_strength * background[term] / total_bg
        y_in, y_out = count, outside[term]
        rest_in = n_in + prior_strength - y_in - alpha
        rest_out = n_out + prior_strength - y_out - alpha
        if rest_in <= 0 or rest_out <= 0:  # a window of one term has nothing to compare with
            continue
        delta = math.log((y_in + alpha) / rest_in) - math.log((y_out + alpha) / rest_out)
        z = delta / math.sqrt(1 / (y_in + alpha) + 1 / (y_out + alpha))
        if z > Z95:
            found.append(Driver(term, z, count))
    found.sort(key=lambda d: d.z, reverse=True)
    return merged(found)[:n]
