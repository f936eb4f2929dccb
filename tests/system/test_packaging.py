"""The wheel carries what the service needs: every top-level package, the migrations and the
transformer weights; `sentibot migrate` works from it, away from the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _checkout_copy(dest: Path) -> Path:
    """The files git tracks (and new ones it does not ignore): a clean tree to build from, so
    setuptools' build/ never lands in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def test_the_wheel_carries_packages_migrations_and_weights(tmp_path: Path) -> None:
    tree = _checkout_copy(tmp_path / "tree")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(tree),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("sentibot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = ("cli", "sentibot", "bot", "collectors", "scoring", "tasks", "migrations")
    for package in (*packages, "devtools"):
        assert f"{package}/__init__.py" in names, package
    assert "migrations/env.py" in names
    assert "migrations/versions/0001_initial_schema.py" in names
    assert "scoring/weights/minilm-tweeteval.safetensors" in names
    assert "sentibot/report/shares.json" in names
    assert (
        "collectors.registry:specs"
        in zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith("entry_points.txt")))
        .decode()
    )  # the core finds the sources through it
    assert not any(n.startswith("tests/") for n in names)

    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "DATABASE_URL": f"sqlite:///{away / 'fresh.db'}",
        "LOG_FORMAT": "text",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bot, cli.main; print(bot.__file__); "
            "raise SystemExit(cli.main.main(['migrate']))",
        ],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(str(site))
    assert "database is at the newest revision" in done.stdout
