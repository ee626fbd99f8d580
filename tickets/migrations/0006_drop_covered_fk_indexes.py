"""The ticket's assignee and the event's ticket lose their own indexes: a composite index
leads with each (ticket_assignee_urgency, event_ticket_time), so lookups and the foreign
keys' checks use that, and every ticket and event written updates one index less.

Only the indexes are dropped. Django's AlterField would also drop and re-add the foreign
keys, which re-checks every row of both tables under an exclusive lock."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_idempotency_user_index_once"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_tickets",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tickets.ticket",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "tickets_ticket_assignee_id_3a5aa407"',
                    'CREATE INDEX IF NOT EXISTS "tickets_ticket_assignee_id_3a5aa407"'
                    ' ON "tickets_ticket" ("assignee_id")',
                ),
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "tickets_ticketevent_ticket_id_b572d14b"',
                    'CREATE INDEX IF NOT EXISTS "tickets_ticketevent_ticket_id_b572d14b"'
                    ' ON "tickets_ticketevent" ("ticket_id")',
                ),
            ],
        ),
    ]
