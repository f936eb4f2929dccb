"""One error handler for every listener: log with context, answer the user, never a trace."""

from __future__ import annotations

import logging

from slack_bolt import App

log = logging.getLogger(__name__)

SORRY = "Sorry, something went wrong on my side and your request was not taken. Please try again."


def register(app: App) -> None:
    @app.error
    def on_error(error: Exception, body: dict, respond) -> None:
        log.error(
            "listener failed (team=%s, command=%s): %r",
            body.get("team_id"),
            body.get("command"),
            error,
            exc_info=error,
        )
        if body.get("response_url"):
            try:
                respond(response_type="ephemeral", text=SORRY)
            except Exception:
                log.warning("could not tell the user about the failure", exc_info=True)
