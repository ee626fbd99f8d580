"""Read-only SQL over documented views for leads (DESIGN §10)."""

import logging

from django.apps import AppConfig
from django.db.models.signals import post_migrate

logger = logging.getLogger(__name__)


def _setup_after_migrate(sender, using="default", plan=None, **kwargs) -> None:
    """Views follow the tables: rebuilt after every migrate (a flush, which sends this too
    without a plan, changes no table). Where the database user may not create roles this
    only warns: `manage.py analytics_setup` explains, and migrate must not fail for it."""
    if plan is None:
        return
    from django.db import DatabaseError

    from .setup import SetupRefused, analytics_setup

    try:
        analytics_setup(using=using)
    except (SetupRefused, DatabaseError) as exc:
        logger.warning("analytics_setup skipped: %s", exc)


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_setup_after_migrate, sender=self, dispatch_uid="analytics-setup")
