"""The one Celery composition root, configured from settings. No network I/O at import."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_init
from kombu import Queue as KombuQueue

from sentibot import logs
from sentibot.config.settings import Settings, get_settings
from sentibot.embedded import broker_url
from sentibot.queues import QUEUES, Queue
from tasks import broker_restart

DISPATCH_EVERY_S = 15.0


def celery_config(settings: Settings) -> dict[str, Any]:
    transport: dict[str, Any] = {
        # Longer than any task's hard time limit, or a slow task is delivered twice.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
        # Sending fails fast: the bot must acknowledge within 3 s even with the broker down
        # (kombu's default retries take ~6 s), and every message has a database row that the
        # dispatcher re-sends. These apply to producers only; a worker's consumer reconnects
        # by broker_connection_retry's own schedule.
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    }
    if settings.sentibot_broker_prefix:
        transport["global_keyprefix"] = settings.sentibot_broker_prefix
    return {
        "broker_url": broker_url(settings),
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        # Jobs carry only ids; JSON keeps the wire format readable and safe.
        "task_serializer": "json",
        "accept_content": ["json"],
        # Results live in the database, not in a result backend.
        "task_ignore_result": True,
        "result_backend": None,
        # A task is acknowledged only when it finished, and re-run if its process dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # Long tasks: take one at a time so a busy process does not hoard messages.
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": 240,
        "task_time_limit": 300,
        "task_default_queue": Queue.DEFAULT,
        "task_queues": [KombuQueue(str(name)) for name in QUEUES],
        "task_routes": {
            "sentibot.collect": {"queue": Queue.COLLECT},
            "sentibot.collect_source": {"queue": Queue.COLLECT},
            "sentibot.score": {"queue": Queue.SCORE},
            "sentibot.notify": {"queue": Queue.NOTIFY},
            "sentibot.collect_watch": {"queue": Queue.COLLECT},
            "sentibot.collect_watch_source": {"queue": Queue.COLLECT},
            "sentibot.score_posts": {"queue": Queue.SCORE},
            "sentibot.send_notice": {"queue": Queue.NOTIFY},
            "sentibot.evaluate_alert": {"queue": Queue.NOTIFY},
            "sentibot.send_digest": {"queue": Queue.NOTIFY},
            "sentibot.deliver_webhook": {"queue": Queue.WEBHOOKS},
            "sentibot.backfill_source": {"queue": Queue.BACKFILL},
            "sentibot.dispatch": {"queue": Queue.DEFAULT},
        },
        # Beat only ticks the dispatcher; every due time lives in the database.
        "beat_schedule": {
            "dispatch": {"task": "sentibot.dispatch", "schedule": DISPATCH_EVERY_S},
        },
        "worker_hijack_root_logger": False,
        "enable_utc": True,
    }


# The id each task's log lines carry (its first argument).
LOG_FIELD = {
    "sentibot.collect": "job_id",
    "sentibot.collect_source": "job_id",
    "sentibot.score": "job_id",
    "sentibot.notify": "job_id",
    "sentibot.collect_watch": "watch_id",
    "sentibot.collect_watch_source": "watch_id",
    "sentibot.evaluate_alert": "rule_id",
    "sentibot.send_digest": "digest_run_id",
    "sentibot.send_notice": "notice_id",
    "sentibot.deliver_webhook": "webhook_delivery_id",
    "sentibot.backfill_source": "backfill_id",
}


@task_prerun.connect
def _bind_log_fields(task_id: str, task: Task, args: tuple = (), **_: object) -> None:
    logs.clear()
    field = LOG_FIELD.get(task.name)
    logs.set_fields(task=task.name, **({field: args[0]} if field and args else {}))


@task_postrun.connect
def _clear_log_fields(**_: object) -> None:
    logs.clear()


@worker_init.connect
def _load_sources(**_: object) -> None:
    """Import every source's module (and its client library) in the worker's main process,
    before the pool forks: each child starts with them loaded instead of importing them on its
    first task (seconds for the SDKs, eight children at once)."""
    from collectors import language
    from sentibot.sources import sources

    sources()
    language.warm()


def create_celery(settings: Settings) -> Celery:
    """The Celery app: workers run its tasks, Beat ticks it, the bot sends through it."""
    broker_restart.install()
    app = Celery(
        "sentibot",
        include=[
            "tasks.analyze",
            "tasks.watch",
            "tasks.notices",
            "tasks.alerts",
            "tasks.digests",
            "tasks.webhooks",
            "tasks.backfill",
            "tasks.dispatch",
        ],
    )
    app.conf.update(celery_config(settings))
    return app


app = create_celery(get_settings())
