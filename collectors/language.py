"""A post's language: what its source says (X `lang`, Bluesky `langs`, Mastodon `language`, a
feed's `language`), else detected offline by py3langid (its model ships in the package)."""

from __future__ import annotations

import re
import threading

# Fewer letters than this and a guess is noise ("lol", a link, an emoji): no language.
MIN_LETTERS = 12
# A guess less sure than this, with English among the next two, is no guess: plain English
# tweets ("the app dey crash every time o", slang, names) come out as Nigerian Pidgin at 0.4-0.7
# (1% of TweetEval's validation tweets). Such a post keeps no language and is read by the model
# (English), not left out; a Portuguese post split between pt and gl keeps its pt.
CONFIDENT = 0.8
_CODE = re.compile(r"^[a-z]{2,3}$")
_URL = re.compile(r"https?://\S+|@\w+|#")
_lock = threading.Lock()
_identifier = None


def normalize(code: str | None) -> str | None:
    """`en-US` → `en`; X's `und`, `qme` and other non-languages → None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    if not _CODE.match(base) or base in ("und", "qme", "qht", "qam", "qst", "zxx", "mul"):
        return None
    return base


def detect(text: str) -> str | None:
    """The language of `text`, or None when it is too short or too unlike any to tell."""
    plain = _URL.sub(" ", text)
    if sum(ch.isalpha() for ch in plain) < MIN_LETTERS:
        return None
    ranked = _model().rank(plain)[:3]
    code, confidence = ranked[0]
    if confidence < CONFIDENT and "en" in (c for c, _ in ranked[1:]):
        return None
    return normalize(code)


def language_of(declared: str | None, text: str) -> str | None:
    return normalize(declared) or detect(text)


def warm() -> None:
    """Load the model now (half a second), not inside the first post's collection."""
    _model()


def _model():  # noqa: ANN202 (py3langid has no types)
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier
