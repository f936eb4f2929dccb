"""Where a webhook may go, and one attempt to deliver there.

A webhook URL is a workspace admin's input, and the worker that POSTs to it sits inside the
deployment: it must never become a way to reach internal services. So a URL is https, to a
host whose every address is public (loopback, private, link-local, carrier-grade NAT,
multicast, reserved and unspecified ranges are refused, for IPv4 and IPv6, however the address
is written: `127.1`, `2130706433`, `[::ffff:127.0.0.1]`); it is resolved once per attempt and
the connection goes to the address that was checked (TLS still verifies the host's name), so a
DNS answer that changes between check and connect changes nothing. Redirects are not followed.
Hosts named in WEBHOOK_PRIVATE_HOSTS (none by default; tests and local demos) may be private
and plain http.

An attempt has one deadline for everything (connect, TLS, sending, the answer), enforced by a
watchdog that shuts the socket, and reads at most MAX_ANSWER_BYTES of the answer, which is
never shown to anyone: only its status. Errors say what kind of failure it was and never tell
an open port from a closed one.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

DEADLINE_S = 15.0
MAX_ANSWER_BYTES = 64 * 1024
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class Refused(ValueError):
    """The URL may not be a webhook (its reason is safe to show)."""


class NoAnswer(OSError):
    """No usable answer within the deadline (its reason is safe to show)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent


def parse(url: str, private_hosts: frozenset[str] = frozenset()) -> Target:
    """The URL as a target; Refused with the reason where it cannot be one (no DNS here)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port
    except ValueError as exc:
        raise Refused("it is not a valid URL") from exc
    if not host:
        raise Refused("it names no host")
    if parts.username or parts.password:
        raise Refused("it carries a user name or password; the signature authenticates sentibot")
    if parts.scheme not in ("http", "https"):
        raise Refused("it is not an https URL")
    if parts.scheme == "http" and host not in private_hosts:
        raise Refused("it is plain http; webhooks go to https URLs only")
    literal = _literal(host)
    if literal is not None and host not in private_hosts and not public(literal):
        raise Refused(f"it points at {literal}, {_kind(literal)} address")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP written in any form the resolver would accept (`127.1`, `0x7f.1`, `2130706433`)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.inet_aton(host))
    except OSError:
        return None


def public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return public(mapped)
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not (address.version == 4 and address in _CGNAT)
    )


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _kind(mapped)
    for name, flag in (
        ("a loopback", address.is_loopback),
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a shared (carrier-grade NAT)", address.version == 4 and address in _CGNAT),
        ("a private", address.is_private),
    ):
        if flag:
            return name
    return "a reserved"


def resolve(target: Target, private_hosts: frozenset[str] = frozenset()) -> str:
    """The one address to connect to, after checking every address the name has."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{target.host} does not resolve") from exc
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if target.host not in private_hosts:
        for address in addresses:
            if not public(address):
                raise Refused(f"{target.host} resolves to {_kind(address)} address")
    return str(addresses[0])


class _Pinned(http.client.HTTPSConnection):
    """HTTPS to a fixed address, verifying the certificate for the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        context: ssl.SSLContext = getattr(self, "_context")  # noqa: B009 (http.client keeps it private)
        self.sock = context.wrap_socket(raw, server_hostname=self.host)


class _PinnedPlain(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    private_hosts: frozenset[str] = frozenset(),
    deadline_s: float = DEADLINE_S,
) -> int:
    """POST once; the answer's status. Refused for a URL that may not be reached; NoAnswer
    (with a reason safe to show) for any failure to get an answer within the deadline."""
    target = parse(url, private_hosts)
    address = resolve(target, private_hosts)
    kind = _Pinned if target.scheme == "https" else _PinnedPlain
    conn = kind(target.host, target.port, address, timeout=min(10.0, deadline_s))
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(deadline_s, cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read(MAX_ANSWER_BYTES)  # drained up to the cap, never kept
        return answer.status
    except ssl.SSLError as exc:
        raise NoAnswer("TLS failed (certificate or protocol)") from exc
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise NoAnswer(f"no complete answer within {deadline_s:.0f} s") from exc
        raise NoAnswer("no answer (could not connect, or the connection was cut)") from exc
    finally:
        watchdog.cancel()
        conn.close()


def shown(url: str) -> str:
    """The URL as anyone may see it: scheme, host and port; the path and query (where
    receivers keep their secrets, `/services/T…/B…/…`, `?token=`) are left out."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an invalid URL)"
    tail = "/…" if (parts.path not in ("", "/") or parts.query) else "/"
    return f"{parts.scheme}://{host}{port}{tail}"
