"""When the mood moves between two windows, the report says by how much, whether beyond the
noise, and what moved it: `sentibot analyze --json` against the X stand-in, as a user runs it."""

from __future__ import annotations

import json

from devtools.corpus import MoodShiftCorpus
from devtools.twitter_standin import TwitterStandIn
from tests.system.test_cli import run


def test_analyze_json_says_how_much_negative_rose_and_what_moved_it(tmp_path) -> None:
    # A day of content posts, then a day in which six in ten are about cancelled flights.
    with TwitterStandIn(MoodShiftCorpus("flyco")) as x:
        env = {
            "TWITTER_BEARER_TOKEN": x.bearer_token,
            "TWITTER_API_URL": x.url,
            "SENTIBOT_DATA_DIR": str(tmp_path),
            "SENTIMENT_MODEL": "vader",
        }
        result = run(["analyze", "flyco", "--sources", "x", "--since", "24h", "--json"], env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["count"] == 60
    assert doc["previous_window"]["count"] == 60
    for shares in (doc["shares_ci95"], doc["previous_window"]["shares_ci95"]):
        for label, (lo, hi) in shares.items():
            assert 0 <= lo <= hi <= 1, label
    change = doc["change"]
    assert change["label"] == "negative"
    assert change["significant"] is True
    assert abs(change["now"] - change["before"] - change["delta"]) < 1e-3
    assert change["delta"] > 0.3
    assert change["ci95"][0] > 0  # beyond the noise: the interval of the change excludes 0
    movers = doc["movers"]
    assert movers, "a rise of 30 points and nothing said about why"
    top = movers[0]
    assert set(top) == {"kind", "label", "before", "now", "contribution", "ci95", "sources"}
    assert top["sources"] == ["x"]
    assert top["kind"] == "theme"
    assert "cancel" in top["label"] or "flight" in top["label"]
    assert top["contribution"] > 0.1
    assert top["ci95"][0] <= top["contribution"] <= top["ci95"][1]
    contributions = [abs(m["contribution"]) for m in movers]
    assert contributions == sorted(contributions, reverse=True)  # largest first


def test_analyze_json_without_a_window_before_has_no_change(tmp_path) -> None:
    corpus = MoodShiftCorpus("calmco")
    corpus.posts = corpus.posts[60:]  # only the last day's posts
    with TwitterStandIn(corpus) as x:
        env = {
            "TWITTER_BEARER_TOKEN": x.bearer_token,
            "TWITTER_API_URL": x.url,
            "SENTIBOT_DATA_DIR": str(tmp_path),
            "SENTIMENT_MODEL": "vader",
        }
        result = run(["analyze", "calmco", "--sources", "x", "--json"], env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["count"] == 60
    assert doc["change"] is None
    assert doc["movers"] == []
