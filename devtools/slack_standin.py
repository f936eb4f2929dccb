"""A local Slack Web API: the methods sentibot calls, in Slack's JSON, recording every call.

Speaks what slack-sdk sends (form or JSON bodies, bearer tokens) and answers like Slack does:
HTTP 200 with `"ok": false` for API errors, 429 with Retry-After when asked to.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from devtools.http_standin import Request, Response, StandIn
from devtools.socket_mode_standin import SocketModeStandIn


@dataclass(frozen=True)
class SharedFile:
    id: str
    title: str | None
    channel: str | None
    thread_ts: str | None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict] = field(default_factory=list)
    edits: int = 0
    via: str = "chat.postMessage"
    thread_ts: str | None = None
    metadata: dict | None = None


class SlackStandIn(StandIn):
    def __init__(
        self, token: str = "xoxb-standin", team_id: str = "T0STANDIN", bot_user: str = "USENTIBOT"
    ) -> None:
        super().__init__()
        self.tokens = {token: team_id}
        self.bot_user = bot_user
        self.messages: list[Message] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.uploads: dict[str, bytes] = {}
        self.shared_files: list[SharedFile] = []
        self.home_views: dict[str, dict] = {}
        self.not_member: set[str] = set()
        # users.conversations: the channels each user is in (tests set them).
        self.members: dict[str, set[str]] = {}
        # users.info: who is a workspace admin (tests add them).
        self.admins: set[str] = set()
        self.app_token = "xapp-standin"
        # The OAuth app: its credentials, and codes handed out when someone "approves" an install.
        self.client_id = "111.222"
        self.client_secret = "standin-client-secret"
        self.codes: dict[str, tuple[str, str]] = {}
        self.socket_mode: SocketModeStandIn | None = None
        self._ts = itertools.count(1)
        self._changed = threading.Condition()

    def add_workspace(self, token: str, team_id: str) -> None:
        self.tokens[token] = team_id

    def approve_install(self, team_id: str, team_name: str = "Another workspace") -> str:
        """What Slack's authorize page does when a user approves: a one-time code."""
        code = f"code-{next(self._ts)}"
        self.codes[code] = (team_id, team_name)
        return code

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    # -- reading what was posted -------------------------------------------
    def messages_in(self, channel: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if m.channel == channel]

    def wait_for(self, predicate, timeout: float = 30.0):
        """Block until `predicate(self)` is truthy; return its value (or None on timeout)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(min(remaining, 0.2))

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- the API ----------------------------------------------------------
    def route(self, request: Request) -> Response:
        if request.path.startswith("/response/"):
            self.responses.append(
                {"key": request.path.rsplit("/", 1)[1], **json.loads(request.body)}
            )
            self._notify()
            return Response(200, "ok", {"content-type": "text/plain"})
        if request.path.startswith("/upload/"):
            self.uploads[request.path.rsplit("/", 1)[1]] = request.body
            return Response(200, "OK - uploaded", {"content-type": "text/plain"})
        if not request.path.startswith("/api/"):
            return Response(404, {"ok": False, "error": "unknown_path"})
        method = request.path[len("/api/") :]
        params = {**request.query, **request.form()}
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        if method == "apps.connections.open":
            return Response(200, self._apps_connections_open(token))
        if method == "oauth.v2.access":
            result = self._oauth_v2_access(request.headers.get("authorization", ""), params)
            return Response(200, result)
        team_id = self.tokens.get(token)
        if team_id is None:
            return Response(200, {"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return Response(200, {"ok": False, "error": "unknown_method"})
        result = handler(params, team_id)
        self._notify()
        return Response(200, result)

    def _oauth_v2_access(self, authorization: str, params: dict) -> dict:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if authorization != f"Basic {expected}":
            return {"ok": False, "error": "invalid_client_id"}
        found = self.codes.pop(str(params.get("code", "")), None)
        if found is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, team_name = found
        token = f"xoxb-{team_id.lower()}-{next(self._ts)}"
        self.add_workspace(token, team_id)
        return {
            "ok": True,
            "app_id": "ASENTIBOT",
            "authed_user": {"id": "UINSTALLER"},
            "scope": (
                "commands,chat:write,chat:write.public,files:write,channels:history,groups:history,"
                "channels:read,groups:read"
            ),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": self.bot_user,
            "team": {"id": team_id, "name": team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, token: str) -> dict:
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        if self.socket_mode is None:
            self.socket_mode = SocketModeStandIn()
        return {"ok": True, "url": self.socket_mode.url}

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.close()
        super().stop()

    def _auth_test(self, params: dict, team_id: str) -> dict:
        return {
            "ok": True,
            "url": self.url + "/",
            "team": "Stand-in workspace",
            "team_id": team_id,
            "user": "sentibot",
            "user_id": self.bot_user,
            "bot_id": "BSENTIBOT",
        }

    def _blocks(self, params: dict) -> list[dict]:
        return self._json(params.get("blocks")) or []

    @staticmethod
    def _json(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def _users_info(self, params: dict, team_id: str) -> dict:
        user = str(params.get("user", ""))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        admin = user in self.admins
        return {
            "ok": True,
            "user": {
                "id": user,
                "team_id": team_id,
                "name": user.lower(),
                "deleted": False,
                "is_bot": False,
                "is_admin": admin,
                "is_owner": False,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "tz": "Europe/Berlin",
            },
        }

    def _users_conversations(self, params: dict, team_id: str) -> dict:
        """One page per call of `limit` channels, with Slack's cursor."""
        channels = sorted(self.members.get(str(params.get("user", "")), set()))
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return {
            "ok": True,
            "channels": [{"id": c, "is_member": True} for c in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _conversations_history(self, params: dict, team_id: str) -> dict:
        """Newest first, from `oldest`; metadata only with include_all_metadata, as Slack."""
        channel = str(params.get("channel", ""))
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        with self._lock:
            found = [
                m
                for m in self.messages
                if m.channel == channel and m.thread_ts is None and float(m.ts) > oldest
            ]
        found.sort(key=lambda m: float(m.ts), reverse=True)
        messages = []
        for m in found[:limit]:
            item: dict[str, object] = {
                "type": "message",
                "user": self.bot_user,
                "text": m.text,
                "ts": m.ts,
            }
            if with_metadata and m.metadata:
                item["metadata"] = m.metadata
            messages.append(item)
        return {"ok": True, "messages": messages, "has_more": len(found) > limit}

    def _chat_postMessage(self, params: dict, team_id: str) -> dict:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = Message(
            channel,
            ts,
            str(params.get("text", "")),
            self._blocks(params),
            thread_ts=params.get("thread_ts") or None,
            metadata=self._json(params.get("metadata")),
        )
        with self._lock:
            self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": message.text, "ts": ts},
        }

    def _chat_update(self, params: dict, team_id: str) -> dict:
        with self._lock:
            for message in self.messages:
                if message.channel == params.get("channel") and message.ts == params.get("ts"):
                    message.text = str(params.get("text", message.text))
                    message.blocks = self._blocks(params) or message.blocks
                    message.edits += 1
                    return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _views_publish(self, params: dict, team_id: str) -> dict:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not params.get("user_id") or not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            self.home_views[str(params["user_id"])] = view
        return {"ok": True, "view": {"id": "V1", "team_id": team_id, **view}}

    def _chat_postEphemeral(self, params: dict, team_id: str) -> dict:
        self.ephemeral.append(dict(params))
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    def _files_getUploadURLExternal(self, params: dict, team_id: str) -> dict:
        file_id = f"F{next(self._ts):08d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict, team_id: str) -> dict:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        missing = [f["id"] for f in files if f["id"] not in self.uploads]
        if missing:
            return {"ok": False, "error": "file_not_found"}
        channel = params.get("channel_id")
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        with self._lock:
            for f in files:
                self.shared_files.append(
                    SharedFile(f["id"], f.get("title"), channel, params.get("thread_ts"))
                )
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
