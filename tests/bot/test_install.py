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
from sentibot.secrets import new_key

KEY = new_key()


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
        settings.sentibot_secret_keys = KEY  # type: ignore[assignment]
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


def test_the_database_holds_no_plaintext_token(app: Installed, sessions) -> None:
    from sqlalchemy import text

    install(app, "T9")
    token = bot_token(app.settings, "T9")  # decrypted for use
    with sessions() as s:
        stored = [
            *s.execute(text("SELECT bot_token FROM slack_bots")).scalars(),
            *s.execute(text("SELECT bot_token FROM slack_installations")).scalars(),
        ]
    assert len(stored) == 2
    assert all(v.startswith("fernet:") and token not in v for v in stored)


def _event(app: Installed, team: str, event: dict) -> requests.Response:
    import json

    body = json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{event['type']}",
            "event_time": 1,
            "event": event,
        }
    )
    headers = {**signed_headers(body, SIGNING_SECRET), "Content-Type": "application/json"}
    return requests.post(app.url + "/slack/events", data=body, headers=headers, timeout=10)


def test_an_uninstall_pauses_the_workspace_and_a_reinstall_resumes_it(
    app: Installed, sessions
) -> None:
    from datetime import timedelta

    from sentibot.storage import watches as watch_store
    from sentibot.storage.models import utcnow

    install(app, "T9")
    install(app, "T8")
    assert "Watching" in command(app, "T9", "watch acme").json()["text"]
    assert "Watching" in command(app, "T8", "watch gizmo").json()["text"]
    assert _event(app, "T9", {"type": "app_uninstalled"}).status_code == 200
    with pytest.raises(MissingSetting):
        bot_token(app.settings, "T9")  # its token is gone
    later = utcnow() + timedelta(hours=1)
    with sessions.begin() as s:  # the dispatcher claims nothing of the paused workspace
        claimed = watch_store.claim_due_watches(s, later)
        topics = [watch_store.get_watch(s, i).topic for i in claimed]
    assert topics == ["gizmo"]
    install(app, "T9")  # reinstalled: everything runs again, nothing was lost
    with sessions.begin() as s:
        claimed = watch_store.claim_due_watches(s, later + timedelta(hours=1))
        topics = sorted(watch_store.get_watch(s, i).topic for i in claimed)
    assert topics == ["acme", "gizmo"]


def test_install_states_are_bounded_and_expired(app: Installed) -> None:
    """Anyone may open /slack/install, and each visit stores a state: many visits keep at
    most MAX_PENDING_STATES, expired ones go, and a fresh install still completes."""
    from sqlalchemy import create_engine, text

    from bot.install import MAX_PENDING_STATES

    engine = create_engine(app.settings.effective_database_url)
    with engine.begin() as conn:  # one long-expired state, as an old visit left it
        conn.execute(
            text("INSERT INTO slack_oauth_states (state, expire_at) VALUES ('old', :at)"),
            {"at": "2020-01-01 00:00:00"},
        )
    browser = requests.Session()
    for _ in range(MAX_PENDING_STATES + 40):
        assert browser.get(app.url + "/slack/install", timeout=10).status_code == 200
    with engine.connect() as conn:
        states = conn.execute(text("SELECT state FROM slack_oauth_states")).scalars().all()
    assert len(states) <= MAX_PENDING_STATES
    assert "old" not in states
    assert install(app, "T0BOUNDED").status_code == 200
