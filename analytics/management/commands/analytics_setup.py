"""`manage.py analytics_setup`: create or update the analytics role and views (DESIGN §10)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from analytics.catalog import markdown
from analytics.setup import SetupRefused, analytics_setup


class Command(BaseCommand):
    help = (
        "Create or update the read-only analytics role (ANALYTICS_ROLE, or the user of "
        "ANALYTICS_DATABASE_URL) and the views of schema `analytics`. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default", help="Database alias.")
        parser.add_argument(
            "--print-docs",
            action="store_true",
            help="Print the views' documentation as Markdown and exit (for docs/analytics.md).",
        )

    def handle(self, *args, database: str, print_docs: bool, **options):
        if print_docs:
            self.stdout.write(markdown())
            return
        try:
            report = analytics_setup(using=database)
        except SetupRefused as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            raise CommandError(
                f"analytics_setup failed: {exc}. The database user needs CREATEROLE (or a DBA's "
                "role in ANALYTICS_DATABASE_URL) and may create schemas."
            ) from None
        state = "created" if report.role_created else "updated" if report.role_managed else "kept"
        self.stdout.write(f"Role {report.role}: {state}.")
        self.stdout.write(f"Views in schema analytics: {', '.join(report.views)}.")
        if report.skipped:
            self.stdout.write(f"Not created (table not there yet): {', '.join(report.skipped)}.")
        self.stdout.write(self.style.SUCCESS("Analytics ready."))
