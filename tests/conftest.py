import os

import pytest

# Playwright's sync API keeps an event loop in the test thread; the ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and other cached values must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        (marker and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _rows_migrations_make(request):
    """A transactional test flushes every table when it ends, rows that data migrations
    made included (the contact reasons), so the next one puts them back."""
    if not _transactional(request):
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from tickets.models import ContactReason

    migration = importlib.import_module("tickets.migrations.0004_channels_and_attachments")
    for position, (slug, name) in enumerate(migration.REASONS):
        ContactReason.objects.get_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def celery_app():
    from support_desk.celery import app

    return app


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)
