"""What autogenerate compares: our models only; slack-sdk's tables come from revision 0005."""

from __future__ import annotations


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("slack_"))
