"""Fit how each model errs, for the share estimates (report/quantify.py).

    sentibot fit-shares ../shared/data/tweeteval-sentiment [--out sentibot/report/shares.json]

Both models are fitted on the *fit half* of validation (even lines, 1,000 tweets): the
transformer was trained on TweetEval's train split, so its errors there flatter it, and VADER's
errors on train (older tweets) differ from those on validation (fitted on train, VADER's shares
missed held-out topics by 11 points instead of 7). The choice was made on quarters of the fit
half. The other half of validation (odd lines) is left for the held-out topics of
`bench/share_accuracy.py`; nothing here reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from scoring.base import get_scorer
from sentibot.report.quantify import FITS, fit
from sentibot.sentiment import LABELS


def read(data_dir: Path, split: str) -> tuple[list[str], list[str]]:
    texts = (data_dir / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = [LABELS[int(x)] for x in (data_dir / f"{split}_labels.txt").read_text().split()]
    if len(texts) != len(labels):
        raise ValueError(f"{split}: {len(texts)} texts but {len(labels)} labels")
    return texts, labels


def halves(texts: Sequence[str], labels: Sequence[str]) -> tuple[tuple[list, list], ...]:
    """Validation's fit half (even lines) and held-out half (odd lines)."""
    return (
        (list(texts[0::2]), list(labels[0::2])),
        (list(texts[1::2]), list(labels[1::2])),
    )


def fit_data(data_dir: Path) -> tuple[list[str], list[str], str]:
    val_texts, val_labels = read(data_dir, "val")
    (texts, labels), _ = halves(val_texts, val_labels)
    return texts, labels, f"TweetEval validation, even lines ({len(texts)} tweets)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sentibot fit-shares", description=__doc__)
    parser.add_argument("data_dir", type=Path, help="folder with TweetEval train/val files")
    parser.add_argument("--models", default="vader,transformer")
    parser.add_argument("--out", type=Path, default=FITS)
    args = parser.parse_args(argv)
    fits = json.loads(args.out.read_text()) if args.out.exists() else {}
    for model in filter(None, args.models.split(",")):
        texts, labels, where = fit_data(args.data_dir)
        scores = get_scorer(model, "fp32").score(texts)
        output = "labels" if model == "vader" else "probabilities"
        found = fit(model, scores, labels, output, where)
        fits[model] = found.as_dict()
        print(f"{model}: fitted on {where}")
        for label, row in zip(LABELS, found.matrix, strict=True):
            print(f"  true {label:8}: mean output " + " ".join(f"{v:.3f}" for v in row))
    args.out.write_text(json.dumps(fits, separators=(",", ":")) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
