"""Accuracy of sentibot's scorers on the TweetEval sentiment validation split.

    .venv/bin/python bench/scoring_accuracy.py ../shared/data/tweeteval-sentiment \
        [--models vader,transformer,transformer-fp32,transformer-int8]

Prints TweetEval's official metric (macro-averaged recall over negative/neutral/positive),
accuracy and macro-F1 per model, and checks that sentibot's VADER path gives exactly the
numbers of the `vaderSentiment` package on every text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from scoring import get_scorer
from scoring.metrics import report
from sentibot.sentiment import LABELS, Scorer


def scorer(name: str) -> Scorer:
    if name.startswith("transformer-"):  # the default network at another precision
        return get_scorer("transformer", name.partition("-")[2])
    return get_scorer(name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument("--models", default="vader,transformer,transformer-fp32,transformer-int8")
    args = parser.parse_args()
    texts = (args.data_dir / f"{args.split}_text.txt").read_text(encoding="utf-8").splitlines()
    gold = [
        LABELS[int(x)] for x in (args.data_dir / f"{args.split}_labels.txt").read_text().split()
    ]
    print(f"command: {' '.join(sys.argv)}")
    print(f"TweetEval sentiment {args.split}: {len(texts)} tweets")
    print(f"{'model':<28} {'macro recall':>12} {'accuracy':>9} {'macro F1':>9}")
    for name in args.models.split(","):
        results = scorer(name).score(texts)
        m = report(gold, [r.label for r in results])
        print(f"{name:<28} {m['macro_recall']:12.4f} {m['accuracy']:9.4f} {m['macro_f1']:9.4f}")
        if name == "vader":
            ref = SentimentIntensityAnalyzer()
            same = all(
                (p["compound"], p["neg"], p["neu"], p["pos"])
                == (r.compound, r.negative, r.neutral, r.positive)
                for p, r in zip(map(ref.polarity_scores, texts), results, strict=True)
            )
            print(f"{'':<28} identical to vaderSentiment on all {len(texts)} texts: {same}")
            if not same:
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
