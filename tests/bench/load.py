"""A small closed-loop HTTP load generator: N threads, each with its own keep-alive
connection, for a fixed duration. Bounded in time and aimed at 127.0.0.1 only."""

import http.client
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable


def run_load(
    *,
    port: int,
    path: str,
    body: Callable[[int], dict],
    headers: Callable[[], dict],
    concurrency: int = 8,
    seconds: float = 10.0,
) -> dict:
    stop_at = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker(worker_id: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < stop_at:
            payload = json.dumps(body(worker_id * 1_000_000 + n)).encode()
            started = time.perf_counter()
            try:
                conn.request(
                    "POST", path, payload, {"Content-Type": "application/json", **headers()}
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
            n += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    return {
        "rps": ok / wall,
        "statuses": statuses,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
    }


def idempotency_headers(token: str) -> Callable[[], dict]:
    return lambda: {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
