"""Workers outlive a Redis restart with a task in flight.

Why they did not: celery 5.7.0's consumer, on losing the broker, first `collect()`s the old
connection, which drops the transport's link to it (`transport.client = None`), and then
`close()`s it. Closing the channel restores the unacknowledged message (the task still running)
through a new Redis client, whose address kombu 5.7.0 reads from `transport.client.hostname`:
AttributeError, which celery counts as unrecoverable, and the worker exits; the late ack of that
task, when it finishes, takes the same path. celery 5.6.3 did not close after collecting, so
this is the 5.7.0 pair; the pins stay (their other fixes are wanted) and this module is the fix.

A channel whose connection is gone leaves its unacknowledged messages where they are: in the
broker's unacked index, which kombu restores after the visibility timeout if the server kept its
data, while the dispatcher re-sends the job's database row sooner (tasks/dispatch.py). A late ack
on such a channel is dropped: the task's work is already recorded in the database.
"""

from __future__ import annotations

import logging

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

log = logging.getLogger(__name__)


class QoS(kombu_redis.QoS):
    def _gone(self) -> bool:
        transport = getattr(self.channel, "connection", None)
        return transport is None or getattr(transport, "client", None) is None

    def restore_unacked(self, client=None):  # noqa: ANN001, ANN201 (kombu's signature)
        if client is None and self._gone():
            if self._delivered:
                log.warning(
                    "broker connection gone: %d unacknowledged message(s) left for the "
                    "broker's own restore and the dispatcher",
                    len(self._delivered),
                )
            self._delivered.clear()
            return None
        return super().restore_unacked(client)

    def ack(self, delivery_tag) -> None:  # noqa: ANN001
        if self._gone():
            virtual.QoS.ack(self, delivery_tag)  # forget it here; the broker was restarted
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False) -> None:  # noqa: ANN001, FBT002
        if self._gone():
            virtual.QoS.ack(self, delivery_tag)
            return
        super().reject(delivery_tag, requeue)


def install() -> None:
    """Every Redis channel of this process uses the QoS above."""
    kombu_redis.Channel.QoS = QoS
