"""The work queues, by name: the Celery app routes to them, the metrics count them, the
Compose file and the stack give each its workers."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    COLLECT = "collect"
    SCORE = "score"
    NOTIFY = "notify"
    DEFAULT = "default"
    # History for new watches: production gives it its own worker, so it never takes the
    # place of a live run on the collect queue.
    BACKFILL = "backfill"
    # Deliveries to customers' receivers, on a worker of their own: a slow receiver never
    # holds a worker that answers people.
    WEBHOOKS = "webhooks"


QUEUES = tuple(Queue)
# What a live (non-history, non-webhook) worker serves.
LIVE = (Queue.COLLECT, Queue.SCORE, Queue.NOTIFY, Queue.DEFAULT)
