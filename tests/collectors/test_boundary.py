"""The one boundary where outside text becomes a storable Post: hostile input in, safe out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collectors.boundary import MAX_TEXT, clean_post, html_to_text
from collectors.registry import Cleaned
from sentibot.query import Query, parse_query
from sentibot.sources import Batch, Post, SourceSkipped, build_collectors, collect, source_names

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _post(**fields: object) -> Post:
    base = {"source": "rss", "external_id": "1", "text": "acme is fine", "author": "ann"}
    return Post(**{**base, **fields})  # type: ignore[arg-type]


def test_control_characters_surrogates_and_invisible_formatting_are_removed() -> None:
    hostile = "acme\x00 is \ud800bro\u202eken\u200b \x1b[31mred\x7f\r\nnext"
    cleaned = clean_post(_post(text=hostile, author="evil\x00\u2066name"), NOW)
    assert cleaned is not None
    assert cleaned.text == "acme is broken [31mred\nnext"
    assert cleaned.author == "evilname"


def test_fields_are_bounded_to_their_columns() -> None:
    cleaned = clean_post(
        _post(
            external_id="x" * 500,
            text="a" * (MAX_TEXT + 10),
            author="b" * 1000,
            lang="en-" + "x" * 40,
            engagement=10**15,
        ),
        NOW,
    )
    assert cleaned is not None
    assert len(cleaned.text) == MAX_TEXT
    assert len(cleaned.author or "") == 255
    assert cleaned.lang == "en"  # the language part of an overlong tag
    assert cleaned.engagement == 2**31 - 1
    assert cleaned.external_id.startswith("sha1:")
    assert len(cleaned.external_id) <= 64
    other = clean_post(_post(external_id="x" * 499 + "y"), NOW)
    assert other is not None
    assert other.external_id != cleaned.external_id


def test_times_after_now_are_clamped_and_naive_times_are_utc() -> None:
    future = clean_post(_post(created_at=datetime(2150, 1, 1, tzinfo=UTC)), NOW)
    assert future is not None
    assert future.created_at == NOW
    naive = clean_post(_post(created_at=datetime(2026, 1, 1)), NOW)
    assert naive is not None
    assert naive.created_at == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_post_with_nothing_left_is_dropped() -> None:
    assert clean_post(_post(text="\x00\u200b  "), NOW) is None
    assert clean_post(_post(external_id="\x00"), NOW) is None


def test_a_mastodon_hashtag_stays_one_word() -> None:
    # As Mastodon writes a hashtag in a tag feed's HTML.
    markup = (
        '<p>Upgraded our <a href="https://mastodon.example/tags/kubernetes" class="mention '
        'hashtag" rel="tag">#<span>kubernetes</span></a> cluster &amp; it <b>flew</b></p>'
        "<p>second&nbsp;paragraph</p>"
    )
    text = html_to_text(markup)
    assert text == "Upgraded our #kubernetes cluster & it flew second paragraph"
    assert parse_query("#kubernetes").matches(text)


def test_entities_are_decoded_once() -> None:
    assert html_to_text("AT&amp;amp;T &lt;b&gt;") == "AT&amp;T <b>"


class _Hostile:
    name = "rss"

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        return Batch(
            [
                _post(external_id="1", text="acme \x00 good"),
                _post(external_id="2", text="\u200b"),
                _post(external_id="3", created_at=NOW + timedelta(days=365 * 100)),
            ],
            cursor="3",
        )


def test_every_source_passes_the_boundary_in_collect(settings) -> None:
    """Every collector the core builds is wrapped in the boundary (collectors/registry.py)."""
    built = build_collectors(settings, source_names())
    assert all(isinstance(c, Cleaned | SourceSkipped) for c in built.values())
    assert any(isinstance(c, Cleaned) for c in built.values())
    collection = collect(parse_query("acme"), {"rss": Cleaned(_Hostile())}, 10)
    assert [p.external_id for p in collection.posts] == ["1", "3"]
    assert collection.posts[0].text == "acme  good"
    assert collection.posts[1].created_at <= datetime.now(UTC)
    assert collection.reports["rss"].count == 2
    assert collection.cursors["rss"] == "3"


def test_a_language_the_source_declares_is_kept_and_others_are_detected() -> None:
    def lang_of(text: str, declared: str | None = None) -> str | None:
        cleaned = clean_post(_post(text=text, lang=declared), NOW)
        return cleaned.lang if cleaned else None

    assert lang_of("whatever the words", "pt-BR") == "pt"
    assert lang_of("今日はアクメの新しい電話がとても良いです") == "ja"
    assert lang_of("Eu adoro o novo telefone da acme, é ótimo") == "pt"
    assert lang_of("I really love the new acme phone, it is great") == "en"
    assert lang_of("lol https://t.co/abc") is None  # too little to tell
    assert lang_of("Ich liebe das neue Telefon von acme sehr", "und") == "de"  # X: undetermined
    # Plain English slang the detector half-believes is Nigerian Pidgin or Tagalog: no
    # language rather than a wrong one, so the post is read as the model's language, not left out.
    assert lang_of("the app dey crash every time o") is None
    assert lang_of("Oga abeg make una fix am sharp sharp") is None
