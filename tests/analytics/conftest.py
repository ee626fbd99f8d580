import pytest

from accounts.models import Role
from tests.factories import UserFactory


@pytest.fixture
def lead(db):
    return UserFactory(username="an-lead", role=Role.LEAD)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="an-admin", role=Role.ADMIN)


@pytest.fixture
def agent(db):
    return UserFactory(username="an-agent", role=Role.AGENT)
