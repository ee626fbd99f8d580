"""Send a Celery task for a fraction of what Task.delay costs, for the task that goes out after
every ticket change (sla.recompute_ticket, from the commit of each API creation).

Task.delay spends over a millisecond of CPU per message in Celery's routing and option
handling and in kombu's Redis transport (which builds a new redis-py client per message): a
quarter of an API ticket creation. `send` writes the message Task.delay would write (Celery
protocol 2, as kombu's Redis transport stores it) with one LPUSH on a client kept per process.

It covers only what such a task needs: positional arguments, the default queue, no ETA,
countdown, priority or callbacks, sent from outside a task. Anything else (eager mode, a
broker other than Redis over TCP, a route to another queue, a call from inside a running
task, whose message carries its parent's ids) goes through Task.apply_async unchanged.
tests/test_task_publish.py checks the message against the one Task.delay writes.
"""

import base64
import json
import os
import socket
import threading
import uuid

import redis
from celery import current_task

_local = threading.local()
_EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"


_queues: dict[str, str | None] = {}


def _queue_for(task) -> str | None:
    """The Redis list a message for `task` goes to, when the fast path applies."""
    if task.app.conf.task_always_eager:  # tests may switch it at run time
        return None
    if task.name not in _queues:
        _queues[task.name] = _direct_queue(task)
    return _queues[task.name]


def _direct_queue(task) -> str | None:
    conf = task.app.conf
    transport_options = conf.broker_transport_options or {}
    if (
        not str(conf.broker_url or "").startswith(("redis://", "rediss://"))
        or transport_options.get("global_keyprefix")
        or not isinstance(conf.task_routes or {}, dict)
        or task.name in (conf.task_routes or {})
        or task.priority
        or task.expires is not None
    ):
        return None
    name = conf.task_default_queue
    queue = task.app.amqp.queues.get(name)
    if queue is None or queue.exchange.type != "direct":
        return None
    return name  # a direct exchange becomes the anonymous one: the list is the queue's name


def _client(task) -> redis.Redis:
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "pid", None) != os.getpid():
        options = task.app.conf.broker_transport_options or {}
        client = redis.Redis.from_url(
            task.app.conf.broker_url,
            socket_timeout=options.get("socket_timeout"),
            socket_connect_timeout=options.get("socket_connect_timeout"),
        )
        _local.client, _local.pid = client, os.getpid()
    return client


def message(task, args: tuple, *, queue: str) -> dict:
    """The envelope kombu's Redis transport stores for `task.apply_async(args)`."""
    task_id = str(uuid.uuid4())
    body = json.dumps([list(args), {}, _EMBED]).encode()
    return {
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": task.name,
            "id": task_id,
            "shadow": None,
            "eta": None,
            "expires": None,
            "group": None,
            "group_index": None,
            "retries": 0,
            "timelimit": [task.time_limit, task.soft_time_limit],
            "root_id": task_id,
            "parent_id": None,
            "argsrepr": repr(tuple(args)),
            "kwargsrepr": "{}",
            "origin": _ORIGIN,
            "ignore_result": task.ignore_result,
            "replaced_task_nesting": 0,
            "stamped_headers": None,
            "stamps": {},
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": task.app.thread_oid,
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }


def send(task, *args) -> None:
    """`task.delay(*args)`, cheaply when it can be (see the module docstring). Raises like
    delay when the broker cannot be reached."""
    queue = _queue_for(task)
    if queue is None or current_task:
        task.apply_async(args)
        return
    _client(task).lpush(queue, json.dumps(message(task, args, queue=queue)))
