"""RolledUpDay.until: how far into its day a roll-up reaches (today is rolled up by the
hour). Every existing marker is a closed day, rolled up to the next midnight."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_reporting_indexes")]

    operations = [
        migrations.AddField(
            model_name="rolledupday",
            name="until",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunSQL(
            "UPDATE dashboard_rolledupday"
            " SET until = ((day + 1)::timestamp AT TIME ZONE 'UTC')",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="rolledupday",
            name="until",
            field=models.DateTimeField(),
        ),
    ]
