"""A post's language: what its source says (X `lang`, Bluesky `langs`, Mastodon `language`, a
feed's `language`), else detected offline by py3langid (its model ships in the package)."""

from __future__ import annotations

import re
import threading

# Fewer letters than this and a guess is noise ("lol", a link, an emoji): no language.
MIN_LETTERS = 12
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
    """The language of `text`, or None when it is too short to tell."""
    plain = _URL.sub(" ", text)
    if sum(ch.isalpha() for ch in plain) < MIN_LETTERS:
        return None
    code, _score = _model().classify(plain)
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

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
        return _identifier
