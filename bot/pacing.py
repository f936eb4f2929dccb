"""At most one new message per channel per second, across every worker process (Slack's limit).

A Redis key per channel with a one-second expiry is the token: whoever sets it posts, the others
wait for it to expire. Edits (chat.update) are not paced; 429s still wait as Retry-After says.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

INTERVAL_MS = 1000


class ChannelPacer:
    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "",
        interval_ms: int = INTERVAL_MS,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_s: float = 60.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.interval_ms = interval_ms
        self.sleep = sleep
        self.max_wait_s = max_wait_s

    def wait(self, channel: str) -> float:
        """Block until this process may post to `channel`; returns the seconds waited."""
        key = f"{self.prefix}sentibot:pace:{channel}"
        waited = 0.0
        while not self.client.set(key, "1", nx=True, px=self.interval_ms):
            if waited >= self.max_wait_s:
                break  # never block a worker forever; Slack's own 429 handling still applies
            ttl_ms = self.client.pttl(key)
            pause = max(ttl_ms, 10) / 1000 if ttl_ms and ttl_ms > 0 else 0.01
            self.sleep(pause)
            waited += pause
        return waited
