"""How true are the shares? Held-out topics of known class mix, through the report's own code.

    .venv/bin/python bench/share_accuracy.py ../shared/data/tweeteval-sentiment \
        [--models transformer,vader] [--topics 24] [--sizes 100,200,300]

Topics are drawn from validation's held-out half (odd lines), which no fit of
`sentibot fit-shares` reads (it fits on the even lines, and VADER on train too). Each topic has
its own mix: negative from 10% to 75%, the rest split between neutral and positive in varying
proportions. For each model the topic's posts are scored and summarised by `breakdown` (what
every report, digest and alert uses), and the benchmark prints the error of the negative and
positive shares in points (mean and worst) for the estimate and for counting labels, and how
often the truth lies inside the 95% interval (`shares_ci95`), over every topic and class.
Each topic size is its own row: the worst error is mostly sampling noise, and shrinks as topics
grow (the issue's own trial used topics of 300 posts). The held-out half has only 149 negative
posts, so the most negative topics share most of them.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
from pathlib import Path

import numpy as np

from scoring.base import get_scorer
from scoring.fit_shares import halves, read
from sentibot.report.aggregate import breakdown
from sentibot.report.quantify import fit_for
from sentibot.sentiment import LABELS


def topics(labels: list[str], n_topics: int, size: int, seed: int = 11) -> list[list[int]]:
    """Indices of each topic's posts: a mix per topic, drawn without replacement."""
    rng = random.Random(seed)
    by_label = {k: [i for i, y in enumerate(labels) if y == k] for k in LABELS}
    out = []
    for t in range(n_topics):
        neg = 0.10 + 0.65 * t / max(1, n_topics - 1)
        pos_of_rest = (0.2, 0.5, 0.8, 0.35, 0.65)[t % 5]
        want = {"negative": neg, "positive": (1 - neg) * pos_of_rest}
        want["neutral"] = 1 - want["negative"] - want["positive"]
        counts = {k: round(size * v) for k, v in want.items()}
        counts = {k: min(c, len(by_label[k])) for k, c in counts.items()}
        out.append([i for k in LABELS for i in rng.sample(by_label[k], counts[k])])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--models", default="transformer,vader")
    parser.add_argument("--topics", type=int, default=24)
    parser.add_argument("--sizes", default="100,200,300")
    args = parser.parse_args()
    texts, labels = read(args.data_dir, "val")
    _, (held_texts, held_labels) = halves(texts, labels)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    print(f"command: {' '.join(sys.argv)}")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, python {platform.python_version()}")
    print(
        f"{args.topics} held-out topics of each size from validation's odd lines; "
        "error in points over the negative and positive shares"
    )
    models = [m for m in args.models.split(",") if m]
    for model in models:
        fit = fit_for(model)
        print(f"{model}: fitted on {fit.fitted_on if fit else '(no fit: labels counted)'}")
    print(
        "| model | posts per topic | estimate: mean / worst | counted labels: mean / worst "
        "| truth inside shares_ci95 |"
    )
    print("| --- | --- | --- | --- | --- |")
    for model in models:
        scores = get_scorer(model, "fp32").score(held_texts)
        for size in sizes:
            print(row(model, size, scores, held_labels, topics(held_labels, args.topics, size)))
    return 0


def row(model: str, size: int, scores: list, held_labels: list[str], chosen: list) -> str:
    est_err, cc_err, inside, pairs = [], [], 0, 0
    for rows in chosen:
        truth = np.array([sum(held_labels[i] == k for i in rows) / len(rows) for k in LABELS])
        b = breakdown([scores[i] for i in rows], None, model)
        got = np.array([b.negative_share, b.neutral_share, b.positive_share])
        counted = np.array(b.shares.counted)
        est_err += [abs(got[k] - truth[k]) * 100 for k in (0, 2)]
        cc_err += [abs(counted[k] - truth[k]) * 100 for k in (0, 2)]
        for k, (lo, hi) in enumerate(b.shares.ci95):
            inside += lo - 1e-9 <= truth[k] <= hi + 1e-9
            pairs += 1
    return (
        f"| {model} | {size} "
        f"| {np.mean(est_err):.1f} / {np.max(est_err):.1f} "
        f"| {np.mean(cc_err):.1f} / {np.max(cc_err):.1f} "
        f"| {inside / pairs:.0%} ({inside} of {pairs}) |"
    )


if __name__ == "__main__":
    sys.exit(main())
