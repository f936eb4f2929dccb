"""The `/sentiment` command grammar: a pure parser from text to a command or a usage error."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from sentibot.query import QueryError, parse_query
from sentibot.safe_text import clean_text
from sentibot.sources import canonical_source, source_names

MAX_TOPIC_LEN = 200
MIN_SINCE_S = 3600
MAX_SINCE_S = 7 * 86_400
DEFAULT_SINCE_S = 86_400
MIN_EVERY_S = 60
MAX_EVERY_S = 86_400
DEFAULT_EVERY_S = 900

USAGE = {
    "help": "`/sentiment help` shows this list",
    "analyze": (
        "`/sentiment analyze <topic> [--sources x,reddit,hn,…] [--since 24h] [--limit 200]` "
        "reports how people feel about a topic now, against the window before; quote phrases "
        '(`"acme phone"`), join alternatives with OR, exclude with `-word`, pick a language '
        "with `lang:en`"
    ),
    "watch": (
        "`/sentiment watch <topic> [--sources x,reddit,hn,…] [--every 15m] [--backfill 7d]` "
        "collects posts about a topic on a schedule (every 1m to 1d) for this channel; a new "
        "watch first reads back up to 7 days (`--backfill 0` skips that)"
    ),
    "preview": (
        "`/sentiment preview <topic> [--sources …]` shows, only to you, what a watch would "
        "find: matches in the last 24 h per source, samples, posts a day, X's cost"
    ),
    "unwatch": "`/sentiment unwatch <topic>` stops watching a topic in this channel",
    "list": "`/sentiment list` shows this channel's watches, their sources' health and X spend",
    "alert": (
        "`/sentiment alert <topic> when sentiment < -0.2 | negative > 40% | volume > 3x "
        "[--window 1h] [--cooldown 2h] [--min-posts 10]` tells this channel when it happens"
    ),
    "alerts": "`/sentiment alerts` shows this channel's alert rules and their history",
    "sources": (
        "`/sentiment sources` lists every source: on or off, the setting that turns it on, "
        "what is left of its allowance today, and its health in this channel"
    ),
    "mute": "`/sentiment mute <topic> <duration>` silences a topic's alerts (`0` unmutes)",
    "accuracy": (
        "`/sentiment accuracy [topic]` shows how each model agrees with your team's corrections "
        "(the ⋯ menu beside a post), with the confusion and, from 50 corrections, what they do "
        "to the share estimates"
    ),
    "export": (
        "`/sentiment export <topic> [--since 7d]` uploads a CSV of a watched topic's posts "
        "(source, link, time, author, language, score, theme, corrections) to a thread here"
    ),
    "webhook": (
        "`/sentiment webhook add <https URL> | list | remove <id>` (workspace admins) sends "
        "every alert firing and resolution, and every digest, to a URL as signed JSON"
    ),
    "digest": (
        "`/sentiment digest daily 09:00 [Europe/Berlin] | weekly mon 09:00 [tz] | off` "
        "posts a digest of this channel's watches"
    ),
}


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Analyze:
    topic: str
    sources: tuple[str, ...] = field(default_factory=source_names)
    limit: int | None = None
    since_s: int = DEFAULT_SINCE_S


@dataclass(frozen=True)
class Watch:
    topic: str
    sources: tuple[str, ...] = field(default_factory=source_names)
    every_s: int = DEFAULT_EVERY_S
    backfill_s: int | None = None  # None: the service's default (BACKFILL_DEFAULT)


@dataclass(frozen=True)
class Preview:
    topic: str
    sources: tuple[str, ...] = field(default_factory=source_names)


@dataclass(frozen=True)
class Unwatch:
    topic: str


@dataclass(frozen=True)
class List:
    pass


@dataclass(frozen=True)
class Alert:
    topic: str
    metric: str  # "sentiment", "negative" or "volume"
    op: str  # "<" or ">"
    threshold: float  # compound, share (0..1) or multiple of the baseline
    window_s: int = 3600
    cooldown_s: int = 7200
    min_posts: int = 10


@dataclass(frozen=True)
class Alerts:
    pass


@dataclass(frozen=True)
class Mute:
    topic: str
    seconds: int  # 0 unmutes


@dataclass(frozen=True)
class Digest:
    cadence: str  # "daily", "weekly" or "off"
    at: str = "09:00"  # local HH:MM
    tz: str = "UTC"
    weekday: int | None = None  # 0 = Monday, for weekly digests


@dataclass(frozen=True)
class Sources:
    pass


@dataclass(frozen=True)
class Accuracy:
    topic: str | None = None


@dataclass(frozen=True)
class Export:
    topic: str
    since_s: int = 7 * 86_400


@dataclass(frozen=True)
class Webhook:
    action: str  # "add", "list" or "remove"
    url: str = ""
    webhook_id: int | None = None


@dataclass(frozen=True)
class UsageError:
    message: str


Command = (
    Help
    | Analyze
    | Preview
    | Watch
    | Unwatch
    | List
    | Alert
    | Alerts
    | Mute
    | Digest
    | Sources
    | Webhook
    | Export
    | Accuracy
)


def help_text() -> str:
    lines = ["*sentibot commands*"] + [f"• {line}" for line in USAGE.values()]
    return "\n".join(lines)


def from_slack(text: str) -> str:
    """Command text as the person typed it: Slack escapes &, < and > (undone once, here), and
    control, bidi and zero-width characters are dropped so no echo can hide or reorder text."""
    unescaped = (text or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return clean_text(unescaped)


def parse(text: str) -> Command | UsageError:
    """Parse what follows `/sentiment` (as Slack sends it). Never raises."""
    try:
        words = shlex.split(from_slack(text))
    except ValueError:
        return UsageError("That command has an unmatched quote.\n" + help_text())
    if not words or words[0].lower() in ("help", "-h", "--help", "?"):
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb in ("analyze", "analyse", "a"):
        return _parse_analyze(args)
    if verb == "preview":
        return _parse_preview(args)
    if verb in ("watch", "follow", "track"):
        return _parse_watch(args)
    if verb in ("unwatch", "unfollow", "untrack", "stop"):
        topic = _topic(_requote(args), "unwatch")
        return topic if isinstance(topic, UsageError) else Unwatch(topic)
    if verb in ("list", "ls", "watches"):
        return List()
    if verb == "alert":
        return _parse_alert(args)
    if verb == "alerts":
        return Alerts()
    if verb in ("sources", "source"):
        return Sources()
    if verb in ("mute", "unmute", "snooze"):
        return _parse_mute(args, unmute=verb == "unmute")
    if verb in ("digest", "digests"):
        return _parse_digest(args)
    if verb == "accuracy":
        if not args:
            return Accuracy()
        topic = _topic(_requote(args), "accuracy")
        return topic if isinstance(topic, UsageError) else Accuracy(topic)
    if verb == "export":
        return _parse_export(args)
    if verb in ("webhook", "webhooks"):
        return _parse_webhook(args)
    return UsageError(f"I don't know the command `{_clip(verb)}`.\n" + help_text())


def _split_options(
    args: list[str], verb: str, allowed: tuple[str, ...]
) -> tuple[list[str], dict[str, str]] | UsageError:
    words: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        word = args[i]
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            if name not in allowed:
                return UsageError(f"Unknown option `--{_clip(name)}`.\nUsage: {USAGE[verb]}")
            if not value:
                if i + 1 >= len(args):
                    return UsageError(f"`--{_clip(name)}` needs a value.\nUsage: {USAGE[verb]}")
                i += 1
                value = args[i]
            options[name] = value
        else:
            words.append(word)
        i += 1
    return words, options


def _requote(words: list[str]) -> str:
    """Put back the quotes shlex removed, so phrases stay phrases for the query grammar."""
    out = []
    for word in words:
        if any(c.isspace() for c in word.strip()):
            neg = word.startswith("-")
            inner = " ".join(word[1:].split()) if neg else " ".join(word.split())
            out.append(f'{"-" if neg else ""}"{inner}"')
        else:
            out.append(word)
    return " ".join(out)


def _topic(text: str, verb: str) -> str | UsageError:
    """The topic as a canonical query, or what is wrong with it."""
    if not text.strip():
        return UsageError(f"Tell me which topic.\nUsage: {USAGE[verb]}")
    if len(text) > MAX_TOPIC_LEN:
        return UsageError(f"That topic is too long (at most {MAX_TOPIC_LEN} characters).")
    try:
        return parse_query(text).canonical()
    except QueryError as exc:
        return UsageError(f"That topic does not parse: {exc}.\nUsage: {USAGE[verb]}")


def _topic_and_sources(
    args: list[str], verb: str, allowed: tuple[str, ...]
) -> tuple[str, tuple[str, ...], dict[str, str]] | UsageError:
    """What `analyze`, `preview` and `watch` share: the topic, `--sources` (every source by
    default) and the verb's other options, still unparsed."""
    split = _split_options(args, verb, allowed)
    if isinstance(split, UsageError):
        return split
    words, options = split
    topic = _topic(_requote(words), verb)
    if isinstance(topic, UsageError):
        return topic
    sources = _parse_sources(options["sources"]) if "sources" in options else source_names()
    if isinstance(sources, UsageError):
        return sources
    return topic, sources, options


def _parse_analyze(args: list[str]) -> Analyze | UsageError:
    parsed = _topic_and_sources(args, "analyze", ("sources", "limit", "since"))
    if isinstance(parsed, UsageError):
        return parsed
    topic, sources, options = parsed
    limit: int | None = None
    if "limit" in options:
        value = options["limit"]
        # Its ceiling is a setting (QUOTA_MAX_LIMIT), asked by the quota, not written here.
        if not value.isdigit() or int(value) < 1 or len(value) > 9:
            return UsageError("`--limit` must be a whole number of posts, 1 or more.")
        limit = int(value)
    since = DEFAULT_SINCE_S
    if "since" in options:
        seconds = parse_duration(options["since"])
        if seconds is None or not MIN_SINCE_S <= seconds <= MAX_SINCE_S:
            return UsageError("`--since` takes a duration from 1h to 7d, like `6h` or `3d`.")
        since = seconds
    return Analyze(topic=topic, sources=sources, limit=limit, since_s=since)


def _parse_preview(args: list[str]) -> Preview | UsageError:
    parsed = _topic_and_sources(args, "preview", ("sources",))
    if isinstance(parsed, UsageError):
        return parsed
    topic, sources, _ = parsed
    return Preview(topic=topic, sources=sources)


def _parse_watch(args: list[str]) -> Watch | UsageError:
    parsed = _topic_and_sources(args, "watch", ("sources", "every", "backfill"))
    if isinstance(parsed, UsageError):
        return parsed
    topic, sources, options = parsed
    every = DEFAULT_EVERY_S
    if "every" in options:
        seconds = parse_duration(options["every"])
        if seconds is None or not MIN_EVERY_S <= seconds <= MAX_EVERY_S:
            return UsageError("`--every` takes a duration from 1m to 1d, like `15m`, `2h` or `1d`.")
        every = seconds
    backfill = None
    if "backfill" in options:
        backfill = parse_backfill(options["backfill"])
        if backfill is None:
            return UsageError(
                f"`--backfill {_clip(options['backfill'])}` takes `0` (none) or a duration up "
                f"to 30d, like `7d` or `36h`.\nUsage: {USAGE['watch']}"
            )
    return Watch(topic=topic, sources=sources, every_s=every, backfill_s=backfill)


MAX_BACKFILL_S = 30 * 86_400


def parse_backfill(text: str) -> int | None:
    """`7d` → seconds, `0`/`off`/`no` → 0; None where it is neither (or over 30 days)."""
    if text.strip().lower() in ("0", "off", "no", "none"):
        return 0
    seconds = parse_duration(text)
    return seconds if seconds is not None and 3600 <= seconds <= MAX_BACKFILL_S else None


_DURATION = re.compile(r"^(\d{1,5})\s*(s|sec|m|min|h|hr|d|day)s?$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400}


def parse_duration(text: str) -> int | None:
    """`15m` → 900; None where it is not a duration."""
    match = _DURATION.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_S[match.group(2).lower()]


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _parse_sources(value: str) -> tuple[str, ...] | UsageError:
    names: list[str] = []
    for raw in value.split(","):
        if not raw.strip():
            continue
        name = canonical_source(raw)
        if name is None:
            known = ", ".join(source_names())
            return UsageError(f"Unknown source `{_clip(raw)}`; sources are: {known}.")
        if name not in names:
            names.append(name)
    if not names:
        return UsageError("`--sources` needs at least one source, e.g. `--sources x,reddit`.")
    return tuple(names)


def _clip(text: str, n: int = 40) -> str:
    text = text.replace("`", "'")
    return text if len(text) <= n else text[: n - 1] + "…"


_ALERT_CONDITION = re.compile(
    r"^(sentiment|negative|volume)\s*(<|>|below|above)\s*(-?\d+(?:\.\d+)?)\s*(%|x)?$",
    re.IGNORECASE,
)


def _parse_alert(args: list[str]) -> Alert | UsageError:
    split = _split_options(args, "alert", ("window", "cooldown", "min-posts"))
    if isinstance(split, UsageError):
        return split
    words, options = split
    lowered = [w.lower() for w in words]
    if "when" not in lowered:
        return UsageError(f"Say when to alert, after `when`.\nUsage: {USAGE['alert']}")
    cut = lowered.index("when")
    topic = _topic(_requote(words[:cut]), "alert")
    if isinstance(topic, UsageError):
        return topic
    match = _ALERT_CONDITION.match(" ".join(words[cut + 1 :]))
    if not match:
        return UsageError(
            "I understand `sentiment < -0.2`, `negative > 40%` and `volume > 3x`.\n"
            f"Usage: {USAGE['alert']}"
        )
    metric, op, number, unit = match.groups()
    metric, value = metric.lower(), float(number)
    op = {"below": "<", "above": ">"}.get(op.lower(), op)
    if metric == "sentiment":
        if not -1 <= value <= 1 or unit:
            return UsageError("Sentiment runs from -1 to 1: `sentiment < -0.2`.")
    elif metric == "negative":
        if op != ">":
            return UsageError("Negative share alerts fire above a share: `negative > 40%`.")
        value = value / 100 if unit == "%" or value > 1 else value
        if not 0 < value < 1:
            return UsageError("The negative share must be between 0% and 100%.")
    else:
        if op != ">" or value <= 1 or unit == "%":
            return UsageError("Volume alerts fire above a multiple of usual: `volume > 3x`.")
    window, cooldown = 3600, 7200
    for name, low, high in (("window", 300, 86_400), ("cooldown", 0, 7 * 86_400)):
        if name in options:
            seconds = parse_duration(options[name]) if options[name] != "0" else 0
            if seconds is None or not low <= seconds <= high:
                return UsageError(
                    f"`--{name}` takes a duration from {format_duration(low) if low else '0'} "
                    f"to {format_duration(high)}."
                )
            window, cooldown = (seconds, cooldown) if name == "window" else (window, seconds)
    min_posts = 10
    if "min-posts" in options:
        if not options["min-posts"].isdigit() or not 1 <= int(options["min-posts"]) <= 10_000:
            return UsageError("`--min-posts` must be a whole number from 1 to 10000.")
        min_posts = int(options["min-posts"])
    return Alert(topic, metric, op, value, window, cooldown, min_posts)


def _parse_mute(args: list[str], unmute: bool) -> Mute | UsageError:
    if unmute:
        topic = _topic(_requote(args), "mute")
        return topic if isinstance(topic, UsageError) else Mute(topic, 0)
    if len(args) < 2:
        return UsageError(f"Say which topic and for how long.\nUsage: {USAGE['mute']}")
    seconds = 0 if args[-1] in ("0", "off") else parse_duration(args[-1])
    if seconds is None or seconds > 30 * 86_400:
        return UsageError("Mute for a duration up to 30d, like `4h` or `2d` (`0` unmutes).")
    topic = _topic(_requote(args[:-1]), "mute")
    return topic if isinstance(topic, UsageError) else Mute(topic, seconds)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse_digest(args: list[str]) -> Digest | UsageError:
    words = [w.strip() for w in args if w.strip()]
    if words and words[0].lower() in ("off", "stop", "none"):
        return Digest("off")
    if not words or words[0].lower() not in ("daily", "weekly"):
        return UsageError(f"Daily or weekly?\nUsage: {USAGE['digest']}")
    cadence, rest = words[0].lower(), words[1:]
    weekday = None
    if cadence == "weekly":
        day = rest[0][:3].lower() if rest else ""
        if day not in _WEEKDAYS:
            return UsageError("Weekly digests need a day: `weekly mon 09:00`.")
        weekday, rest = _WEEKDAYS.index(day), rest[1:]
    if not rest or not _CLOCK.match(rest[0]):
        return UsageError("Give the time as HH:MM in 24-hour form, like `09:00`.")
    hour, minute = rest[0].split(":")
    at = f"{int(hour):02d}:{minute}"
    tz = rest[1] if len(rest) > 1 else "UTC"
    if len(rest) > 2:
        return UsageError(f"Too many words.\nUsage: {USAGE['digest']}")
    if not valid_timezone(tz):
        return UsageError(f"`{_clip(tz)}` is not a time zone; use a name like `Europe/Berlin`.")
    return Digest(cadence, at, tz, weekday)


def valid_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", name):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


MAX_URL_LEN = 2000
MAX_EXPORT_S = 90 * 86_400


def _parse_export(args: list[str]) -> Export | UsageError:
    split = _split_options(args, "export", ("since",))
    if isinstance(split, UsageError):
        return split
    words, options = split
    topic = _topic(_requote(words), "export")
    if isinstance(topic, UsageError):
        return topic
    since_s = Export.since_s
    if "since" in options:
        parsed = parse_duration(options["since"])
        if parsed is None or not MIN_SINCE_S <= parsed <= MAX_EXPORT_S:
            return UsageError(
                f"`--since {_clip(options['since'])}` must be a duration from 1h to 90d "
                f"(`7d`, `36h`).\nUsage: {USAGE['export']}"
            )
        since_s = parsed
    return Export(topic, since_s)


def _parse_webhook(args: list[str]) -> Webhook | UsageError:
    usage = f"Usage: {USAGE['webhook']}"
    action = args[0].lower() if args else "list"
    if action in ("list", "ls") and len(args) <= 1:
        return Webhook("list")
    if action == "add" and len(args) == 2:
        url = args[1].strip("<>").split("|", 1)[0]  # Slack wraps links as <url|label>
        if len(url) > MAX_URL_LEN or not re.match(r"(?i)^https?://[^\s/?#@]+", url):
            return UsageError(f"`{_clip(url)}` is not an http(s) URL.\n{usage}")
        return Webhook("add", url=url)
    if action in ("remove", "rm", "delete") and len(args) == 2 and args[1].isdigit():
        return Webhook("remove", webhook_id=int(args[1]))
    return UsageError(usage)
