"""Classification metrics for sentiment models: TweetEval's official macro recall, and friends."""

from __future__ import annotations

from collections.abc import Sequence

from sentibot.sentiment import LABELS


def _counts(gold: Sequence[str], pred: Sequence[str], label: str) -> tuple[int, int, int]:
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p == label)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == label and p != label)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != label and p == label)
    return tp, fn, fp


def macro_recall(gold: Sequence[str], pred: Sequence[str]) -> float:
    recalls = []
    for label in LABELS:
        tp, fn, _ = _counts(gold, pred, label)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
    return sum(recalls) / len(recalls)


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    scores = []
    for label in LABELS:
        tp, fn, fp = _counts(gold, pred, label)
        scores.append(2 * tp / (2 * tp + fn + fp) if tp else 0.0)
    return sum(scores) / len(scores)


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    if not gold:
        return 0.0
    return sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / len(gold)


def report(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    return {
        "macro_recall": macro_recall(gold, pred),
        "accuracy": accuracy(gold, pred),
        "macro_f1": macro_f1(gold, pred),
    }
