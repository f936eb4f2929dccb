import json

from bot.views.summary import render_summary
from sentibot.report.aggregate import summarize
from sentibot.sentiment import Sentiment
from sentibot.sources import SourceReport

POS = Sentiment("positive", 0.6, 0.0, 0.4, 0.6)
NEG = Sentiment("negative", -0.4, 0.5, 0.5, 0.0)


def test_summary_names_topic_counts_shares_and_every_source() -> None:
    summary = summarize("acme", [("x", POS), ("x", NEG), ("reddit", POS), ("reddit", POS)])
    reports = {
        "x": SourceReport("ok", 2),
        "reddit": SourceReport("ok", 2),
    }
    text, blocks = render_summary(summary, reports)
    body = json.dumps(blocks, ensure_ascii=False)
    assert "acme" in text
    assert "4 posts" in body
    assert "+0.35" in body  # mean compound
    assert "95% CI" in body
    assert "too few posts" in body  # four posts: no share worth showing
    assert "*X*: 2 posts" in body
    assert "*Reddit*: 2 posts" in body


def test_skipped_and_failed_sources_are_named_with_their_reason() -> None:
    summary = summarize("acme", [("reddit", POS)])
    reports = {
        "x": SourceReport("failed", reason="X rejected the bearer token (401)"),
        "reddit": SourceReport("ok", 1),
    }
    _, blocks = render_summary(summary, reports)
    body = json.dumps(blocks)
    assert "*X*: failed, X rejected the bearer token (401)" in body


def test_hostile_topic_cannot_ping_or_link() -> None:
    summary = summarize("<!channel> <@U123> <https://evil|docs>", [("x", POS)])
    text, blocks = render_summary(summary, {"x": SourceReport("ok", 1)})
    mrkdwn = [b["text"]["text"] for b in blocks if b.get("text", {}).get("type") == "mrkdwn"]
    for rendered in [text, *mrkdwn]:
        assert "<!channel>" not in rendered
        assert "<@U123>" not in rendered
        assert "<https://evil" not in rendered
    assert "&lt;!channel&gt;" in text


def test_no_posts_says_so() -> None:
    text, _ = render_summary(summarize("acme", []), {"x": SourceReport("ok", 0)})
    assert "no posts found" in text


def _post(
    text: str,
    sentiment: Sentiment,
    url: str | None = "https://x.com/a/status/1",
    engagement: int = 5,
):
    from sentibot.report.aggregate import ScoredText

    return ScoredText(text, sentiment, engagement, url, "x")


def _mrkdwn(blocks: list[dict]) -> list[str]:
    texts = [b["text"]["text"] for b in blocks if b.get("text", {}).get("type") == "mrkdwn"]
    for b in blocks:
        for e in b.get("elements", []):
            if e.get("type") == "mrkdwn":
                texts.append(e["text"])
    return texts


def test_hostile_post_text_and_links_are_neutralised() -> None:
    posts = [
        _post(
            "<!channel> wake up, acme crashed <@U1>", NEG, url="https://evil.example/a|click me>"
        ),
        _post("acme is <https://phish.example|acme.com> great", POS, url="javascript:alert(1)"),
        _post("acme crashed again", NEG),
        _post("acme support great", POS),
    ]
    summary = summarize("acme", [("x", p.sentiment) for p in posts])
    _, blocks = render_summary(summary, {"x": SourceReport("ok", 4)}, posts=posts)
    rendered = "\n".join(_mrkdwn(blocks))
    assert "<!channel>" not in rendered
    assert "<@U1>" not in rendered
    assert "<https://phish.example" not in rendered
    # The link shows where it goes: no label injection, no non-http scheme.
    assert "<https://evil.example/a%7Cclick%20me%3E|X>" in rendered
    assert "javascript:" not in rendered


def test_sections_stay_inside_slack_limits_however_long_the_posts() -> None:
    posts = [_post("acme " + "x" * 5000 + f" {i}", NEG if i % 2 else POS) for i in range(300)]
    summary = summarize("acme", [("x", p.sentiment) for p in posts])
    _, blocks = render_summary(summary, {"x": SourceReport("ok", 300)}, posts=posts)
    assert len(blocks) <= 50
    assert all(len(t) <= 3000 for t in _mrkdwn(blocks))
    header = blocks[0]["text"]["text"]
    assert len(header) <= 150


def test_watch_button_carries_the_topic() -> None:
    summary = summarize("acme -ad", [("x", POS)])
    _, blocks = render_summary(summary, {"x": SourceReport("ok", 1)})
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert actions["elements"][0]["value"] == "acme -ad"


def test_chart_is_a_png_with_sentiment_and_volume() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.views.chart import bucket_size, render_chart, series

    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    points = [(t0 + timedelta(minutes=10 * i), 0.5 if i < 6 else -0.5) for i in range(12)]
    starts, means, volume, size = series(points)
    assert size == timedelta(minutes=5)
    assert sum(volume) == 12
    assert means[0] == 0.5
    assert bucket_size(t0, t0 + timedelta(days=3)) == timedelta(hours=3)
    png = render_chart(points, "acme")
    assert png is not None
    assert png.startswith(b"\x89PNG")
    assert render_chart(points[:1], "acme") is None
