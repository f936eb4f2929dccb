"""`make demo`: the whole service on embedded defaults and a console that speaks slash commands.

Each line typed (or piped) is sent to the bot as a signed Slack request; the bot's ephemeral
acknowledgement and everything it later posts to the channel are printed as Slack shows them.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from devtools.render_text import render_blocks
from devtools.stack import ServiceStack
from sentibot.storage.models import UNFINISHED, Job
from sentibot.storage.session import sessionmaker_for

CHANNEL = "C0GENERAL"
JOB_TIMEOUT_S = 120.0


def _lines(interactive: bool):
    while True:
        if interactive:
            print("\nslack> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return
        yield line.strip()


def _pending_jobs(stack: ServiceStack) -> int:
    with sessionmaker_for(stack.effective_database_url)() as session:
        stmt = select(func.count()).select_from(Job).where(Job.state.in_(UNFINISHED))
        return int(session.scalar(stmt) or 0)


class Console:
    def __init__(self, stack: ServiceStack) -> None:
        self.stack = stack
        self.shown: set[tuple[str, int]] = set()  # (ts, edits) of what was printed
        self.shown_responses = 0

    def send(self, line: str) -> bool:
        """Send one slash command; print the ack and, once its job is done, the replies."""
        command, _, text = line.partition(" ")
        response = self.stack.command(text, command=command, channel=CHANNEL)
        if response.status_code != 200:
            print(f"(the bot answered HTTP {response.status_code})")
            return False
        ack = response.json() if response.content else {}
        if ack:
            print(
                f"[only visible to you] {render_blocks(ack.get('text', ''), ack.get('blocks', []))}"
            )
        else:  # answered after the acknowledgement, through the response URL
            seen = self.shown_responses
            self.stack.slack.wait_for(lambda s: len(s.responses) > seen, timeout=JOB_TIMEOUT_S)
        return self.wait_for_replies()

    def wait_for_replies(self) -> bool:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while True:
            pending = _pending_jobs(self.stack)
            self.print_new()
            if pending == 0:
                return True
            if time.monotonic() > deadline:
                print(f"(gave up waiting after {JOB_TIMEOUT_S:.0f}s; see {self.stack.data_dir})")
                return False
            time.sleep(0.2)

    def print_new(self) -> None:
        """New messages and new versions of edited ones: progress as one line, the rest in full."""
        for message in list(self.stack.slack.messages):
            key = (message.ts, message.edits)
            if key in self.shown:
                continue
            self.shown.add(key)
            if "hourglass" in message.text:
                print("  … " + message.text.replace(":hourglass_flowing_sand: ", ""))
            else:
                print(f"\n#general · sentibot\n{render_blocks(message.text, message.blocks)}")
        responses = self.stack.slack.responses
        for payload in responses[self.shown_responses :]:
            shown = render_blocks(payload.get("text", ""), payload.get("blocks", []))
            print(f"\n#general · sentibot\n{shown}")
        self.shown_responses = len(responses)


def run_demo(keep: bool = False) -> int:
    interactive = sys.stdin.isatty()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper
    logging.getLogger("alembic").setLevel(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="sentibot-demo-"))
    print(
        "Starting sentibot: embedded redis-server, SQLite, stand-ins for Slack, X, Reddit, "
        "Hacker News, Bluesky, Mastodon, GitHub, Stack Exchange and news search, worker, Beat, "
        "bot…"
    )
    stack = ServiceStack(data_dir=data_dir, start_beat_process=True)
    ok = True
    try:
        with stack:
            print(f"Ready. Bot on {stack.bot_url}; data in {data_dir}.")
            if interactive:
                print("Type slash commands such as `/sentiment analyze acme`, or `exit`.")
            console = Console(stack)
            for line in _lines(interactive):
                if not line or line.startswith("#"):
                    continue
                if line in ("exit", "quit"):
                    break
                if not line.startswith("/"):
                    print("Type a slash command, for example: /sentiment analyze acme")
                    continue
                if not interactive:
                    print(f"\nslack> {line}")
                ok = console.send(line) and ok
    finally:
        if not keep:
            stack.remove_data()
    return 0 if ok else 1
