"""The one place outside text becomes a storable `Post`.

Every source's posts pass through `clean_post` (`registry.Cleaned`, around every collector)
before anyone stores, scores or shows them:

- control characters (NUL included) and unpaired surrogates are removed from every text field;
  bidi overrides and zero-width characters too, so a post cannot reorder or hide what Slack
  shows next to it;
- every field is bounded to its column: text to MAX_TEXT characters (whole articles are kept up
  to there), author to 255, lang to 16, url to MAX_URL; an external id too long for its column is
  replaced by a digest of it, so it stays unique;
- engagement is clamped to the column's integer range;
- a time after `now` (a feed dated 2150) becomes `now`; a naive time is taken as UTC.

A post left with no text, or no external id, is dropped; the caller counts what was dropped.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import replace
from datetime import UTC, datetime

from collectors.language import language_of
from sentibot.safe_text import clean_text
from sentibot.sources import Post

MAX_TEXT = 50_000
MAX_URL = 2_048
MAX_AUTHOR = 255
MAX_EXTERNAL_ID = 64
MAX_SOURCE = 32
MAX_LANG = 16
MAX_ENGAGEMENT = 2**31 - 1


def _bounded(text: str | None, most: int) -> str | None:
    if text is None:
        return None
    cleaned = clean_text(text).strip()
    return cleaned[:most] or None


def _external_id(value: str) -> str:
    cleaned = clean_text(value).strip()
    if len(cleaned) <= MAX_EXTERNAL_ID:
        return cleaned
    return "sha1:" + hashlib.sha1(cleaned.encode("utf-8")).hexdigest()


def clean_post(post: Post, now: datetime) -> Post | None:
    """The post as it may be stored, or None when nothing storable is left."""
    text = clean_text(post.text).strip()[:MAX_TEXT]
    external_id = _external_id(str(post.external_id))
    if not text or not external_id:
        return None
    created = post.created_at
    if created is not None:
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        if created > now:
            created = now
    return replace(
        post,
        source=post.source[:MAX_SOURCE],
        external_id=external_id,
        text=text,
        author=_bounded(post.author, MAX_AUTHOR),
        url=_bounded(post.url, MAX_URL),
        lang=_bounded(language_of(post.lang, text), MAX_LANG),
        created_at=created,
        engagement=max(0, min(int(post.engagement or 0), MAX_ENGAGEMENT)),
    )


# Tags that sit inside a word (Mastodon writes a hashtag as `#<span>kubernetes</span>`) vanish;
# every other tag separates words.
_INLINE_TAGS = frozenset(
    "a abbr b bdi bdo cite code data dfn em i kbd mark q s samp small span strong sub sup time "
    "u var".split()
)
_TAG = re.compile(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)?[^>]*>")


def html_to_text(markup: str | None) -> str:
    """Plain text of an HTML fragment: tags removed (inline ones without a space), entities
    decoded once, whitespace collapsed."""
    if not markup:
        return ""
    spaced = _TAG.sub(lambda m: "" if (m.group(1) or "").lower() in _INLINE_TAGS else " ", markup)
    return " ".join(html.unescape(spaced).split())
