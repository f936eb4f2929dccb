"""Which stored model key scores posts for a topic: the model, reading them with the topic's
own terms masked (report/masking.py)."""

from __future__ import annotations

from sentibot.query import QueryError, parse_query
from sentibot.report.masking import scoped


def scored_as(model: str, topic: str) -> str:
    """`model`'s key for `topic`; a topic that does not parse (none reaches here) masks
    nothing."""
    try:
        return scoped(model, parse_query(topic).named())
    except QueryError:
        return model
