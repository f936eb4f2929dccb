"""What hostile input costs: scoring time by text length (raw VADER against sentibot's scorers,
which read a 2,000-character prefix) and a chart whose posts span centuries.

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


if __name__ == "__main__":
    main()
