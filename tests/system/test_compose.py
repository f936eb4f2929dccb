"""docker-compose.yml, read by a real Compose: every process, one worker per queue kind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose_config() -> dict:
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs docker-compose: `make compose-check` installs it")
        pytest.skip("docker-compose is not installed (`make compose-check` installs it)")
    out = subprocess.run(
        [tool, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SLACK_BOT_TOKEN": "xoxb-from-env"},
    )
    return yaml.safe_load(out.stdout)


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
        "beat",
        "flower",
    }
    queues = sorted(
        services[name]["command"][services[name]["command"].index("--queues") + 1]
        for name in ("worker-collect", "worker-score", "worker-notify")
    )
    assert queues == ["collect", "notify,default", "score"]  # every queue has a worker
    for name in ("redis", "postgres", "bot", "flower"):
        assert "healthcheck" in services[name], name
    assert services["bot"]["environment"]["SLACK_BOT_TOKEN"] == "xoxb-from-env"
    assert services["bot"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["beat"]["command"] == ["sentibot", "beat"]
