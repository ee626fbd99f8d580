"""Indexes on tickets/sla tables that only the dashboard reads by. They live here (the
dashboard owns these queries) and use IF NOT EXISTS so the owning apps may adopt them later.

- dash_ticket_open: backlog by queue x age and open tickets per assignee, index-only.
- dash_ticket_created / dash_ticket_solved: created vs solved per day, index-only.
- dash_message_agent_reply: public agent replies per agent in a period.
- dash_escalation_created: escalations raised in a period.
SLA timers already have timer_fulfilled / timer_breached / timer_cancelled and
timer_active_warning (at risk now).
"""

from django.db import migrations

INDEXES = {
    "dash_ticket_open": (
        "tickets_ticket (queue_id, created_at) "
        "INCLUDE (assignee_id, priority, channel, organization_id) "
        "WHERE status IN ('new', 'open', 'pending', 'on_hold')"
    ),
    "dash_ticket_created": (
        "tickets_ticket (created_at) INCLUDE (queue_id, priority, channel, organization_id)"
    ),
    "dash_ticket_solved": (
        "tickets_ticket (solved_at) INCLUDE (queue_id, priority, channel, organization_id) "
        "WHERE solved_at IS NOT NULL"
    ),
    "dash_message_agent_reply": (
        "tickets_message (created_at) INCLUDE (author_id, ticket_id) "
        "WHERE public AND author_type = 'agent'"
    ),
    "dash_escalation_created": "sla_escalation (created_at)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("tickets", "0001_initial"),
        ("sla", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
            f"DROP INDEX IF EXISTS {name}",
        )
        for name, definition in INDEXES.items()
    ]
