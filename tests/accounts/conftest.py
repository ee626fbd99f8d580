import pytest


@pytest.fixture(autouse=True)
def _cache_outage_forgotten():
    """A test that breaks the cache must not leave the rate limit off for the next one."""
    from accounts import fail_open

    fail_open.reset()
    yield
    fail_open.reset()
