import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiToken, hash_token
from tests.factories import UserFactory


@pytest.mark.django_db
def test_prints_the_token_alone_on_the_last_line_and_stores_its_hash(capsys, api_client):
    UserFactory(username="integration")
    call_command("create_api_token", "--user", "integration", "--scopes", "tickets:read")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    assert raw.startswith("sd_")
    assert " " not in raw
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token(raw)
    assert raw not in token.key_hash
    assert token.scopes == ["tickets:read"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/tickets").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("user", "scopes", "message"),
    [("ghost", "tickets:read", "No active user"), ("integration", "tickets:delete", "unknown")],
)
def test_bad_input_exits_with_a_message(user, scopes, message):
    UserFactory(username="integration")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", "--user", user, "--scopes", scopes)
    assert not ApiToken.objects.exists()
