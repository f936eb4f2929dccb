"""A post that praises nothing but names the brand scores neutral for that brand, with every
model: `sentibot analyze --json` against the X stand-in, as a user runs it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devtools.corpus import CorpusPost, StaticCorpus
from devtools.twitter_standin import TwitterStandIn
from tests.system.test_cli import run

NOW = datetime.now(UTC) - timedelta(hours=1)
# Each names its brand and nothing else worth feeling: VADER rates `best`, `kind` and `united`
# +0.64, +2.4 and +1.8 on their own.
PLAIN = {
    '"best buy"': "Went to Best Buy today to pick up a cable #BestBuy",
    "kind": "Kind bars are on the second shelf at @KindSnacks",
    "united": "Flying United to Chicago on Tuesday, gate B12 @united",
}


@pytest.mark.parametrize("model", ["vader", "transformer"])
@pytest.mark.parametrize("topic", list(PLAIN))
def test_a_post_that_only_names_the_brand_is_neutral_for_it(topic, model, tmp_path) -> None:
    text = PLAIN[topic]
    posts = [CorpusPost(f"{i}", text, f"user{i}", NOW - timedelta(minutes=i)) for i in range(3)]
    with TwitterStandIn(StaticCorpus(posts)) as x:
        env = {
            "TWITTER_BEARER_TOKEN": x.bearer_token,
            "TWITTER_API_URL": x.url,
            "SENTIBOT_DATA_DIR": str(tmp_path),
            "SENTIMENT_MODEL": model,
        }
        result = run(["analyze", topic, "--sources", "x", "--json"], env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["count"] == 3
    assert doc["shares_counted"] == {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
    assert abs(doc["mean_compound"]) < 0.2
    assert doc["too_few_posts"] is True
    assert set(doc["shares_ci95"]) == {"negative", "neutral", "positive"}
