"""An index on tickets for the contact counts of dashboard.support_metrics (and the help
center's tickets-created figure): tickets that count as contacts, by creation time, with
every column the support figures group or filter by, so a period is an index-only scan.
IF NOT EXISTS, so that the tickets app may adopt it later."""

from django.db import migrations

SQL = (
    "CREATE INDEX IF NOT EXISTS csat_ticket_contacts ON tickets_ticket (created_at) "
    "INCLUDE (contact_reason_id, organization_id, queue_id, assignee_id, priority, channel) "
    "WHERE NOT opened_by_robot AND merged_into_id IS NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("csat", "0001_initial"),
        ("tickets", "0004_channels_and_attachments"),
    ]

    operations = [
        migrations.RunSQL(SQL, "DROP INDEX IF EXISTS csat_ticket_contacts"),
    ]
