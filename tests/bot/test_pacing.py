"""Per-channel pacing against the real Redis the tests use."""

from __future__ import annotations

import threading
import time

from bot.pacing import ChannelPacer
from tests.conftest import redis_client


def test_one_message_per_channel_per_second_across_pacers(
    redis_url: str, broker_prefix: str
) -> None:
    # Two pacers stand for two worker processes sharing one Redis.
    pacers = [
        ChannelPacer(redis_client(redis_url), prefix=broker_prefix, interval_ms=300)
        for _ in range(2)
    ]
    stamps: list[float] = []
    lock = threading.Lock()

    def post(pacer: ChannelPacer) -> None:
        pacer.wait("C1")
        with lock:
            stamps.append(time.monotonic())

    threads = [threading.Thread(target=post, args=(pacers[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= 0.28 for gap in gaps), gaps


def test_other_channels_do_not_wait(redis_url: str, broker_prefix: str) -> None:
    pacer = ChannelPacer(redis_client(redis_url), prefix=broker_prefix, interval_ms=5000)
    assert pacer.wait("C1") == 0
    started = time.monotonic()
    assert pacer.wait("C2") == 0
    assert time.monotonic() - started < 0.5
