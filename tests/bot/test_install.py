"""Installing sentibot in another workspace through Slack's OAuth flow (the Slack stand-in
plays Slack's side), and what each workspace may then do."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from bot.app import create_app
from bot.install import bot_token
from bot.serve import create_http_app
from devtools.slack_standin import SlackStandIn
from devtools.stack import SIGNING_SECRET, signed_headers
from sentibot.config.settings import MissingSetting, Settings


@dataclass
class Installed:
    url: str
    slack: SlackStandIn
    settings: Settings


@pytest.fixture
def app(settings: Settings, sessions) -> Iterator[Installed]:
    with SlackStandIn() as slack:
        settings.slack_api_url = slack.api_url
        settings.slack_bot_token = None
        settings.slack_client_id = slack.client_id
        settings.slack_client_secret = slack.client_secret  # type: ignore[assignment]
        settings.slack_authorize_url = slack.url + "/oauth/v2/authorize"
        enqueued: list[int] = []
        bolt = create_app(settings, sessions=sessions, enqueue=enqueued.append)
        server = make_server("127.0.0.1", 0, create_http_app(settings, bolt), threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        try:
            yield Installed(f"http://127.0.0.1:{server.server_port}", slack, settings)
        finally:
            server.shutdown()


def install(app: Installed, team_id: str) -> requests.Response:
    browser = requests.Session()
    page = browser.get(app.url + "/slack/install", timeout=10)
    assert page.status_code == 200
    link = re.search(r'href="([^"]*/authorize[^"]*)"', page.text).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(app.slack.url + "/oauth/v2/authorize")
    assert query["client_id"] == [app.slack.client_id]
    assert "commands" in query["scope"][0]
    # Bolt's state cookie is Secure (production is https); a browser sends it back, so do we.
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    assert "Secure" in page.headers["set-cookie"]
    code = app.slack.approve_install(team_id)  # the user clicks "Allow" on Slack's page
    return browser.get(
        app.url + "/slack/oauth_redirect?" + urlencode({"code": code, "state": query["state"][0]}),
        headers={"cookie": cookie},
        timeout=10,
    )


def command(app: Installed, team: str, text: str = "list") -> requests.Response:
    body = urlencode(
        {
            "team_id": team,
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/sentiment",
            "text": text,
            "response_url": app.slack.url + "/response/x",
            "trigger_id": "1.2",
        }
    )
    return requests.post(
        app.url + "/slack/events",
        data=body,
        headers=signed_headers(body, SIGNING_SECRET),
        timeout=10,
    )


def test_a_workspace_installs_through_oauth_and_then_uses_the_bot(app: Installed) -> None:
    done = install(app, "T9")
    assert done.status_code == 200
    token = bot_token(app.settings, "T9")
    assert token.startswith("xoxb-t9-")
    assert app.slack.tokens[token] == "T9"
    ack = command(app, "T9", "watch acme")
    assert ack.status_code == 200
    assert "Watching “acme”" in ack.json()["text"]


def test_a_workspace_that_never_installed_gets_no_service(app: Installed) -> None:
    install(app, "T9")
    resp = command(app, "T404", "watch acme")
    assert "Watching" not in resp.text
    with pytest.raises(MissingSetting, match="T404"):
        bot_token(app.settings, "T404")


def test_a_forged_state_is_refused(app: Installed) -> None:
    code = app.slack.approve_install("T9")
    resp = requests.get(
        app.url + "/slack/oauth_redirect?" + urlencode({"code": code, "state": "forged"}),
        timeout=10,
    )
    assert resp.status_code in (400, 401, 403)
    with pytest.raises(MissingSetting):
        bot_token(app.settings, "T9")
