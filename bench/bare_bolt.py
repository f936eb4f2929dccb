"""The floor for acknowledgements: a Bolt app whose /sentiment listener only acks, served by
the same gunicorn settings as `sentibot serve` (bot/serve.py). bench/ack_latency.py runs it.

    .venv/bin/python bench/bare_bolt.py --port 3000 [--workers 1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slack_bolt import Ack, App  # noqa: E402
from slack_bolt.authorization import AuthorizeResult  # noqa: E402

from bot.serve import serve_http  # noqa: E402
from devtools.stack import SIGNING_SECRET  # noqa: E402
from sentibot.config.settings import Settings  # noqa: E402


def bare_app() -> App:
    app = App(
        signing_secret=SIGNING_SECRET,
        # Who the bot is, without asking Slack (sentibot asks auth.test once at start).
        authorize=lambda **_: AuthorizeResult(
            enterprise_id=None, team_id="T0STANDIN", bot_token="xoxb-bare", bot_user_id="UBOT"
        ),
        process_before_response=True,
    )

    @app.command("/sentiment")
    def sentiment(ack: Ack, command: dict) -> None:
        ack(response_type="ephemeral", text="Analyzing (bare)")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    settings = Settings(_env_file=None)
    serve_http(settings, bare_app, "127.0.0.1", args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()
