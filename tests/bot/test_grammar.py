import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.grammar import (
    Alert,
    Alerts,
    Analyze,
    Digest,
    Help,
    List,
    Mute,
    Unwatch,
    UsageError,
    Watch,
    format_duration,
    parse,
    parse_duration,
)
from sentibot.sources import source_names


@pytest.mark.parametrize("text", ["", "help", "HELP", "  ", "--help"])
def test_help(text: str) -> None:
    assert parse(text) == Help()


def test_analyze_defaults_to_every_source() -> None:
    assert parse("analyze acme") == Analyze(topic="acme", sources=source_names())
    assert "mastodon" in source_names()


def test_quoted_multi_word_topic_and_options() -> None:
    cmd = parse('analyze "acme phone" --sources twitter,reddit,x,hackernews --limit 50')
    assert cmd == Analyze(topic='"acme phone"', sources=("x", "reddit", "hn"), limit=50)


def test_boolean_topics_keep_phrases_or_and_exclusions() -> None:
    # Exclusions apply to the whole query wherever they stand (the issue's own example).
    cmd = parse("""analyze "acme  phone" -ad OR acmecorp -"giveaway deal" lang:EN""")
    assert cmd == Analyze(
        topic='"acme phone" OR acmecorp -ad -"giveaway deal" lang:en',
        sources=source_names(),
    )


def test_analyze_since() -> None:
    cmd = parse("analyze acme --since 6h")
    assert isinstance(cmd, Analyze)
    assert cmd.since_s == 6 * 3600
    assert parse("analyze acme").since_s == 86400  # type: ignore[union-attr]
    for bad in ("30m", "8d", "soon"):
        result = parse(f"analyze acme --since {bad}")
        assert isinstance(result, UsageError)
        assert "`--since` takes a duration from 1h to 7d" in result.message


def test_watch_unwatch_list() -> None:
    assert parse("watch acme --every 30m --sources hn") == Watch("acme", ("hn",), 1800)
    assert parse("watch acme") == Watch("acme", source_names(), 900)
    assert parse('unwatch "acme phone"') == Unwatch('"acme phone"')
    assert parse("list") == List()
    assert parse("watch acme --backfill 0").backfill_s == 0
    assert parse("watch acme --backfill 36h").backfill_s == 36 * 3600
    assert parse("watch acme").backfill_s is None  # the service's default (BACKFILL_DEFAULT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("watch acme --every 30s", "`--every` takes a duration from 1m to 1d"),
        ("watch acme --every 2d", "`--every` takes a duration from 1m to 1d"),
        ("watch acme --every soon", "`--every` takes a duration"),
        ("watch --every 5m", "Tell me which topic"),
        ("unwatch", "Tell me which topic"),
        ("watch acme --limit 5", "Unknown option `--limit`"),
        ("watch acme --backfill 31d", "`--backfill 31d` takes `0` (none) or a duration up to 30d"),
        ("watch acme --backfill 10m", "takes `0` (none) or a duration"),
    ],
)
def test_bad_watch_commands_say_how_to_fix_them(text: str, expected: str) -> None:
    result = parse(text)
    assert isinstance(result, UsageError)
    assert expected in result.message


def test_durations() -> None:
    assert parse_duration("15m") == 900
    assert parse_duration("1 day") == 86400
    assert parse_duration("2hrs") == 7200
    assert parse_duration("fortnight") is None
    assert [format_duration(s) for s in (60, 900, 3600, 86400, 90)] == [
        "1m",
        "15m",
        "1h",
        "1d",
        "90s",
    ]


def test_option_with_equals() -> None:
    assert parse("analyze acme --sources=reddit") == Analyze("acme", ("reddit",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("analyze", "Tell me which topic"),
        ("analyze acme OR", "does not parse"),
        ("analyze acme --sources myspace", "Unknown source `myspace`"),
        ("analyze acme --sources", "`--sources` needs a value"),
        ("analyze acme --limit lots", "`--limit` must be a whole number"),
        ("analyze acme --limit 0", "`--limit` must be a whole number"),
        ("analyze acme --colour red", "Unknown option `--colour`"),
        ('analyze "acme', "unmatched quote"),
        ("frobnicate acme", "I don't know the command `frobnicate`"),
        ("analyze " + "a" * 300, "too long"),
    ],
)
def test_bad_input_gets_a_usage_message(text: str, expected: str) -> None:
    result = parse(text)
    assert isinstance(result, UsageError)
    assert expected in result.message


def test_arbitrary_input_never_raises() -> None:
    import random

    rng = random.Random(7)
    alphabet = "abc \"'-=,<>@!&\\ analyze--sources--limit 0123"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert isinstance(parse(text), Analyze | Help | UsageError)


@given(st.text(max_size=60))
def test_any_text_gives_a_command_or_a_usage_message(text: str) -> None:
    for prefix in (
        "",
        "analyze ",
        "watch ",
        "unwatch ",
        "alert ",
        "alert acme when ",
        "mute ",
        "digest ",
    ):
        result = parse(prefix + text)
        assert isinstance(
            result,
            Analyze | Watch | Unwatch | List | Alert | Alerts | Mute | Digest | Help | UsageError,
        )
        if isinstance(result, UsageError):
            assert result.message


def test_slack_escaping_is_undone_once_at_the_door() -> None:
    # Slack sends `/sentiment analyze AT&T <b>` as this text.
    cmd = parse("analyze AT&amp;T &lt;b&gt; &amp;amp;")
    assert isinstance(cmd, Analyze)
    assert cmd.topic == "AT&T <b> &amp;"


def test_bidi_and_zero_width_characters_never_reach_a_topic() -> None:
    cmd = parse("watch ac\u202eme\u200b")
    assert isinstance(cmd, Watch)
    assert cmd.topic == "acme"
