"""RSS and Atom feeds through feedparser, against local feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from collectors.rss import FeedCollector
from devtools.corpus import CorpusPost
from devtools.rss_standin import FeedStandIn
from sentibot.query import parse_query
from sentibot.sources import SourceUnavailable
from tests.collectors.conftest import T0


@pytest.fixture
def feeds() -> Iterator[FeedStandIn]:
    news = [
        CorpusPost(id="n1", text="Acme raises prices\nCustomers are angry", created_at=T0),
        CorpusPost(id="n2", text="Weather today\nSunny", created_at=T0 + timedelta(hours=1)),
        CorpusPost(id="n3", text="Acme ad: buy now", created_at=T0 + timedelta(hours=2)),
    ]
    tags = [CorpusPost(id="m1", text="loving my acme phone", created_at=T0 + timedelta(hours=3))]
    with FeedStandIn({"news": news, "acme": tags}) as standin:
        yield standin


def test_rss_and_atom_entries_are_matched_against_the_query(feeds, retry) -> None:
    c = FeedCollector([feeds.feed_url("rss", "news"), feeds.feed_url("atom", "{topic}")], retry)
    batch = c.collect(parse_query("acme -ad"), 50)
    assert [p.text for p in batch.posts] == [
        "loving my acme phone",
        "Acme raises prices\nCustomers are angry",
    ]
    assert batch.posts[1].url == f"{feeds.url}/posts/n1"
    assert feeds.requests_to("/atom/acme")  # {topic} filled in
    assert batch.cursor == str((T0 + timedelta(hours=3)).timestamp())


def test_cursor_skips_entries_already_read(feeds, retry) -> None:
    c = FeedCollector([feeds.feed_url("rss", "news")], retry)
    first = c.collect(parse_query("acme"), 50)
    assert len(first.posts) == 2
    assert c.collect(parse_query("acme"), 50, first.cursor).posts == []


def test_feed_language_is_honoured(feeds, retry) -> None:
    c = FeedCollector([feeds.feed_url("rss", "news")], retry)
    assert c.collect(parse_query("acme lang:de"), 50).posts == []
    assert len(c.collect(parse_query("acme lang:en"), 50).posts) == 2


def test_one_broken_feed_does_not_hide_the_others(feeds, retry) -> None:
    c = FeedCollector([feeds.feed_url("rss", "missing"), feeds.feed_url("rss", "news")], retry)
    assert len(c.collect(parse_query("acme"), 50).posts) == 2


def test_every_feed_broken_fails_the_source(feeds, retry) -> None:
    feeds.fail_next("/rss/news", 503, body="down", times=10)
    c = FeedCollector([feeds.feed_url("rss", "news")], retry)
    with pytest.raises(SourceUnavailable, match="503"):
        c.collect(parse_query("acme"), 50)


def test_not_a_feed_is_a_clear_error(feeds, retry) -> None:
    feeds.fail_next(
        "/rss/news",
        200,
        body="<html><body>a web page, no feed",
        headers={"content-type": "text/html"},
    )
    c = FeedCollector([feeds.feed_url("rss", "news")], retry)
    with pytest.raises(SourceUnavailable, match="not RSS or Atom"):
        c.collect(parse_query("acme"), 50)


def test_a_failed_feed_is_named_in_a_partial_report_without_its_secrets(feeds, retry) -> None:
    secret = feeds.feed_url("rss", "news") + "?access_token=hunter2"
    feeds.fail_next("/rss/news", 404, body="<html>consent page</html>", times=5)
    batch = FeedCollector([secret, feeds.feed_url("atom", "{topic}")], retry).collect(
        parse_query("acme"), 50
    )
    assert [p.text for p in batch.posts] == ["loving my acme phone"]
    assert batch.partial is not None
    assert batch.partial.startswith("1 of 2 feeds failed: ")
    assert "/rss/news answered 404" in batch.partial
    assert "hunter2" not in batch.partial


def test_a_topic_never_reaches_another_path_of_the_feeds_host(feeds, retry) -> None:
    c = FeedCollector([feeds.url + "/atom/{topic}?access_token=s3cret"], retry)
    with pytest.raises(SourceUnavailable) as failed:  # no feed of that name: a 404, and
        c.collect(parse_query("../../../admin/x"), 10)
    assert "s3cret" not in failed.value.reason  # its reason keeps the token to itself
    (asked,) = feeds.requests_to("/atom/")
    assert asked.path == "/atom/..%2F..%2F..%2Fadmin%2Fx"
    assert not feeds.requests_to("/admin")


def test_a_failing_feed_is_named_without_its_secrets(feeds, retry, caplog) -> None:
    c = FeedCollector(
        [feeds.feed_url("rss", "news"), "http://user:pw@" + feeds.url[7:] + "/gone?token=s3cret"],
        retry,
    )
    batch = c.collect(parse_query("acme"), 10)
    assert "s3cret" not in batch.partial
    assert "pw" not in batch.partial
    assert "/gone" in batch.partial
    assert "s3cret" not in caplog.text
    assert "user:pw" not in caplog.text


def test_an_entry_dated_in_the_future_does_not_freeze_the_cursor(retry) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        CorpusPost(id="f1", text="acme in 2031", created_at=now + timedelta(days=1800)),
        CorpusPost(id="f2", text="acme an hour ago", created_at=now - timedelta(hours=1)),
    ]
    with FeedStandIn({"news": items}) as standin:
        c = FeedCollector([standin.feed_url("rss", "news")], retry)
        first = c.collect(parse_query("acme"), 50)
        assert len(first.posts) == 2
        assert float(first.cursor or 0) <= datetime.now(UTC).timestamp()
        items.append(
            CorpusPost(id="f3", text="acme a minute later", created_at=now + timedelta(minutes=1))
        )
        again = c.collect(parse_query("acme"), 50, first.cursor)
    assert "acme a minute later" in [p.text for p in again.posts]


FIXTURES = Path(__file__).parents[1] / "fixtures" / "feeds" / "charset"


@pytest.mark.parametrize(
    ("recording", "charset", "topic", "title"),
    [
        ("koi8r.xml", "koi8-r", "новогоднюю", "Как пережить новогоднюю ночь"),
        ("shiftjis.xml", "shift_jis", "DrecomRSS", "DrecomRSSに記事投稿が反映されない…"),
        ("euckr.xml", "euc-kr", "TypeKey", "EUC-KR 에서 TypeKey 한글닉네임 표시하기"),
        ("eucjp.xml", "euc-jp", "ゲーム三昧な正月", "ゲーム三昧な正月"),
        ("gb2312.xml", "gb2312", "不归移民漫画系列：专业工作", "不归移民漫画系列：专业工作"),
    ],
)
def test_a_feed_whose_charset_is_only_in_the_http_header_is_read_in_it(
    recording, charset, topic, title, retry
) -> None:
    """feedparser's own corpus of real feeds in legacy charsets with no encoding in the XML
    (tests/fixtures/README.md): served with the charset named only by Content-Type."""
    body = (FIXTURES / recording).read_bytes()
    with FeedStandIn({}) as standin:
        standin.fail_next(
            "/legacy", 200, body=body, headers={"content-type": f"text/xml; charset={charset}"}
        )
        batch = FeedCollector([standin.url + "/legacy"], retry).collect(parse_query(topic), 10)
    assert [p.text.splitlines()[0] for p in batch.posts] == [title]


def test_plain_text_keeps_its_brackets_and_a_news_publisher_is_the_author(retry) -> None:
    """An RSS title is plain text unless it holds markup: "&lt;blink&gt;" is the words of the
    headline. A news search item (as Google News serves them) names its publisher in <source>
    and at the end of the title: the publisher becomes the author, and leaves the text."""
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        b"<item><title>acme: History of the &lt;blink&gt; tag</title>"
        b"<link>http://example.org/1</link><guid>1</guid></item>"
        b"<item><title>Acme recalls its phones - TAG24</title><link>http://example.org/2</link>"
        b"<guid>2</guid><source url='https://www.tag24.de'>TAG24</source></item>"
        b"</channel></rss>"
    )
    with FeedStandIn({}) as standin:
        standin.fail_next("/news", 200, body=body, headers={"content-type": "application/rss+xml"})
        batch = FeedCollector([standin.url + "/news"], retry).collect(parse_query("acme"), 10)
    by_url = {p.url: p for p in batch.posts}
    assert by_url["http://example.org/1"].text == "acme: History of the <blink> tag"
    recalled = by_url["http://example.org/2"]
    assert recalled.text == "Acme recalls its phones"
    assert recalled.author == "TAG24"


def test_a_news_topic_item_is_its_headline_not_the_list_of_other_publishers(retry) -> None:
    """As Google News serves a topic: the description lists related articles from other
    publishers (<ol><li><a>headline</a> <font>publisher</font></li>…)."""
    related = "".join(
        f'<li><a href="https://news.example/{i}" target="_blank">Acme story, take {i}</a>'
        f'&nbsp;&nbsp;<font color="#6f6f6f">Paper {i}</font></li>'
        for i in range(5)
    )
    body = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
        "<item><title>Acme recalls its phones - TAG24</title><link>http://example.org/r</link>"
        "<guid>r</guid><source url='https://www.tag24.de'>TAG24</source>"
        f"<description><![CDATA[<ol>{related}</ol>]]></description></item>"
        "</channel></rss>"
    ).encode()
    with FeedStandIn({}) as standin:
        standin.fail_next("/topic", 200, body=body, headers={"content-type": "application/rss+xml"})
        batch = FeedCollector([standin.url + "/topic"], retry, source="news").collect(
            parse_query("acme"), 10
        )
    assert [p.text for p in batch.posts] == ["Acme recalls its phones"]
    assert batch.posts[0].author == "TAG24"
