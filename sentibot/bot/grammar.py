"""The `/sentiment` command grammar: a pure parser from text to a command or a usage error."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from sentibot.collectors.registry import SOURCE_NAMES, canonical_source

MAX_TOPIC_LEN = 200
MAX_LIMIT = 1000

USAGE = {
    "help": "`/sentiment help` shows this list",
    "analyze": (
        "`/sentiment analyze <topic> [--sources x,reddit] [--limit 200]` reports how people "
        'feel about a topic right now; quote multi-word topics: `"acme phone"`'
    ),
}


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Analyze:
    topic: str
    sources: tuple[str, ...] = field(default=SOURCE_NAMES)
    limit: int | None = None


@dataclass(frozen=True)
class UsageError:
    message: str


Command = Help | Analyze


def help_text() -> str:
    lines = ["*sentibot commands*"] + [f"• {line}" for line in USAGE.values()]
    return "\n".join(lines)


def parse(text: str) -> Command | UsageError:
    """Parse what follows `/sentiment`. Never raises."""
    try:
        words = shlex.split(text or "")
    except ValueError:
        return UsageError("That command has an unmatched quote.\n" + help_text())
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb in ("analyze", "analyse", "a"):
        return _parse_analyze(args)
    return UsageError(f"I don't know the command `{_clip(verb)}`.\n" + help_text())


def _parse_analyze(args: list[str]) -> Analyze | UsageError:
    topic_words: list[str] = []
    sources: tuple[str, ...] = SOURCE_NAMES
    limit: int | None = None
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            if not value:
                if i + 1 >= len(args):
                    return UsageError(
                        f"`--{_clip(name)}` needs a value.\nUsage: {USAGE['analyze']}"
                    )
                i += 1
                value = args[i]
            if name == "sources":
                parsed = _parse_sources(value)
                if isinstance(parsed, UsageError):
                    return parsed
                sources = parsed
            elif name == "limit":
                if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
                    return UsageError(f"`--limit` must be a whole number from 1 to {MAX_LIMIT}.")
                limit = int(value)
            else:
                return UsageError(f"Unknown option `--{_clip(name)}`.\nUsage: {USAGE['analyze']}")
        else:
            topic_words.append(word)
        i += 1
    topic = " ".join(topic_words).strip()
    if not topic:
        return UsageError(f"Tell me what to analyze.\nUsage: {USAGE['analyze']}")
    if len(topic) > MAX_TOPIC_LEN:
        return UsageError(f"That topic is too long (at most {MAX_TOPIC_LEN} characters).")
    return Analyze(topic=topic, sources=sources, limit=limit)


def _parse_sources(value: str) -> tuple[str, ...] | UsageError:
    names: list[str] = []
    for raw in value.split(","):
        if not raw.strip():
            continue
        name = canonical_source(raw)
        if name is None:
            known = ", ".join(SOURCE_NAMES)
            return UsageError(f"Unknown source `{_clip(raw)}`; sources are: {known}.")
        if name not in names:
            names.append(name)
    if not names:
        return UsageError("`--sources` needs at least one source, e.g. `--sources x,reddit`.")
    return tuple(names)


def _clip(text: str, n: int = 40) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= n else text[: n - 1] + "…"
