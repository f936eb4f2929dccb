"""The theme step on a window of real tweets: integrity weighing, MiniLM embeddings (int8),
k-means and naming, on top of scoring (not included).

    .venv/bin/python bench/themes_speed.py ../shared/data/tweeteval-sentiment [--posts 1000]

Prints seconds per step, median of 3 runs after one warm-up (the model's load is reported
apart), and the themes found.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.stack import cpu_model  # noqa: E402
from scoring.base import get_scorer  # noqa: E402
from scoring.embed import embed  # noqa: E402
from sentibot.report.integrity import weigh
from sentibot.report.themes import find_themes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    lines = (args.data_dir / "val_text.txt").read_text().splitlines()
    texts = lines[: args.posts]
    previous = lines[args.posts : args.posts + 300]
    sentiments = get_scorer("vader").score(texts)
    authors = [f"u{i}" for i in range(len(texts))]
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    started = time.perf_counter()
    embed(texts[:8])
    print(f"model load: {time.perf_counter() - started:.2f} s")
    runs = []
    for _ in range(4):
        t0 = time.perf_counter()
        found = weigh(texts, authors)
        t1 = time.perf_counter()
        themes = find_themes(texts, sentiments, found, "", embed, previous)
        t2 = time.perf_counter()
        runs.append((t1 - t0, t2 - t1))
    runs = runs[1:]
    weigh_s = statistics.median(r[0] for r in runs)
    theme_s = statistics.median(r[1] for r in runs)
    print(f"{len(texts)} posts (+{len(previous)} of the window before placed on the themes)")
    print(f"integrity: {weigh_s:.2f} s · themes: {theme_s:.2f} s · total {weigh_s + theme_s:.2f} s")
    for t in themes:
        print(f"  {t.label}: {t.count} posts, {t.mean_compound:+.2f}, {t.negative_share:.0%} neg")


if __name__ == "__main__":
    main()
