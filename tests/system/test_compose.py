"""docker-compose.yml, read by a real Compose: every process, one worker per queue kind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "FLOWER_BASIC_AUTH": "ops:flower-secret"}


def _compose(env: dict[str, str]) -> subprocess.CompletedProcess:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs docker-compose: `make compose-check` installs it")
        pytest.skip("docker-compose is not installed (`make compose-check` installs it)")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS}
    return subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env={**clean, **env},
    )


def compose_config() -> dict:
    out = _compose({"SLACK_BOT_TOKEN": "xoxb-from-env", **SECRETS})
    assert out.returncode == 0, out.stderr
    return yaml.safe_load(out.stdout)


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_its_passwords(missing: str) -> None:
    out = _compose({k: v for k, v in SECRETS.items() if k != missing})
    assert out.returncode != 0
    assert f"set {missing}" in out.stderr


def test_no_password_is_written_in_the_compose_file() -> None:
    services = compose_config()["services"]
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-secret"
    assert "pg-secret" in services["bot"]["environment"]["DATABASE_URL"]
    assert services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == "ops:flower-secret"
    text = (ROOT / "docker-compose.yml").read_text()
    assert "sentibot:sentibot@" not in text
    assert "POSTGRES_PASSWORD: sentibot" not in text


def test_the_image_has_no_compiler_and_one_index_per_install() -> None:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text.split("\nFROM python:3.11-slim\n", 1)[1]  # the last stage
    assert "gcc" not in runtime
    assert "apt-get" not in runtime
    assert "--extra-index-url" not in text


def test_compose_runs_every_process_with_health_checks() -> None:
    services = compose_config()["services"]
    assert set(services) == {
        "redis",
        "postgres",
        "migrate",
        "bot",
        "worker-collect",
        "worker-score",
        "worker-notify",
        "worker-backfill",
        "worker-webhooks",
        "beat",
        "flower",
    }
    queues = sorted(
        services[name]["command"][services[name]["command"].index("--queues") + 1]
        for name in (
            "worker-collect",
            "worker-score",
            "worker-notify",
            "worker-backfill",
            "worker-webhooks",
        )
    )
    # Every queue has a worker, and backfills and webhook deliveries one of their own.
    assert queues == ["backfill", "collect", "notify,default", "score", "webhooks"]
    from sentibot.queues import QUEUES

    assert sorted(",".join(queues).split(",")) == sorted(QUEUES)
    for name in ("redis", "postgres", "bot", "flower"):
        assert "healthcheck" in services[name], name
    assert services["bot"]["environment"]["SLACK_BOT_TOKEN"] == "xoxb-from-env"
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["command"] == ["sentibot", "beat"]
