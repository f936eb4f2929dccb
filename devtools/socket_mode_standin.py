"""A local Socket Mode endpoint: a minimal websocket server speaking Slack's envelopes.

slack-sdk's built-in Socket Mode client connects to the URL that `apps.connections.open`
returns (plain `ws://` on a port other than 443), gets `hello`, receives envelopes and
acknowledges each by its `envelope_id`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from typing import Any

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(opcode: int, payload: bytes) -> bytes:
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        return head + bytes([n]) + payload
    if n < 1 << 16:
        return head + bytes([126]) + struct.pack("!H", n) + payload
    return head + bytes([127]) + struct.pack("!Q", n) + payload


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class SocketModeStandIn:
    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._conns: list[socket.socket] = []
        self._send_lock = threading.Lock()
        self.acks: dict[str, dict[str, Any]] = {}
        self._changed = threading.Condition()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.getsockname()[1]}/link"

    def close(self) -> None:
        self._closed = True
        self._server.close()
        for conn in self._conns:
            try:
                conn.close()
            except OSError:
                pass

    def wait_connected(self, timeout: float = 10) -> bool:
        deadline = time.monotonic() + timeout
        while not self._conns and time.monotonic() < deadline:
            time.sleep(0.05)
        return bool(self._conns)

    def send_envelope(self, kind: str, payload: dict[str, Any]) -> str:
        envelope_id = str(uuid.uuid4())
        message = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        with self._send_lock:
            self._conns[-1].sendall(_frame(0x1, json.dumps(message).encode()))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while envelope_id not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self.acks[envelope_id]

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            headers = dict(
                line.split(": ", 1) for line in request.decode().split("\r\n")[1:] if ": " in line
            )
            key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"].strip()
            accept = base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()
            conn.sendall(
                (
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                ).encode()
            )
            hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
            with self._send_lock:
                conn.sendall(_frame(0x1, json.dumps(hello).encode()))
            self._conns.append(conn)
            self._read_frames(conn)
        except (OSError, ConnectionError, KeyError):
            return

    def _read_frames(self, conn: socket.socket) -> None:
        while True:
            b1, b2 = _recv_exact(conn, 2)
            opcode, masked, n = b1 & 0x0F, b2 & 0x80, b2 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", _recv_exact(conn, 2))
            elif n == 127:
                (n,) = struct.unpack("!Q", _recv_exact(conn, 8))
            mask = _recv_exact(conn, 4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(_recv_exact(conn, n)))
            if opcode == 0x8:
                with self._send_lock:
                    conn.sendall(_frame(0x8, data[:2]))
                return
            if opcode == 0x9:
                with self._send_lock:
                    conn.sendall(_frame(0xA, data))
            elif opcode == 0x1:
                message = json.loads(data)
                if "envelope_id" in message:
                    with self._changed:
                        self.acks[message["envelope_id"]] = message
                        self._changed.notify_all()
