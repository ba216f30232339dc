"""The kernel event bus on kombu: on the in-memory transport and on the real RabbitMQ."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from kombu import Connection

from apps.kernel import events
from apps.kernel.events import BusEvent, EventBus, EventBusError, Reject

pytestmark = pytest.mark.timeout(60)
RABBITMQ_URL = os.environ.get("STACKYARD_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")


def _rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(params=["memory", "rabbitmq"])
def bus(request) -> Iterator[EventBus]:
    if request.param == "rabbitmq" and not _rabbitmq_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("RabbitMQ at 127.0.0.1:5672 is unreachable under CI=true")
        pytest.skip("RabbitMQ at 127.0.0.1:5672 is unreachable")
    url = None if request.param == "memory" else RABBITMQ_URL
    # Own exchange per test, so runs never see each other's events.
    opened = EventBus(url, exchange=f"test-{uuid.uuid4().hex[:10]}", retry_delay=0.01)
    opened.groups = []  # type: ignore[attr-defined]
    yield opened
    if not opened.is_memory:
        with Connection(RABBITMQ_URL) as connection:
            channel = connection.channel()
            for group in opened.groups:  # type: ignore[attr-defined]
                for name in (f"stackyard.events.{group}", f"stackyard.events.{group}.dead"):
                    channel.queue_delete(name)
            channel.exchange_delete(opened.exchange.name)
    opened.close()


def _group(bus: EventBus) -> str:
    name = f"g{uuid.uuid4().hex[:10]}"
    bus.groups.append(name)  # type: ignore[attr-defined]
    return name


class Collector:
    def __init__(self, fail_times: int = 0, reject: bool = False) -> None:
        self.events: list[BusEvent] = []
        self.fail_times = fail_times
        self.reject = reject
        self.seen = threading.Condition()

    def __call__(self, event: BusEvent) -> None:
        if self.reject:
            raise Reject("never valid")
        if event.attempt <= self.fail_times:
            raise RuntimeError(f"transient failure {event.attempt}")
        with self.seen:
            self.events.append(event)
            self.seen.notify_all()

    def wait_for(self, count: int, timeout: float = 10) -> list[BusEvent]:
        with self.seen:
            self.seen.wait_for(lambda: len(self.events) >= count, timeout)
        return list(self.events)


def _dead_letters(bus: EventBus, group: str, timeout: float = 5) -> list[dict]:
    deadline = time.monotonic() + timeout
    found: list[dict] = []
    with bus.connect() as connection:
        queue = connection.SimpleQueue(f"stackyard.events.{group}.dead")
        while time.monotonic() < deadline and not found:
            try:
                message = queue.get(timeout=0.2)
            except queue.Empty:
                continue
            found.append({"body": message.payload, "headers": message.headers})
            message.ack()
        queue.close()
    return found


def test_a_group_gets_the_topics_it_listens_to(bus):
    collector, group = Collector(), _group(bus)
    consumer = bus.consumer(group, ["orders.*"], collector).start()
    try:
        sent = bus.publish("orders.shipped", {"order": 1})
        bus.publish("invoices.paid", {"invoice": 2})
        bus.publish("orders.cancelled", {"order": 3})
        events = collector.wait_for(2)
    finally:
        consumer.stop()
    assert [(e.topic, e.payload) for e in events] == [
        ("orders.shipped", {"order": 1}),
        ("orders.cancelled", {"order": 3}),
    ]
    assert events[0].id == sent.id and events[0].attempt == 1


def test_each_group_gets_each_event_and_a_group_shares_the_work(bus):
    first, second, group_b = Collector(), Collector(), _group(bus)
    group_a = _group(bus)
    shared_a = Collector()
    consumers = [
        bus.consumer(group_a, ["jobs.#"], first).start(),
        bus.consumer(group_a, ["jobs.#"], shared_a).start(),
        bus.consumer(group_b, ["jobs.#"], second).start(),
    ]
    try:
        for n in range(10):
            bus.publish("jobs.run.now", {"n": n})
        assert len(second.wait_for(10)) == 10
        deadline = time.monotonic() + 10
        while len(first.events) + len(shared_a.events) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for consumer in consumers:
            consumer.stop()
    in_a = sorted(e.payload["n"] for e in first.events + shared_a.events)
    assert in_a == list(range(10))  # every event once in the group, whichever process took it


def test_events_published_before_the_first_consumer_wait_for_it(bus, monkeypatch):
    monkeypatch.setattr(events, "_declared_groups", dict(events._declared_groups))
    group = _group(bus)
    events.declare_group(group, ["early.bird"])
    bus.publish("early.bird", {"n": 1})
    collector = Collector()
    consumer = bus.consumer(group, ["early.bird"], collector).start()
    try:
        assert [e.payload for e in collector.wait_for(1)] == [{"n": 1}]
    finally:
        consumer.stop()


def test_a_failing_handler_gets_the_event_again(bus):
    collector, group = Collector(fail_times=2), _group(bus)
    consumer = bus.consumer(group, ["flaky"], collector).start()
    try:
        bus.publish("flaky", {"n": 1})
        [event] = collector.wait_for(1)
    finally:
        consumer.stop()
    assert event.attempt == 3 and event.payload == {"n": 1}


def test_an_event_that_keeps_failing_is_buried_after_max_attempts(bus):
    collector, group = Collector(fail_times=99), _group(bus)
    consumer = bus.consumer(group, ["poison"], collector).start()
    try:
        sent = bus.publish("poison", {"n": 1})
        deadline = time.monotonic() + 10
        while consumer.buried == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        consumer.stop()
    [dead] = _dead_letters(bus, group)
    assert dead["body"]["id"] == sent.id
    assert dead["headers"]["attempt"] == bus.max_attempts
    assert collector.events == []


def test_a_rejected_event_is_buried_at_once(bus):
    group = _group(bus)
    consumer = bus.consumer(group, ["bad"], Collector(reject=True)).start()
    try:
        bus.publish("bad", {"n": 1})
        [dead] = _dead_letters(bus, group)
    finally:
        consumer.stop()
    assert dead["headers"]["attempt"] == 1
    assert dead["headers"]["reason"].startswith("rejected: never valid")


@pytest.mark.parametrize("topic", ["", "orders.*", "a..b", "spaces here", "x" * 201])
def test_bad_topics_are_refused(topic):
    with pytest.raises(EventBusError):
        EventBus(None).publish(topic, {})


def test_bad_groups_are_refused():
    bus = EventBus(None)
    with pytest.raises(EventBusError):
        bus.consumer("Bad Group", ["a"], Collector())
    with pytest.raises(EventBusError):
        bus.consumer("ok", [], Collector())
