"""Saved queries for the demo desk (seed_demo calls seed_saved_queries)."""

from .models import SavedQuery

SAVED_QUERIES = [
    {
        "name": "Breaches by queue and weekday (90 days)",
        "description": "SLA breaches per queue and weekday of the breach, over a period.",
        "sql": """SELECT q.name AS queue,
       to_char(t.breached_at, 'ID Dy') AS weekday,
       count(*) AS breaches
FROM sla_timers t
JOIN tickets k ON k.id = t.ticket_id
JOIN queues q ON q.id = k.queue_id
WHERE t.breached_at >= now() - make_interval(days => :days)
GROUP BY q.name, weekday
ORDER BY q.name, weekday""",
        "parameters": [{"name": "days", "type": "int", "default": 90}],
    },
    {
        "name": "Tickets per organization",
        "description": "Tickets opened per organization since a date, with its tier.",
        "sql": """SELECT o.name AS organization, o.tier, count(t.id) AS tickets
FROM organizations o
JOIN tickets t ON t.organization_id = o.id
WHERE t.created_at >= :since
GROUP BY o.name, o.tier
ORDER BY tickets DESC
LIMIT 50""",
        "parameters": [{"name": "since", "type": "date", "default": "2026-01-01"}],
    },
    {
        "name": "Engineering acknowledgement time",
        "description": "Median and p90 minutes from escalation to acknowledgement, per "
        "Engineering queue and week.",
        "sql": """SELECT q.name AS queue,
       date_trunc('week', e.created_at)::date AS week,
       count(*) AS escalations,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY
           extract(epoch FROM e.acknowledged_at - e.created_at) / 60))::numeric, 1)
           AS p50_minutes,
       round((percentile_cont(0.9) WITHIN GROUP (ORDER BY
           extract(epoch FROM e.acknowledged_at - e.created_at) / 60))::numeric, 1)
           AS p90_minutes
FROM escalations e
JOIN queues q ON q.id = e.to_queue_id
WHERE q.kind = 'engineering' AND e.acknowledged_at IS NOT NULL
GROUP BY q.name, week
ORDER BY week, q.name""",
        "parameters": [],
    },
    {
        "name": "Contacts by reason",
        "description": "Tickets opened per contact reason and day, robots and merged "
        "duplicates excluded.",
        "sql": """SELECT t.created_at::date AS day,
       coalesce(r.name, 'No reason') AS reason,
       count(*) AS contacts
FROM tickets t
LEFT JOIN contact_reasons r ON r.id = t.contact_reason_id
WHERE t.created_at >= :since AND NOT t.opened_by_robot AND t.merged_into_id IS NULL
GROUP BY day, reason
ORDER BY day, reason""",
        "parameters": [{"name": "since", "type": "date", "default": "2026-01-01"}],
    },
]


def seed_saved_queries() -> None:
    for spec in SAVED_QUERIES:
        SavedQuery.objects.update_or_create(name=spec["name"], defaults=spec)
