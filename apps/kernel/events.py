"""The kernel event bus (kombu): apps publish facts by topic; other apps consume them by group.

EVENT_BUS_URL chooses the broker: `amqp://...` (RabbitMQ), `redis://...`, or, unset or
`memory://`, kombu's in-memory transport (embedded default: one process, its threads).

    from apps.kernel import events

    events.publish("notifications.send", {"audience": "user", "user_id": "...", "title": "Hi"})
    await events.apublish(...)                    # the same from async code (a worker thread)

    consumer = events.get_bus().consumer("notifications", ["notifications.*"], handle)
    consumer.start()                              # a daemon thread; consumer.stop() ends it
    # handle(event: BusEvent) runs once per event per group; raise to have it retried,
    # raise events.Reject(reason) for an event that can never succeed (buried at once).

Delivery: every event goes to a durable topic exchange (`stackyard.events`) and from there to
one durable queue per consumer group bound to the group's topic patterns (`*` one word, `#`
any), so each group gets each event, and the processes of one group share the work. Messages
are acknowledged after the handler returns (at least once: handlers are idempotent, e.g. keyed
on `event.id`). A handler that raises gets the event again, up to `max_attempts` times with a
growing pause, then the event is buried in `<queue>.dead` for a human to look at.

A queue exists on the broker only once declared: `declare_group(group, topics)` (at import of
the consuming app) makes every publisher of this process declare it before its first publish,
so events sent before the consumer first starts wait for it instead of being dropped.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kombu import Connection, Exchange, Queue, binding
from kombu.message import Message
from kombu.mixins import ConsumerMixin

from apps.kernel.settings import get_settings

EXCHANGE_NAME = "stackyard.events"
QUEUE_PREFIX = "stackyard.events."
MEMORY_URL = "memory://localhost/"
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
BINDING_PATTERN = re.compile(r"^([A-Za-z0-9_-]+|\*|#)(\.([A-Za-z0-9_-]+|\*|#))*$")
GROUP_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
MAX_ATTEMPTS = 5

logger = logging.getLogger("stackyard.events")

_declared_groups: dict[str, tuple[str, ...]] = {}


class EventBusError(ValueError):
    """A topic, group or payload the bus refuses; the message says which and why."""


class Reject(Exception):
    """Raised by a handler for an event that can never succeed: buried at once, no retries."""


@dataclass(frozen=True)
class BusEvent:
    """One event as a consumer receives it."""

    topic: str
    payload: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    published_at: float = field(default_factory=time.time)
    attempt: int = 1
    """1 the first time a consumer sees it, then 2, 3, ... after its handler raised."""

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic,
            "payload": self.payload,
            "published_at": self.published_at,
        }

    @classmethod
    def from_message(cls, body: Any, headers: Mapping[str, Any] | None) -> BusEvent:
        if not isinstance(body, dict) or not isinstance(body.get("payload"), dict):
            raise EventBusError("not a bus event: expected an object with a `payload` object")
        return cls(
            topic=str(body.get("topic", "")),
            payload=body["payload"],
            id=str(body.get("id") or uuid.uuid4().hex),
            published_at=float(body.get("published_at") or time.time()),
            attempt=int((headers or {}).get("attempt", 1)),
        )


Handler = Callable[[BusEvent], None]


def check_topic(topic: str) -> str:
    if not TOPIC_PATTERN.match(topic) or len(topic) > 200:
        raise EventBusError(f"topic {topic!r} must be dot-separated words (letters, digits, _-)")
    return topic


def queue_for(exchange: Exchange, group: str, topics: Iterable[str]) -> Queue:
    """The durable queue of a consumer group, bound to each of its topic patterns."""
    if not GROUP_PATTERN.match(group):
        raise EventBusError(f"group {group!r} must be lowercase letters, digits, and ._-")
    patterns = tuple(topics)
    if not patterns:
        raise EventBusError(f"group {group!r} must listen to at least one topic")
    for pattern in patterns:
        if not BINDING_PATTERN.match(pattern):
            raise EventBusError(f"topic pattern {pattern!r} is not a valid binding key")
    return Queue(
        QUEUE_PREFIX + group,
        bindings=[binding(exchange, routing_key=p) for p in patterns],
        durable=True,
    )


def declare_group(group: str, topics: Iterable[str]) -> None:
    """Have every bus of this process declare the group's queue before it publishes."""
    _declared_groups[group] = tuple(topics)


class EventBus:
    """Publisher and consumer factory for one broker URL (thread-safe publishing)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        exchange: str = EXCHANGE_NAME,
        max_attempts: int = MAX_ATTEMPTS,
        retry_delay: float = 0.2,
    ) -> None:
        self.url = url or MEMORY_URL
        self.exchange = Exchange(exchange, type="topic", durable=True)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._declared: set[str] = set()

    @property
    def is_memory(self) -> bool:
        return self.url.startswith("memory")

    def connect(self) -> Connection:
        """A new connection to the broker (memory polls every 5 ms instead of every second)."""
        options = {"polling_interval": 0.005} if self.is_memory else {}
        return Connection(self.url, transport_options=options, connect_timeout=5)

    def queue(self, group: str, topics: Iterable[str]) -> Queue:
        return queue_for(self.exchange, group, topics)

    def publish(
        self, topic: str, payload: Mapping[str, Any], *, event_id: str | None = None
    ) -> BusEvent:
        """Send `payload` (a JSON object) under `topic`; returns the event as sent.

        Retries the connection for a few seconds, then raises the broker's error.
        """
        event = BusEvent(topic=check_topic(topic), payload=dict(payload))
        if event_id:
            event = BusEvent(topic=event.topic, payload=event.payload, id=event_id)
        with self._lock:
            if self._connection is None:
                self._connection = self.connect()
            producer = self._connection.Producer(serializer="json")
            pending = [
                self.queue(group, topics)
                for group, topics in _declared_groups.items()
                if group not in self._declared
            ]
            producer.publish(
                event.body(),
                exchange=self.exchange,
                routing_key=topic,
                declare=[self.exchange, *pending],
                delivery_mode=2,
                headers={"attempt": 1},
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
            )
            self._declared.update(_declared_groups)
        return event

    async def apublish(
        self, topic: str, payload: Mapping[str, Any], *, event_id: str | None = None
    ) -> BusEvent:
        """`publish` from async code, without blocking the event loop."""
        return await asyncio.to_thread(self.publish, topic, payload, event_id=event_id)

    def consumer(self, group: str, topics: Iterable[str], handler: Handler) -> BusConsumer:
        """A consumer of `group` (not started); see `BusConsumer`."""
        return BusConsumer(self, group, tuple(topics), handler)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.release()
                self._connection = None
            self._declared.clear()


class BusConsumer(ConsumerMixin):
    """Runs `handler` for each event of the group's queue, in a thread, with kombu's reconnects.

    `start()` returns once the queue is consumed (`ready`), `stop()` ends the thread.
    """

    def __init__(
        self, bus: EventBus, group: str, topics: tuple[str, ...], handler: Handler
    ) -> None:
        self.bus = bus
        self.group = group
        self.handler = handler
        self.source = bus.queue(group, topics)
        self.dead = Queue(self.source.name + ".dead", durable=True)
        self.connection = bus.connect()
        self.ready = threading.Event()
        self.handled = 0
        self.buried = 0
        self._thread: threading.Thread | None = None

    def get_consumers(self, consumer_class: Any, channel: Any) -> list[Any]:
        self.dead.bind(channel).declare()
        return [
            consumer_class(
                queues=[self.source],
                callbacks=[self._on_message],
                accept=["json"],
                prefetch_count=10,
            )
        ]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **_: Any) -> None:
        self.ready.set()

    def _on_message(self, body: Any, message: Message) -> None:
        try:
            event = BusEvent.from_message(body, message.headers)
        except (EventBusError, TypeError, ValueError) as exc:
            self._bury(body, message.headers or {}, f"malformed: {exc}")
            message.ack()
            return
        try:
            self.handler(event)
        except Reject as exc:
            self._bury(event.body(), {"attempt": event.attempt}, f"rejected: {exc}")
        except Exception as exc:
            logger.warning(
                "handler of %s failed on %s (attempt %d)",
                self.group,
                event.id,
                event.attempt,
                exc_info=True,
            )
            if event.attempt >= self.bus.max_attempts:
                self._bury(event.body(), {"attempt": event.attempt}, repr(exc))
            else:
                time.sleep(min(self.bus.retry_delay * 2 ** (event.attempt - 1), 5.0))
                self._send(self.source.name, event.body(), {"attempt": event.attempt + 1})
        else:
            self.handled += 1
        message.ack()

    def _send(self, queue_name: str, body: Any, headers: dict[str, Any]) -> None:
        # The default exchange routes by queue name: back to this group only, not to others.
        producer = self.connection.Producer(serializer="json")
        producer.publish(
            body,
            exchange="",
            routing_key=queue_name,
            headers=headers,
            delivery_mode=2,
            retry=True,
        )

    def _bury(self, body: Any, headers: Mapping[str, Any], reason: str) -> None:
        self.buried += 1
        logger.error("event buried in %s: %s", self.dead.name, reason)
        self._send(self.dead.name, body, {**headers, "reason": reason[:500]})

    def start(self, timeout: float = 10.0) -> BusConsumer:
        """Consume in a daemon thread; returns once the queue is declared and consumed."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name=f"bus-{self.group}", daemon=True)
            self._thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError(f"the {self.group} consumer did not connect within {timeout}s")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.connection.release()


_buses: dict[str, EventBus] = {}
_buses_lock = threading.Lock()


def get_bus() -> EventBus:
    """The process's bus on EVENT_BUS_URL (memory when unset)."""
    url = get_settings().event_bus_url or MEMORY_URL
    with _buses_lock:
        bus = _buses.get(url)
        if bus is None:
            bus = _buses[url] = EventBus(url)
        return bus


def publish(topic: str, payload: Mapping[str, Any], *, event_id: str | None = None) -> BusEvent:
    """Publish on the configured bus; see the module docstring."""
    return get_bus().publish(topic, payload, event_id=event_id)


async def apublish(
    topic: str, payload: Mapping[str, Any], *, event_id: str | None = None
) -> BusEvent:
    return await get_bus().apublish(topic, payload, event_id=event_id)


def reset_bus() -> None:
    """Close the cached buses (tests, after changing EVENT_BUS_URL)."""
    with _buses_lock:
        for bus in _buses.values():
            bus.close()
        _buses.clear()
