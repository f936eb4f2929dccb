"""Scoring: the scorer protocol, VADER, and the aggregation every report uses."""

from scoring.base import Scorer, Sentiment, UnknownModel, get_scorer

__all__ = ["Scorer", "Sentiment", "UnknownModel", "get_scorer"]
