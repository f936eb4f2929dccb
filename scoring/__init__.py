"""Scoring: the scorers (VADER, the transformer), built by name; the `Sentiment` they return
and the `Scorer` protocol are the core's (`sentibot/sentiment.py`)."""

from scoring.base import get_scorer

__all__ = ["get_scorer"]
