"""The house rule for imports, as DESIGN.md and the README (Layout) state it: arrows point
down, and the core is the ground floor.

    cli/                   the composition root: may import anything; nothing imports it
    tasks/                 runs the core's steps on Celery; delivers through bot/, scores with
                           scoring/, collects through the core (which finds collectors/)
    bot/                   the Slack side: renders the core's plain data; imports the core only
    collectors/ scoring/   implement the core's protocols and import the core; not each other,
                           and nothing of Slack or Celery
    sentibot/ (the core)   settings, storage, rules, and the vocabulary (Post, Query,
                           Sentiment, source reports, protocols, report arithmetic): imports
                           no adapter

`sentibot/__main__.py` (`python -m sentibot`) is the one exemption: a thin entry into cli/.
Every import in every module is read, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cli", "sentibot", "bot", "collectors", "scoring", "tasks", "migrations", "devtools")
SLACK = ("slack_bolt", "slack_sdk")
CELERY = ("celery", "kombu")

ADAPTERS = ("bot", "tasks", "collectors", "scoring")
# package -> imports it must not make
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "sentibot": (*ADAPTERS, "devtools", *SLACK, *CELERY),
    "collectors": ("bot", "tasks", "scoring", "devtools", *SLACK, *CELERY),
    "scoring": ("bot", "tasks", "collectors", "devtools", *SLACK, *CELERY),
    "bot": ("tasks", "collectors", "scoring", "devtools", *CELERY),
    "migrations": (*ADAPTERS, "devtools"),
    "tasks": ("devtools",),
}
# The composition root wires everything together.
EXEMPT = ("cli", "sentibot.__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = _module_name(path)
            if any(_under(module, e) for e in EXEMPT):
                continue
            rules = FORBIDDEN.get(package, ())
            for line, name in _imports(path):
                if any(_under(name, f) for f in rules):
                    out.append(f"{module}:{line} imports {name}")
    return out


def test_every_import_points_down() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("package", "bad"),
    [("sentibot/monitoring", "bot.views.alerts"), ("collectors", "celery"), ("bot", "tasks")],
)
def test_the_check_catches_an_arrow_pointing_up(package: str, bad: str) -> None:
    probe = ROOT / package / "_layout_probe.py"
    probe.write_text(f"def f() -> None:\n    import {bad}\n")
    try:
        assert any(bad in v for v in violations())
    finally:
        probe.unlink()


def test_the_card_top_level_is_the_repository_top_level() -> None:
    for name in ("bot", "collectors", "scoring", "tasks", "migrations", "tests"):
        assert (ROOT / name).is_dir(), name
    for name in ("docker-compose.yml", "pyproject.toml", "alembic.ini"):
        assert (ROOT / name).is_file(), name
    assert not (ROOT / "sentibot" / "bot").exists()
