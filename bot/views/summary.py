"""Block Kit for an on-demand analysis summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.grammar import format_duration
from bot.views.mrkdwn import clip, escape, link, quote_inline
from sentibot.report.aggregate import Breakdown, ScoredText, Summary, change, drivers, top_posts
from sentibot.report.masking import model_name
from sentibot.report.movers import Movement
from sentibot.report.quantify import MIN_POSTS
from sentibot.report.themes import Theme
from sentibot.sources import ReportStatus, SourceReport, display_name

SECTION_LIMIT = 3000  # characters of mrkdwn per section text
WATCH_ACTION = "watch_topic"
MORE_ACTION = "more_posts"


def mood(b: Breakdown) -> str:
    if b.count == 0:
        return "no posts"
    if b.mean_compound >= 0.3:
        return "very positive"
    if b.mean_compound >= 0.05:
        return "positive"
    if b.mean_compound <= -0.3:
        return "very negative"
    if b.mean_compound <= -0.05:
        return "negative"
    return "neutral"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def breakdown_line(b: Breakdown) -> str:
    return (
        f"{b.count} posts · mean {b.mean_compound:+.2f} · "
        f"neg {_pct(b.negative_share)} / neu {_pct(b.neutral_share)} / pos {_pct(b.positive_share)}"
    )


def shares_text(b: Breakdown) -> str:
    """`negative 34% (29–39%) · neutral 20% (15–26%) · positive 46% (40–52%)`; below
    MIN_POSTS effective posts, "too few posts" instead of numbers that would mislead."""
    if not b.shares.enough:
        return f"shares: too few posts (fewer than {MIN_POSTS} distinct) to estimate"
    values = (b.negative_share, b.neutral_share, b.positive_share)
    parts = [
        f"{label} {_pct(v)} ({lo * 100:.0f}–{hi * 100:.0f}%)"
        for label, v, (lo, hi) in zip(
            ("negative", "neutral", "positive"), values, b.shares.ci95, strict=True
        )
    ]
    return " · ".join(parts)


def _points(x: float) -> str:
    return f"{x * 100:+.0f}"


def movement_line(m: Movement) -> str:
    """`Negative 20% → 34% (+14, 95% CI +8 to +20): *cancelled flights* (X, Reddit) +9,
    X +5; without the 3 loudest accounts +12`, or that the change is within the noise."""
    then, now = _pct(m.before.values[0]), _pct(m.now.values[0])
    ci = f"95% CI {_points(m.ci95[0])} to {_points(m.ci95[1])}"
    if not (m.now.enough and m.before.enough):
        return f"Negative {then} → {now}: too few posts to call it a change"
    if not m.significant:
        return f"Negative {then} → {now}: within the noise ({ci})"
    named = []
    loud = None
    # Themes first (they say what people talk about), then sources and languages.
    for mover in sorted(m.movers, key=lambda x: x.kind != "theme"):
        if mover.kind == "authors":
            loud = f"without {escape(mover.label)} {_points(m.delta - mover.contribution)}"
            continue
        if mover.kind == "theme":
            where = ", ".join(display_name(s) for s in mover.sources)
            label = f"*{escape(mover.label)}*" + (f" ({escape(where)})" if where else "")
        else:
            label = escape(display_name(mover.label) if mover.kind == "source" else mover.label)
        named.append(f"{label} {_points(mover.contribution)}")
    why = ", ".join(named[:4])
    tail = "; ".join(x for x in (why, loud) if x)
    return f"Negative {then} → {now} ({_points(m.delta)}, {ci})" + (f": {tail}" if tail else "")


def share_bar(b: Breakdown, width: int = 20) -> str:
    if b.count == 0:
        return ""
    neg = round(b.negative_share * width)
    pos = round(b.positive_share * width)
    neu = max(0, width - neg - pos)
    return "🟥" * neg + "⬜" * neu + "🟩" * pos


def source_line(name: str, report: SourceReport, b: Breakdown | None) -> str:
    label = display_name(name)
    if report.status == ReportStatus.SKIPPED:
        return f"*{label}*: skipped, {escape(report.reason or 'not configured')}"
    if report.status == ReportStatus.FAILED:
        return f"*{label}*: failed, {escape(report.reason or 'unknown error')}"
    partial = f" · partly read: {escape(report.reason)}" if report.reason else ""
    if b is None or b.count == 0:
        return f"*{label}*: no posts found{partial}"
    return f"*{label}*: {breakdown_line(b)}{partial}"


def post_line(p: ScoredText) -> str:
    text = quote_inline(p.text, 220)
    where = link(p.url, display_name(p.source) if p.source else "post")
    return f">{text}\n>{where} · {p.engagement} engagement · {p.sentiment.compound:+.2f}"


CORRECT_ACTION = "post_correct"
_WRONG = {"negative": "Wrong: negative", "neutral": "Wrong: neutral", "positive": "Wrong: positive"}


def correction_menu(p: ScoredText, watch_id: int | None) -> dict:
    """The overflow menu beside a post: right as scored, the two other labels, off topic.
    Its value carries the post, the answer and the watch (for an exclusion)."""
    options = []
    for label, text in _WRONG.items():
        shown = f"✓ Right: {label}" if label == p.sentiment.label else text
        options.append((shown, label))
    options.append(("Not about this topic", "off_topic"))
    return {
        "type": "overflow",
        "action_id": CORRECT_ACTION,
        "options": [
            {
                "text": {"type": "plain_text", "text": shown},
                "value": f"{p.post_id}|{label}|{watch_id or ''}",
            }
            for shown, label in options
        ],
    }


def post_block(p: ScoredText, watch_id: int | None = None) -> dict:
    """A post as its own section, with the correction menu where the post is a stored one."""
    block: dict = {"type": "section", "text": {"type": "mrkdwn", "text": post_line(p)}}
    if p.post_id is not None:
        block["accessory"] = correction_menu(p, watch_id)
    return block


def posts_blocks(posts: Sequence[ScoredText], watch_id: int | None = None) -> list[dict]:
    blocks: list[dict] = []
    for label, title in (
        ("negative", "Most engaging negative"),
        ("positive", "Most engaging positive"),
    ):
        chosen = top_posts(posts, label, n=2)
        if chosen:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}})
            blocks += [post_block(p, watch_id) for p in chosen]
    return blocks


def drivers_section(posts: Sequence[ScoredText], topic: str) -> str:
    lines = []
    for label, title in (("negative", "Driving negative"), ("positive", "Driving positive")):
        found = drivers(posts, label, topic=topic, n=6)
        if found:
            terms = ", ".join(f"`{escape(d.term).replace('`', '')}` ({d.count})" for d in found)
            lines.append(f"*{title}:* {terms}")
    return clip("\n".join(lines), SECTION_LIMIT)


def report_buttons(topic: str, job_id: int | None) -> dict:
    elements = [
        {
            "type": "button",
            "action_id": WATCH_ACTION,
            "text": {"type": "plain_text", "text": "Watch this topic"},
            "value": topic[:2000],
        }
    ]
    if job_id is not None:
        elements.append(
            {
                "type": "button",
                "action_id": MORE_ACTION,
                "text": {"type": "plain_text", "text": "Show more posts"},
                "value": str(job_id),
            }
        )
    return {"type": "actions", "elements": elements}


def more_posts(posts: Sequence[ScoredText], shown: int = 2, n: int = 10) -> str:
    """The posts after the ones a report shows, most engaging and strongest first."""
    ranked = sorted(
        posts, key=lambda p: (p.engagement + 1) * abs(p.sentiment.compound), reverse=True
    )
    rest = ranked[shown * 2 : shown * 2 + n]
    if not rest:
        return "No more posts in this report."
    return clip("*More posts*\n" + "\n".join(post_line(p) for p in rest), SECTION_LIMIT)


def change_line(
    current: Breakdown, previous: Breakdown, window_s: int, moved: Movement | None = None
) -> str:
    """The window against the one before it: net sentiment in points and volume in percent,
    and the negative share's change with what moved it (or that it is within the noise)."""
    span = format_duration(window_s)
    if previous.count == 0:
        return f"vs the {span} before: no posts then to compare with"
    c = change(current, previous)
    arrow = "▲" if c.net_delta > 0.005 else "▼" if c.net_delta < -0.005 else "■"
    if moved is not None and not moved.significant:
        arrow = "■"
    volume = (c.volume_ratio or 0) - 1
    line = (
        f"vs the {span} before: net {arrow} {c.net_delta * 100:+.0f} pts "
        f"(was {previous.net * 100:+.0f}) · volume {volume * 100:+.0f}% "
        f"({previous.count} posts then)"
    )
    return line + (f"\n{movement_line(moved)}" if moved is not None else "")


def render_summary(
    summary: Summary,
    sources: dict[str, SourceReport],
    model: str = "vader",
    posts: Sequence[ScoredText] = (),
    previous: Breakdown | None = None,
    window_s: int | None = None,
    job_id: int | None = None,
    languages: Mapping[str, int] | None = None,
    unscored: int = 0,
    unique_authors: int = 0,
    duplicates_merged: int = 0,
    themes: Sequence[Theme] = (),
    moved: Movement | None = None,
) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for a finished analysis."""
    # Header text is plain_text (never parsed for mentions); everything else is escaped mrkdwn.
    raw_topic = " ".join(summary.topic.split())[:120]
    topic = quote_inline(summary.topic, 150)
    o = summary.overall
    if o.count:
        mood_text = f"{mood(o)} ({o.mean_compound:+.2f})"
    else:
        mood_text = "no posts found"
    headline = f"Sentiment for “{raw_topic}”: {mood_text}"
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
    ]
    if o.count:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{o.count} posts*"
                    + integrity_note(unique_authors, duplicates_merged)
                    + f" · mean sentiment *{o.mean_compound:+.2f}* "
                    f"(95% CI {o.ci_low:+.2f} to {o.ci_high:+.2f}) · net {o.net * 100:+.0f}\n"
                    f"{share_bar(o)}\n{shares_text(o)}"
                    + (
                        f"\n{change_line(o, previous, window_s, moved)}"
                        if previous is not None and window_s
                        else ""
                    ),
                },
            }
        )
    lines = [source_line(n, r, summary.by_source.get(n)) for n, r in sources.items()]
    model = model_name(model)
    mix = language_line(languages or {}, unscored, model)
    if mix:
        lines.append(mix)
    if lines:
        text = clip("\n".join(lines), SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    for text in (
        themes_section(themes),
        drivers_section(posts, summary.topic),
    ):
        if text:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks += posts_blocks(posts)
    if o.count:
        blocks.append(report_buttons(summary.topic, job_id if posts else None))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"sentibot · model {escape(model)} · on-demand analysis"
                    + (f" of the last {format_duration(window_s)}" if window_s else ""),
                }
            ],
        }
    )
    fallback = f"Sentiment for “{topic}”: {mood_text}"
    if o.count:
        fallback += f" — {breakdown_line(o)}"
    return fallback, blocks


def theme_line(t: Theme) -> str:
    """`*checkout / errors* · 58 posts · -0.61 · 70% negative · new`"""
    change = t.change()
    return (
        f"*{escape(t.label)}* · {t.count:,} posts · {t.mean_compound:+.2f} · "
        f"{_pct(t.negative_share)} negative" + (f" · {change}" if change else "")
    )


def themes_section(themes: Sequence[Theme]) -> str:
    if not themes:
        return ""
    return clip("*Themes*\n" + "\n".join(f"• {theme_line(t)}" for t in themes), SECTION_LIMIT)


def integrity_note(unique_authors: int, duplicates_merged: int) -> str:
    """` from 280 authors · 40 copies counted once`: what the mood counts."""
    note = f" from {unique_authors:,} authors" if unique_authors else ""
    if duplicates_merged:
        note += f" · {duplicates_merged:,} copies counted once"
    return note


def language_line(languages: Mapping[str, int], unscored: int, model: str) -> str:
    """`Languages: en 92% · ja 5% · pt 3% · 8 posts in languages vader does not read left out`;
    nothing when every post is in one language and was scored."""
    total = sum(languages.values())
    if not total or (len(languages) == 1 and not unscored):
        return ""
    shown = " · ".join(
        f"{escape(lang)} {_pct(n / total)}" for lang, n in list(languages.items())[:6]
    )
    left_out = (
        f" · {unscored} post{'s' if unscored != 1 else ''} in languages "
        f"{escape(model_name(model))} does not read left out"
        if unscored
        else ""
    )
    return f"*Languages*: {shown}{left_out}"


def render_failure(topic: str, reason: str) -> tuple[str, list[dict]]:
    text = f"Sorry, the analysis of “{quote_inline(topic, 150)}” failed: {escape(reason)}"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
