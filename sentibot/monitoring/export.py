"""A watch's posts of a period as CSV: what analysts take to a spreadsheet.

One row per post the watch holds in the period, scored or not: when, source, author, text,
link, language, label and compound under the watch's model, its theme, and the workspace's
correction of it. Cells that a spreadsheet would run as a formula (starting with =, +, -, @,
a tab or a carriage return) are prefixed with a single quote, as OWASP advises for CSV exports.

Work that grows with the period is bounded: themes are found on at most THEMED posts (a seeded
random sample of the period), a copy of a themed post takes its theme, and the rest have none (the
export says how many were themed), and finding copies is near-linear (report/integrity.py).
An export of 10,000 posts took 84 s and 1.2 GB when every post was embedded; 30,000 now take
the figures `bench/export_size.py` prints.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sentibot.report.integrity import near_duplicates, weigh
from sentibot.report.masking import model_name
from sentibot.report.themes import Embed, find_themes
from sentibot.sentiment import Sentiment
from sentibot.storage import corrections as correction_store
from sentibot.storage import posts as post_store
from sentibot.storage.models import Watch

COLUMNS = (
    "posted_at",
    "source",
    "author",
    "text",
    "link",
    "language",
    "model",
    "label",
    "compound",
    "theme",
    "correction",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
THEMED = 2_000


@dataclass(frozen=True)
class Export:
    topic: str
    start: datetime
    end: datetime
    rows: int
    csv: bytes
    themed: int = 0  # posts whose theme was found (at most THEMED, and their copies)

    @property
    def filename(self) -> str:
        safe = "".join(c if c.isalnum() else "-" for c in self.topic)[:40].strip("-") or "topic"
        return f"sentibot-{safe}-{self.start:%Y%m%d}-{self.end:%Y%m%d}.csv"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def themes_by_post(
    texts: Sequence[str],
    sentiments: Sequence[Sentiment | None],
    authors: Sequence[str | None],
    topic: str,
    embed: Embed | None,
) -> list[str]:
    """Each post's theme label ("" where there is none): copies take their message's theme.
    Themes are found on a sample of at most THEMED scored posts."""
    scored = [i for i, s in enumerate(sentiments) if s is not None]
    if len(scored) > THEMED:  # a seeded sample: the same period exports the same themes
        scored = sorted(random.Random(len(scored)).sample(scored, THEMED))
    labels = [""] * len(texts)
    if embed is None or not scored:
        return labels
    sub_texts = [texts[i] for i in scored]
    found = weigh(sub_texts, [authors[i] for i in scored])
    subs = [s for s in sentiments if s is not None]
    for theme in find_themes(sub_texts, subs, found, topic, embed):
        for m in theme.members:
            labels[scored[m]] = theme.label
    for group in near_duplicates(texts):
        first = next((labels[i] for i in group if labels[i]), "")
        for i in group:
            labels[i] = labels[i] or first
    return labels


def build(
    session: Session, watch: Watch, start: datetime, end: datetime, embed: Embed | None = None
) -> Export:
    posts = post_store.all_window_posts(session, watch, start, end)
    corrections = correction_store.team_corrections(
        session, watch.team_id, [p.post_id for p in posts]
    )
    sentiments = [
        Sentiment(p.label, p.compound or 0.0, 0.0, 0.0, 0.0)
        if p.label and p.label != "unscored"
        else None
        for p in posts
    ]
    themes = themes_by_post(
        [p.text for p in posts], sentiments, [p.author for p in posts], watch.topic, embed
    )
    out = io.StringIO()
    out.write("\ufeff")  # a BOM: spreadsheets then read the file as UTF-8
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for post, theme in zip(posts, themes, strict=True):
        writer.writerow(
            [
                post.when.isoformat(),
                post.source,
                _cell(post.author),
                _cell(post.text),
                _cell(post.url),
                post.lang or "",
                model_name(watch.model),
                post.label or "",
                "" if post.compound is None else f"{post.compound:.4f}",
                _cell(theme),
                corrections.get(post.post_id, ""),
            ]
        )
    themed = sum(1 for t in themes if t)
    return Export(watch.topic, start, end, len(posts), out.getvalue().encode("utf-8"), themed)
