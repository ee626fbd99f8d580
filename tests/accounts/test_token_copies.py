"""Each request authenticated by a cached token gets its own user and token objects."""

import pytest
from rest_framework.test import APIRequestFactory

from accounts.authentication import BearerTokenAuthentication, tokens_forget
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db


def authenticate(raw: str):
    request = APIRequestFactory().get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {raw}")
    return BearerTokenAuthentication().authenticate(request)


def test_what_one_request_sets_on_its_user_or_token_never_reaches_the_next():
    tokens_forget()
    raw = make_token(UserFactory(first_name="Ada"), scopes=["tickets:read"])
    user, token = authenticate(raw)
    assert token.user is user
    user.first_name = "Mallory"
    token.scopes = ["tickets:read", "tickets:write", "import"]

    again_user, again_token = authenticate(raw)  # from this process's cache

    assert again_user is not user
    assert again_token is not token
    assert again_user.first_name == "Ada"
    assert again_token.scopes == ["tickets:read"]
    assert again_token.user is again_user
    assert again_user.pk == user.pk
    assert again_user.is_authenticated
