"""kombu's Redis transport, with acknowledgements that cannot jam a worker.

kombu's Redis QoS acknowledges a message by first deleting it from the broker's "unacked" set
and then forgetting it locally. When the broker is down at that moment (a job that finished
during an outage), the first step raises and the second never happens: the worker keeps
counting the message as in hand, and once as many have failed as it may hold (concurrency x
prefetch multiplier) it stops taking jobs for good, even after the broker is back (seen in
tests/jobs/test_engine.py::TestBrokerOutage with kombu 5.7). Here the local step always
happens. The message stays in the broker's unacked set and is redelivered after the visibility
timeout; the job is idempotent, so running it again is harmless.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis, virtual


class QoS(redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        try:
            self._remove_from_indices(delivery_tag).execute()  # type: ignore[no-untyped-call]
        finally:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            if requeue:
                self.restore_by_tag(delivery_tag, leftmost=True)  # type: ignore[no-untyped-call]
            else:
                self._remove_from_indices(delivery_tag).execute()  # type: ignore[no-untyped-call]
        finally:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]


class Channel(redis.Channel):
    QoS = QoS


class Transport(redis.Transport):
    Channel = Channel
