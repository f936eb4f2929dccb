"""The query grammar and what it compiles to for each source."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentibot.query import QueryError, parse_query


def test_phrases_or_exclusions_and_language() -> None:
    q = parse_query('"acme phone" OR acmecorp -ad lang:EN')
    assert q.canonical() == '"acme phone" OR acmecorp -ad lang:en'
    assert q.to_x() == '("acme phone" OR acmecorp) -ad lang:en -is:retweet'
    assert q.to_reddit() == '("acme phone" OR acmecorp) NOT ad'
    assert q.to_algolia() == ['"acme phone" -ad', "acmecorp -ad"]
    assert q.keywords() == ["acme", "acmecorp", "phone"]


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Loving my new Acme   Phone", None, True),
        ("acmecorp shipped", "en", True),
        ("acmecorp shipped", "de", False),  # wrong language
        ("acme phone ad: 50% off", None, False),  # excluded word
        ("bad acmecorp", None, True),  # "ad" inside "bad" is not the word ad
        ("acme and a phone", None, False),  # the phrase, not the two words apart
    ],
)
def test_matching_is_whole_words_case_insensitive(
    text: str, lang: str | None, expected: bool
) -> None:
    q = parse_query('"acme phone" OR acmecorp -ad lang:en')
    assert q.matches(text, lang) is expected


def test_space_means_and() -> None:
    q = parse_query("acme outage")
    assert q.matches("acme outage today")
    assert not q.matches("acme is fine")
    assert q.to_x() == "acme outage -is:retweet"
    assert q.to_algolia() == ["acme outage"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one word"),
        ("-ad", "at least one word"),
        ("OR acme", "both sides"),
        ("acme OR", "both sides"),
        ("acme OR OR b", "both sides"),
        ("acme OR -b", "exclusion"),
        ('"acme phone', "not closed"),
        ("acme lang:english", "lang:en"),
        (" ".join(["w"] * 21), "at most 20"),
    ],
)
def test_bad_queries_say_how_to_fix_them(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_algolia_expansions_are_bounded() -> None:
    q = parse_query("a OR b OR c d OR e OR f g OR h")
    assert len(q.to_algolia()) == 8


@given(st.text(max_size=80))
def test_any_text_parses_or_gives_a_query_error(text: str) -> None:
    try:
        q = parse_query(text)
    except QueryError as exc:
        message = str(exc)
        q = None
    if q is None:
        assert message
        return
    assert q.groups
    # The canonical form means the same query.
    assert parse_query(q.canonical()) == q
    q.matches(text)
    q.to_x()
    q.to_reddit()


def test_operators_the_grammar_does_not_define_are_searched_as_words() -> None:
    q = parse_query("from:elonmusk url:acme.com (acme) AND NOT subreddit:x")
    x = q.to_x()
    assert x.startswith('"from:elonmusk" "url:acme.com" "(acme)" "AND" "NOT" "subreddit:x"')
    assert " from:" not in " " + x.split(" -is:retweet")[0].replace('"from:', "")
    assert q.to_reddit() == '"from:elonmusk" "url:acme.com" "(acme)" "AND" "NOT" "subreddit:x"'
    assert q.to_algolia() == ['"from:elonmusk" "url:acme.com" "(acme)" "AND" "NOT" "subreddit:x"']
    # What the grammar defines still works, and the topic reads as typed.
    assert (
        parse_query("acme OR gizmo -ad lang:en").to_x() == "(acme OR gizmo) -ad lang:en -is:retweet"
    )
    assert q.canonical() == "from:elonmusk url:acme.com (acme) AND NOT subreddit:x"


def test_a_term_beside_a_script_without_spaces_is_a_whole_word() -> None:
    """Japanese, Chinese and Korean attach words and particles to a name without a space;
    Latin letters around a name still make another word."""
    assert parse_query("DrecomRSS").matches("DrecomRSSに記事投稿が反映されない")
    assert parse_query("TypeKey").matches("EUC-KR 에서 TypeKey에서 표시하기")
    assert parse_query("正月").matches("ゲーム三昧な正月")
    assert not parse_query("acme").matches("acmeville is lovely")
    assert not parse_query("acme").matches("the megaacme sale")
