"""Scoring speed on tweets, texts per second, and peak memory of each scorer's process.

    .venv/bin/python bench/scoring_speed.py ../shared/data/tweeteval-sentiment [--n 2000]

Each case runs in a fresh process (so peak RSS is its own) on the same texts, three times after
a warm-up (texts/s: the median pass; peak RSS: over all of them):
- vader-plain: a plain loop over vaderSentiment's polarity_scores (the reference)
- vader: sentibot's VADER scorer
- transformer: sentibot's default as a scoring worker loads it (precision "auto": bfloat16
  where the CPU has bf16 instructions, else fp32)
- transformer-fp32, transformer-int8: the same network in fp32, and with int8 dynamic
  quantisation of its linear layers
- hf-pipeline: transformers' pipeline("text-classification") on an equivalent MiniLM
  classifier (same architecture and size), batch size 32, in its default fp32
- hf-pipeline-bf16: the same pipeline with the model cast to bfloat16 (to show how much of the
  gain is the arithmetic and how much the batching)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES = [
    "vader-plain",
    "vader",
    "transformer",
    "transformer-fp32",
    "transformer-int8",
    "hf-pipeline",
    "hf-pipeline-bf16",
]


def run_case(case: str, texts: list[str], passes: int) -> dict[str, float]:
    import torch

    if case == "vader-plain":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer = SentimentIntensityAnalyzer()
        fn = lambda xs: [analyzer.polarity_scores(x) for x in xs]  # noqa: E731
    elif case == "vader":
        from scoring import get_scorer

        fn = get_scorer("vader").score
    elif case.startswith("transformer"):
        from scoring.transformer import default_scorer

        precision = case.partition("-")[2] or "auto"
        fn = default_scorer(precision).score  # as a scoring worker loads it
    elif case.startswith("hf-pipeline"):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

        from scoring.transformer import base_model_path

        path = base_model_path()
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=3, local_files_only=True
        )
        if case.endswith("bf16"):
            model = model.to(torch.bfloat16)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1)
        fn = lambda xs: pipe(xs, batch_size=32, truncation=True, max_length=64)  # noqa: E731
    else:
        raise SystemExit(f"unknown case {case}")
    fn(texts[:64])  # warm up
    rates = []
    for _ in range(passes):
        started = time.perf_counter()
        fn(texts)
        rates.append(len(texts) / (time.perf_counter() - started))
    return {
        "texts_per_s": statistics.median(rates),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--passes", type=int, default=3, help="texts/s is their median")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    texts = (args.data_dir / "val_text.txt").read_text(encoding="utf-8").splitlines()
    texts = (texts * (args.n // len(texts) + 1))[: args.n]
    if args.one:
        print(json.dumps(run_case(args.one, texts, args.passes)))
        return 0
    print(f"command: {' '.join(sys.argv)}")
    from devtools.stack import cpu_model  # here, not in a case's process: its RSS is measured

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}")
    print(f"{len(texts)} TweetEval validation tweets")
    results = {}
    for case in args.cases.split(","):
        out = subprocess.run(
            [sys.executable, __file__, str(args.data_dir), "--n", str(args.n)]
            + ["--passes", str(args.passes), "--one", case],
            capture_output=True,
            text=True,
            check=True,
        )
        results[case] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[case]
        print(f"{case:<18} {r['texts_per_s']:9.0f} texts/s   peak RSS {r['peak_rss_mb']:6.0f} MB")
    if "vader" in results and "vader-plain" in results:
        ratio = results["vader"]["texts_per_s"] / results["vader-plain"]["texts_per_s"]
        print(f"vader / plain vaderSentiment loop: {ratio:.2f}x")
    if "transformer" in results and "hf-pipeline" in results:
        ratio = results["transformer"]["texts_per_s"] / results["hf-pipeline"]["texts_per_s"]
        print(f"transformer / HF pipeline: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
