"""What reaches matplotlib and Slack is literal, and bounded, whatever the topic or the post."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.views.chart import render_chart, series
from bot.views.digest import render_digest
from bot.views.mrkdwn import quote_inline
from sentibot.monitoring.digests import DigestContent, TopicDigest
from sentibot.report.aggregate import breakdown

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_topic_with_dollars_is_a_literal_chart_title() -> None:
    points = [(T0 + timedelta(minutes=i), 0.1) for i in range(5)]
    png = render_chart(points, "acme $a^b^c$: sentiment and volume")
    assert png is not None
    assert png.startswith(b"\x89PNG")


def test_a_post_dated_far_in_the_future_costs_a_bounded_chart() -> None:
    points = [(T0, 0.5), (T0 + timedelta(hours=1), -0.2), (datetime(9000, 1, 1, tzinfo=UTC), 0)]
    starts, _, volume, _ = series(points)
    assert len(starts) <= 49
    assert sum(volume) == 3
    assert render_chart(points, "acme") is not None


def test_echoes_drop_bidi_and_zero_width_characters() -> None:
    assert quote_inline("ac\u202eme\u200b <!channel>") == "acme &lt;!channel&gt;"


def test_a_digest_that_cannot_show_every_topic_says_how_many_it_left_out() -> None:
    empty = breakdown([])
    topics = [TopicDigest(f"topic{i}", empty, empty, (), ()) for i in range(10)]
    content = DigestContent("daily", "UTC", T0, T0 + timedelta(days=1), False, topics, omitted=14)
    _, blocks = render_digest(content)
    assert len(blocks) <= 50
    assert "…and 14 more watched topics" in str(blocks)
