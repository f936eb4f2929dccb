import pytest

from sentibot.bot.grammar import Analyze, Help, UsageError, parse


@pytest.mark.parametrize("text", ["", "help", "HELP", "  ", "--help"])
def test_help(text: str) -> None:
    assert parse(text) == Help()


def test_analyze_defaults_to_every_source() -> None:
    assert parse("analyze acme") == Analyze(topic="acme", sources=("x", "reddit"))


def test_quoted_multi_word_topic_and_options() -> None:
    cmd = parse('analyze "acme phone" --sources twitter,reddit,x --limit 50')
    assert cmd == Analyze(topic="acme phone", sources=("x", "reddit"), limit=50)


def test_option_with_equals() -> None:
    assert parse("analyze acme --sources=reddit") == Analyze("acme", ("reddit",))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("analyze", "Tell me what to analyze"),
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
