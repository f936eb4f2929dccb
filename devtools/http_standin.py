"""A threaded HTTP server on 127.0.0.1 (port 0) that records calls and injects faults."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, Any]:
        """Form or JSON body as a dict (Slack clients send either)."""
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            return json.loads(self.body or b"{}")
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if self.body is None:
            return b""
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Fault:
    path_contains: str
    response: Response
    times: int


class StandIn:
    """Subclasses implement `route(request) -> Response`."""

    def __init__(self) -> None:
        self.calls: list[Request] = []
        # Paths as requests arrive, before any delay (`calls` records them once answered).
        self.arrived: list[str] = []
        self._faults: deque[Fault] = deque()
        self._delays: list[list] = []
        # Seconds every request waits before it is answered (a distant API; bench/ sets it).
        self.latency = 0.0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    method=self.command,
                    path=split.path,
                    query={k: v[0] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                response = standin._dispatch(request)
                payload = response.encoded()
                self.send_response(response.status)
                headers = {"content-type": "application/json; charset=utf-8", **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "stand-in not started"
        host, port = self._server.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    # -- faults and records ----------------------------------------------------
    def fail_next(
        self,
        path_contains: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """The next `times` requests whose path contains `path_contains` get this answer."""
        with self._lock:
            self._faults.append(Fault(path_contains, Response(status, body, headers or {}), times))

    def slow_next(
        self, path_contains: str, seconds: float, times: int = 1, *, after: bool = False
    ) -> None:
        """The next `times` matching requests are answered normally, `seconds` late. With
        `after`, the request takes effect at once and only the answer is late (the window in
        which a client that dies has done something without learning it)."""
        with self._lock:
            self._delays.append([path_contains, seconds, times, after])

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    def requests_to(self, path_contains: str) -> list[Request]:
        with self._lock:
            return [c for c in self.calls if path_contains in c.path]

    def _dispatch(self, request: Request) -> Response:
        delay, after = 0.0, False
        with self._lock:
            self.arrived.append(request.path)
            for slow in self._delays:
                if slow[0] in request.path and slow[2] > 0:
                    slow[2] -= 1
                    delay, after = slow[1], slow[3]
                    break
        if self.latency:
            time.sleep(self.latency)
        if delay and not after:
            time.sleep(delay)
        response = self._answer(request)
        if delay and after:
            time.sleep(delay)
        return response

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.calls.append(request)
            for fault in self._faults:
                if fault.path_contains in request.path and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault.response
        try:
            return self.route(request)
        except Exception as exc:  # a stand-in bug must show up as a 500, not a hung client
            return Response(500, {"error": f"stand-in error: {exc!r}"})

    def route(self, request: Request) -> Response:
        raise NotImplementedError
