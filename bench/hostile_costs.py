"""What hostile input costs: scoring time by text length (raw VADER against sentibot's scorers,
which read a 2,000-character prefix), a chart whose posts span centuries, and finding copies
among 10,000 template spam posts (numbered, or each with a random word) and 10,000 distinct ones.

    .venv/bin/python bench/hostile_costs.py [--repeat 3]

Prints milliseconds, best of --repeat runs, for each case.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.views.chart import render_chart  # noqa: E402
from scoring.base import get_scorer  # noqa: E402
from sentibot.report.integrity import near_duplicates

WORDS = "acme is great but the update broke everything and I hate it so much honestly love it"


def text_of(chars: int) -> str:
    words = WORDS.split()
    out = " ".join(words[i % len(words)] for i in range(chars // 4 + 1))
    return out[:chars]


def best_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    raw = SentimentIntensityAnalyzer()
    vader, transformer = get_scorer("vader"), get_scorer("transformer")
    transformer.score(["warm up"])
    print("chars       raw vader ms   sentibot vader ms   transformer ms")
    for chars in (2_000, 5_000, 20_000, 1_000_000):
        text = text_of(chars)
        raw_ms = (
            f"{best_ms(lambda t=text: raw.polarity_scores(t), args.repeat):14.1f}"
            if chars <= 20_000
            else "   (minutes)  "
        )
        ours = best_ms(lambda t=text: vader.score([t]), args.repeat)
        tr = best_ms(lambda t=text: transformer.score([t]), args.repeat)
        print(f"{chars:>9,}  {raw_ms}  {ours:18.1f}  {tr:15.1f}")
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    points = [(t0 + timedelta(minutes=i), 0.1) for i in range(200)]
    points.append((datetime(9000, 1, 1, tzinfo=UTC), -0.5))
    chart_ms = best_ms(lambda: render_chart(points, "acme $a^b^c$"), args.repeat)
    print(f"chart of 201 posts, one dated year 9000: {chart_ms:.0f} ms")
    for name, texts in copies_cases(10_000).items():
        ms = best_ms(lambda t=texts: near_duplicates(t), 1)
        print(f"copies among {name}: {ms / 1000:.1f} s, {len(near_duplicates(texts)):,} messages")


def copies_cases(n: int) -> dict[str, list[str]]:
    import random
    import string

    rng = random.Random(3)
    words = WORDS.split() + "battery screen refund shipping camera login price team".split()
    names = ["alex", "sam", "jo", "kim", "lee", "pat", "max", "ray"]
    return {
        "numbered spam": [
            f"Congratulations {rng.choice(names)}{i}! You won a free acme phone, claim at "
            f"acme-prizes{i % 97}.example now before it expires #{i}"
            for i in range(n)
        ],
        "spam with a random word": [
            f"Congratulations {''.join(rng.choices(string.ascii_lowercase, k=6))}! You won a "
            "free acme phone, claim yours at acme-prizes.example right now before it expires"
            for _ in range(n)
        ],
        "distinct posts": [" ".join(rng.choices(words, k=18)) + f" {i}" for i in range(n)],
    }


if __name__ == "__main__":
    main()
