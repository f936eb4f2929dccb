"""Macro recall and speed of transformer weight files on TweetEval's validation split.

    .venv/bin/python bench/transformer_variants.py ../shared/data/tweeteval-sentiment \
        [WEIGHTS.safetensors ...] [--precisions auto,fp32,int8]

Without files: the shipped six-layer network, its three-layer distilled student, and that
student with its feed-forward layers pruned to 768 units (the default). Other students come
from `sentibot distill DATA --keep 0,2,4,5 --out FILE` (`--ffn N` prunes). Each
file and precision runs in a fresh process (its peak RSS is its own), scoring the 2,000
validation tweets the way a scoring worker does (lean encoder, length-sorted batches) three
times after a warm-up: texts/s is the median pass, peak RSS the whole process's. "auto" runs
what a scoring worker's default does on this CPU (bf16 where the CPU has it, else fp32).
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_one(data_dir: Path, weights: Path, precision: str, passes: int) -> dict:
    import torch

    from scoring.metrics import report
    from scoring.transformer import TransformerScorer, load_lean, resolve_precision
    from sentibot.sentiment import LABELS

    texts = (data_dir / "val_text.txt").read_text(encoding="utf-8").splitlines()
    gold = [LABELS[int(x)] for x in (data_dir / "val_labels.txt").read_text().split()]
    precision = resolve_precision(precision)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    scorer = TransformerScorer(*load_lean(weights, dtype), precision=precision)
    scorer.score(texts[:64])  # warm up
    rates = []
    for _ in range(passes):
        started = time.perf_counter()
        labels = [s.label for s in scorer.score(texts)]
        rates.append(len(texts) / (time.perf_counter() - started))
    return {
        "precision": precision,
        "macro_recall": report(gold, labels)["macro_recall"],
        "texts_per_s": statistics.median(rates),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> int:
    from scoring.transformer import (
        FULL_WEIGHTS,
        THREE_LAYER_WEIGHTS,
        WEIGHTS,
        weights_metadata,
    )

    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("weights", type=Path, nargs="*")
    parser.add_argument("--precisions", default="auto,fp32,int8")
    parser.add_argument("--passes", type=int, default=3, help="texts/s is their median")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.data_dir, Path(args.one[0]), args.one[1], args.passes)))
        return 0
    from devtools.stack import cpu_model

    print(f"command: {' '.join(sys.argv)}")
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; 2,000 TweetEval validation tweets")
    print(
        f"{'weights':<40} {'layers':>6} {'ffn':>5} {'precision':<14} {'macro recall':>12} "
        f"{'texts/s':>8} {'peak RSS':>9}"
    )
    for weights in args.weights or [FULL_WEIGHTS, THREE_LAYER_WEIGHTS, WEIGHTS]:
        for precision in args.precisions.split(","):
            out = subprocess.run(
                [sys.executable, __file__, str(args.data_dir), "--passes", str(args.passes)]
                + ["--one", str(weights), precision],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            meta = weights_metadata(weights)
            ran = precision if precision == r["precision"] else f"{precision}: {r['precision']}"
            print(
                f"{weights.name:<40} {meta.get('num_layers', 6):>6} "
                f"{meta.get('intermediate_size', 1536):>5} {ran:<14} "
                f"{r['macro_recall']:12.4f} "
                f"{r['texts_per_s']:8.0f} {r['peak_rss_mb']:6.0f} MB"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
