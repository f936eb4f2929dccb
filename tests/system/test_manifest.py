"""The Slack app manifest in the repo declares what the code relies on."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.install import oauth_settings
from sentibot.config.settings import Settings
from sentibot.secrets import new_key

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yml"


def test_manifest_matches_the_code(tmp_path: Path) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/sentiment"
    assert command["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"].endswith("/slack/events")
    assert {"app_home_opened", "app_uninstalled", "tokens_revoked"} <= set(events["bot_events"])
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # The scopes an OAuth install asks for are the ones the manifest grants.
    asked = Settings(
        _env_file=None,
        slack_client_id="1.2",
        slack_client_secret="s",
        sentibot_secret_keys=new_key(),
        sentibot_data_dir=tmp_path,
    )
    assert set(oauth_settings(asked).scopes) == scopes
    assert manifest["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
