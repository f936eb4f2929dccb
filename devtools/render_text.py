"""Block Kit shown as plain text, roughly as Slack shows it (for the console and logs)."""

from __future__ import annotations

import html


def _text(obj: dict | None) -> str:
    if not obj:
        return ""
    return html.unescape(str(obj.get("text", "")))


def render_blocks(fallback: str, blocks: list[dict]) -> str:
    if not blocks:
        return html.unescape(fallback)
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"▌{_text(block.get('text'))}")
        elif kind == "section":
            if block.get("text"):
                lines.append(_text(block["text"]))
            lines.extend(_text(f) for f in block.get("fields", []))
        elif kind == "context":
            lines.append("  " + " · ".join(_text(e) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "actions":
            lines.append("  ".join(f"[{_text(e.get('text'))}]" for e in block.get("elements", [])))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
    return "\n".join(lines)
