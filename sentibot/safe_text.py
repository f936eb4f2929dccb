"""Text without the characters that hide, reorder or break it: for every post a source
returns (collectors/boundary.py) and everything a person types (the grammar, the views)."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and C1 controls, lone surrogates, and the invisible
# formatting characters that reorder or hide text (bidi embeddings, overrides and isolates,
# zero-width spaces and joiners, the BOM).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff]"
)


def clean_text(text: str | None) -> str:
    """`text` without control, surrogate, bidi or zero-width characters (\\r\\n kept as \\n)."""
    if not text:
        return ""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
