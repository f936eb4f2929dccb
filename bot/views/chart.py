"""Sentiment and volume over time as a PNG (matplotlib, no global pyplot state)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

BUCKETS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(days=1),
)


def bucket_size(first: datetime, last: datetime, most: int = 48) -> timedelta:
    """The smallest bucket that covers the span in at most `most` bars (whole days past the
    largest, so even a span of centuries costs `most` bars)."""
    span = last - first
    for size in BUCKETS:
        if span / size <= most:
            return size
    return BUCKETS[-1] * math.ceil(span / (BUCKETS[-1] * most))


def series(
    points: Sequence[tuple[datetime, float]],
) -> tuple[list[datetime], list[float], list[int], timedelta]:
    """Bucket starts, mean compound per bucket, posts per bucket, and the bucket size."""
    times = sorted(t for t, _ in points)
    size = bucket_size(times[0], times[-1])
    origin = times[0].replace(minute=0, second=0, microsecond=0)
    sums: dict[int, float] = {}
    counts: dict[int, int] = {}
    for when, compound in points:
        k = int((when - origin) / size)
        sums[k] = sums.get(k, 0.0) + compound
        counts[k] = counts.get(k, 0) + 1
    keys = range(0, max(counts) + 1)
    starts = [origin + size * k for k in keys]
    means = [sums[k] / counts[k] if k in counts else float("nan") for k in keys]
    volume = [counts.get(k, 0) for k in keys]
    return starts, means, volume, size


def render_chart(points: Sequence[tuple[datetime, float]], title: str) -> bytes | None:
    """A PNG of mean sentiment (line) and volume (bars) over time; None with under 2 posts."""
    if len(points) < 2:
        return None
    starts, means, volume, size = series(points)
    fig = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax_volume = fig.add_subplot(1, 1, 1)
    ax_mood = ax_volume.twinx()
    width = size.total_seconds() / 86400 * 0.85
    when: Any = starts  # matplotlib plots datetimes through its date converter
    ax_volume.bar(when, volume, width=width, align="edge", color="#c9d3e0", label="posts")
    centres: Any = [s + size / 2 for s in starts]
    ax_mood.plot(centres, means, color="#1f6feb", marker="o", markersize=3, label="sentiment")
    ax_mood.axhline(0, color="#888888", linewidth=0.6)
    ax_mood.set_ylim(-1, 1)
    ax_mood.set_ylabel("mean sentiment")
    ax_volume.set_ylabel(f"posts per {_label(size)}")
    # Literal text: a topic like `$a^b^c$` must not be parsed as math.
    ax_volume.set_title(title[:90], fontsize=10, parse_math=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _label(size: timedelta) -> str:
    minutes = int(size.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h"
    days = hours // 24
    return "day" if days == 1 else f"{days:,} days"
