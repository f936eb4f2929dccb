"""The same Bolt app over Socket Mode, against a local websocket endpoint."""

from slack_bolt.adapter.socket_mode import SocketModeHandler
from sqlalchemy import select

from bot.app import create_app
from devtools.slack_standin import SlackStandIn
from sentibot.storage.models import Job
from tasks.celery_app import create_celery
from tasks.enqueue import job_enqueuer
from tests.conftest import redis_client


def test_slash_command_over_socket_mode_is_stored_enqueued_and_acked(
    settings,
    sessions,
    redis_url,
    broker_prefix,
) -> None:
    with SlackStandIn() as slack:
        settings.slack_api_url = slack.api_url
        celery = create_celery(settings)
        app = create_app(settings, sessions=sessions, enqueue=job_enqueuer(celery))
        handler = SocketModeHandler(app, slack.app_token)
        handler.connect()
        try:
            assert slack.socket_mode is not None
            assert slack.socket_mode.wait_connected()
            envelope = slack.socket_mode.send_envelope(
                "slash_commands",
                {
                    "team_id": "T1",
                    "channel_id": "C1",
                    "user_id": "U1",
                    "command": "/sentiment",
                    "text": "analyze acme --sources x",
                    "response_url": slack.response_url("sm"),
                },
            )
            ack = slack.socket_mode.wait_ack(envelope)
        finally:
            handler.close()
    assert ack is not None, "no acknowledgement over the socket"
    assert "Analyzing “acme” on X" in ack["payload"]["text"]
    with sessions() as s:
        (job,) = s.scalars(select(Job)).all()
    assert (job.team_id, job.topic, job.sources) == ("T1", "acme", ["x"])
    assert redis_client(redis_url).llen(broker_prefix + "collect") == 1
