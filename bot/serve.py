"""How the Bolt app is served: HTTP (Flask under gunicorn) or Socket Mode. Nothing else knows.

Over HTTP, gunicorn's workers are uvicorn's (asyncio): a request's headers and body are read
without holding a thread, and only a complete request (at most MAX_BODY_BYTES, read within
BODY_DEADLINE_S) reaches Flask, on a pool of `--threads` threads. Slow or endless clients
(slowloris) then cost a coroutine each and cannot hold the threads that answer Slack in 3 s."""

from __future__ import annotations

import asyncio
import gc
import hmac
import io
import logging
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, request
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from sqlalchemy import text
from werkzeug.exceptions import RequestEntityTooLarge

from sentibot.config.settings import Settings
from sentibot.metrics import render as render_metrics
from sentibot.metrics import timed

log = logging.getLogger(__name__)


# Slack's requests are small (a slash command is a few hundred bytes; a big interactive payload
# tens of KB): anything larger is refused from its headers, before its body is read.
MAX_BODY_BYTES = 1024 * 1024
# Slack sends a whole request at once; a body still arriving after this is a slow client's.
BODY_DEADLINE_S = 10.0


class BoundedRequests:
    """ASGI in front of a WSGI app: a request reaches the app, on one of `threads` threads,
    only once its whole body is here within the size and the deadline; otherwise 413 or 408,
    answered without it."""

    def __init__(self, app: Callable[..., Any], threads: int) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="wsgi")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _answer(send, 413, b'{"ok": false, "error": "request too large"}')
            return
        try:
            body = await asyncio.wait_for(_read_body(receive), BODY_DEADLINE_S)
        except TimeoutError:
            await _answer(send, 408, b'{"ok": false, "error": "request body too slow"}')
            return
        if body is None:
            await _answer(send, 413, b'{"ok": false, "error": "request too large"}')
            return
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(
            self.pool, _run_wsgi, self.app, _environ(scope, body)
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def _environ(scope: dict, body: bytes) -> dict[str, Any]:
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers") or []:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name != "CONTENT_LENGTH":
            key = f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _run_wsgi(app: Callable[..., Any], environ: dict[str, Any]) -> tuple[int, list, bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> None:
        started[:] = [status, headers]

    result = app(environ, start_response)
    try:
        content = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers = started
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return int(status.split(" ", 1)[0]), encoded, content


async def _read_body(receive: Any) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_http_app(settings: Settings, bolt_app: App) -> Flask:
    handler = SlackRequestHandler(bolt_app)
    flask_app = Flask("sentibot")
    flask_app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @flask_app.post("/slack/events")
    def slack_events() -> Any:
        try:
            return timed("slack_events", lambda: handler.handle(request))
        # Bolt parses bodies before it checks them: a malformed one (bad JSON, or a `payload`
        # that is JSON but not an object) is 400. Listener errors never get here; Bolt's
        # error handler answers those.
        except (ValueError, AttributeError, TypeError):
            log.info("malformed request to /slack/events")
            return {"ok": False, "error": "malformed request"}, 400

    @flask_app.get("/metrics")
    def metrics() -> Any:
        # Served only with METRICS_TOKEN set, to a scraper that sends it as a bearer token.
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return {"ok": False, "error": "not found"}, 404
        return render_metrics(settings), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    @flask_app.get("/slack/install")
    def slack_install() -> Any:
        return handler.handle(request)

    @flask_app.get("/slack/oauth_redirect")
    def slack_oauth_redirect() -> Any:
        return handler.handle(request)

    @flask_app.before_request
    def refuse_large_bodies() -> Any:
        # Bolt reads the raw body itself: refuse by the declared length before anyone reads it
        # (a chunked body with no length is cut at MAX_CONTENT_LENGTH by Werkzeug's stream).
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return {"ok": False, "error": "request too large"}, 413
        return None

    @flask_app.errorhandler(RequestEntityTooLarge)
    def too_large(_: RequestEntityTooLarge) -> Any:
        return {"ok": False, "error": "request too large"}, 413

    @flask_app.get("/healthz")
    def healthz() -> Any:
        checks = health_checks(settings)
        status = 200 if all(v == "ok" for v in checks.values()) else 503
        return {"ok": status == 200, "checks": checks}, status

    return flask_app


def health_checks(settings: Settings) -> dict[str, str]:
    import redis

    from sentibot.embedded import redis_client_url
    from sentibot.storage.session import sessionmaker_for

    checks = {}
    try:
        with sessionmaker_for(settings.effective_database_url)() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        redis.Redis.from_url(redis_client_url(settings), socket_timeout=2).ping()
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"error: {type(exc).__name__}"
    return checks


def serve_http(
    settings: Settings,
    build_app: Callable[[], App],
    host: str,
    port: int,
    workers: int,
    threads: int,
) -> None:
    """Serve POST /slack/events on gunicorn (threaded workers), the production server.
    `build_app` makes the Bolt app in each worker process, after the fork.

    The port opens only once the server is warm: gunicorn listens before its workers load
    their app, and building the first one (imports that Bolt's listeners make on first use,
    the Bolt app itself) took 2.7 s idle and 6.7 s under load, in which the first command of
    each start waited while `/healthz` could already answer. So one app is built, and asked
    once, here in the master first: its workers fork with every module loaded and build theirs
    in a few hundred milliseconds. No connection made here survives into them."""
    from gunicorn.app.base import BaseApplication

    from sentibot.storage.session import forget_engines

    warm_up(create_http_app(settings, build_app()))
    forget_engines()

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "uvicorn_worker.UvicornWorker")
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            # Several servers may share a host (tests, demo); nothing here uses the control socket.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            # Built in each worker process after the fork: no shared sockets or pools.
            app = BoundedRequests(create_http_app(settings, build_app()), threads)
            # Everything loaded so far lives as long as the process: leave it out of the
            # garbage collector's full passes, which otherwise stall a request now and then.
            gc.freeze()
            return app

    Server().run()


def warm_up(app: Flask) -> None:
    """One request through the whole stack (Flask, Bolt's parsing and its signature check),
    so whatever loads on first use loads now rather than under a person's command."""
    client = app.test_client()
    client.post(
        "/slack/events",
        data="ssl_check=1&token=warm-up",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def serve_socket_mode(settings: Settings, bolt_app: App) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = settings.require("slack_app_token", "Socket Mode")
    SocketModeHandler(bolt_app, app_token).start()
