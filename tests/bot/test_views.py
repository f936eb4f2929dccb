import json

from sentibot.bot.views.summary import render_summary
from sentibot.collectors.registry import SourceReport
from sentibot.scoring.aggregate import summarize
from sentibot.scoring.base import Sentiment

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
    assert "negative 25%" in body
    assert "positive 75%" in body
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
