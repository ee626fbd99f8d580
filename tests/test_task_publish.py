"""support_desk.task_publish writes the message Task.delay would, on the list a worker reads."""

import base64
import json

import kombu.transport.redis as kombu_redis
import pytest
import redis

from sla.tasks import sla_recompute_ticket_task, sla_sweep_task
from support_desk import task_publish
from support_desk.celery import app


def _delay_message(task, *args) -> tuple[str, dict]:
    """What Task.delay hands to kombu's Redis transport (captured, not sent)."""
    sent: list = []
    original = kombu_redis.Channel._put
    kombu_redis.Channel._put = lambda self, queue, message, **kw: sent.append((queue, message))
    try:
        task.delay(*args)
    finally:
        kombu_redis.Channel._put = original
    return sent[0]


def _comparable(message: dict) -> dict:
    message = json.loads(json.dumps(message))
    for key in ("id", "root_id", "origin"):
        message["headers"].pop(key)
    for key in ("correlation_id", "delivery_tag"):
        message["properties"].pop(key)
    message["body"] = json.loads(base64.b64decode(message["body"]))
    return message


def test_the_message_is_the_one_delay_writes():
    queue, expected = _delay_message(sla_recompute_ticket_task, 42)
    assert task_publish._queue_for(sla_recompute_ticket_task) == queue == "celery"
    ours = task_publish.message(sla_recompute_ticket_task, (42,), queue=queue)
    assert _comparable(ours) == _comparable(expected)
    assert (
        ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]
    )


def test_send_puts_it_on_the_queue_a_worker_reads(settings):
    client = redis.Redis.from_url(app.conf.broker_url)
    before = client.llen("celery")
    task_publish.send(sla_recompute_ticket_task, 7)
    assert client.llen("celery") == before + 1
    message = json.loads(client.lpop("celery"))
    assert message["headers"]["task"] == "sla.recompute_ticket"
    assert json.loads(base64.b64decode(message["body"]))[0] == [7]


def test_a_routed_task_or_eager_mode_goes_through_apply_async(monkeypatch):
    calls: list = []
    for task in (sla_sweep_task, sla_recompute_ticket_task):
        monkeypatch.setattr(task, "apply_async", lambda args=None, **kw: calls.append(args))
    task_publish.send(sla_sweep_task)  # routed to its own queue (settings)
    assert calls == [()]
    monkeypatch.setattr(app.conf, "task_always_eager", True)
    task_publish.send(sla_recompute_ticket_task, 3)
    assert calls == [(), (3,)]


def test_an_unreachable_broker_raises_like_delay(monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/0")  # nobody listens
    monkeypatch.setattr(task_publish, "_local", type(task_publish._local)())
    with pytest.raises(redis.ConnectionError):
        task_publish.send(sla_recompute_ticket_task, 1)
