"""One delivery attempt against hostile receivers on real sockets: one that trickles its
answer, one that sends an endless body, one whose error page holds secrets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from sentibot import webhook_target

LOCAL = frozenset({"127.0.0.1"})


@pytest.fixture
def receiver() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """A TCP server on 127.0.0.1 whose each connection `handle` serves; returns its URL."""
    servers: list[socket.socket] = []

    def start(handle: Callable[[socket.socket], None]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=_quietly, args=(handle, conn), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/hooks/sentibot?token=s3cret"

    yield start
    for server in servers:
        server.close()


def _quietly(handle: Callable[[socket.socket], None], conn: socket.socket) -> None:
    try:
        conn.recv(65536)
        handle(conn)
    except OSError:
        pass
    finally:
        conn.close()


def test_a_receiver_that_trickles_its_answer_is_cut_at_the_deadline(receiver) -> None:
    def trickle(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
            conn.sendall(bytes([byte]))
            time.sleep(0.5)  # each byte inside any read timeout; the whole far past the deadline

    url = receiver(trickle)
    started = time.monotonic()
    with pytest.raises(webhook_target.NoAnswer, match="no complete answer within 2 s"):
        webhook_target.post(url, b"{}", {}, LOCAL, deadline_s=2.0)
    assert time.monotonic() - started < 3.0


def test_an_endless_answer_is_read_only_up_to_the_cap(receiver) -> None:
    def endless(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(4600):  # 300 MB, if anyone read it
            conn.sendall(chunk)

    url = receiver(endless)
    started = time.monotonic()
    assert webhook_target.post(url, b"{}", {}, LOCAL, deadline_s=10.0) == 200
    assert time.monotonic() - started < 5.0


def test_closed_and_silent_ports_fail_alike(receiver) -> None:
    """The error says no answer, never which: it must not map a network's open ports."""
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(webhook_target.NoAnswer, match="no answer") as refused:
        webhook_target.post(f"http://127.0.0.1:{port}/", b"{}", {}, LOCAL, deadline_s=2.0)
    url = receiver(lambda conn: conn.close())
    with pytest.raises(webhook_target.NoAnswer, match="no answer") as dropped:
        webhook_target.post(url, b"{}", {}, LOCAL, deadline_s=2.0)
    assert str(refused.value) == str(dropped.value)
