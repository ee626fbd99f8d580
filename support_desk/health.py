import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """200 when PostgreSQL and the broker both answer; 503 naming the failing part.

    `sla` reports tickets whose SLA recompute keeps failing (a broken calendar saved around
    the services, a bug): the desk still serves and every other ticket's timers run, so it
    is news for the operator, not a failed check. The check is public, so it names the
    error's kind only; the admin (SLA > Recompute claims) shows the whole message."""
    result = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result["database"] = "ok"
    except Exception as exc:
        result["database"] = f"error: {exc.__class__.__name__}"
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2
        )
        client.ping()
        result["broker"] = "ok"
    except Exception as exc:
        result["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in result.values())
    if result["database"] == "ok":
        result["sla"] = _sla_recomputes()
        result["sla"]["stale_tickets"] = _stale_tickets()
        result["mail"] = _mail_failures()
    return JsonResponse(result, status=200 if healthy else 503)


def _sla_recomputes() -> dict:
    from sla.selectors import recompute_failures

    try:
        count, failing = recompute_failures(limit=20)
    except Exception as exc:
        return {"error": exc.__class__.__name__}
    return {
        "failing_recomputes": count,
        "failing_tickets": [
            {
                "ticket": claim.ticket_id,
                "failures": claim.failures,
                "since": claim.first_failed_at.isoformat() if claim.first_failed_at else None,
                "error": claim.last_error.partition(":")[0][:100],
                "retry_at": claim.retry_at.isoformat(),
            }
            for claim in failing
        ],
    }


def _stale_tickets() -> int | str:
    """Tickets changed and not yet recomputed (sla.stale_drain): a number that only grows
    means no worker is draining."""
    from sla.stale_drain import backlog

    try:
        return backlog()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _mail_failures() -> dict:
    """Inbound mail that could not be processed (Django admin: Mail > Inbound e-mails) and
    outbound mail failing or being retried; news for the operator, not a failed check."""
    from mail.selectors import mail_failures

    try:
        return mail_failures()
    except Exception as exc:
        return {"error": exc.__class__.__name__}
