"""Page-only middleware (settings.PAGE_MIDDLEWARE) runs for pages and never for the API."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from accounts.models import Role
from tests.factories import UserFactory, make_token
from tickets.models import Queue

pytestmark = pytest.mark.django_db

seen: list[str] = []


class Recorder:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seen.append(request.path)
        return self.get_response(request)


class WithViewHook(Recorder):
    def process_view(self, request, view, args, kwargs):
        return None


def test_page_middleware_runs_for_pages_and_not_for_the_api(settings):
    settings.PAGE_MIDDLEWARE = [*settings.PAGE_MIDDLEWARE, f"{__name__}.Recorder"]
    seen.clear()
    client = Client()
    token = make_token(UserFactory(role=Role.AGENT))

    api = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    page = client.get("/login/")

    assert (api.status_code, page.status_code) == (200, 200)
    assert seen == ["/login/"]
    # The headers every response carries come from MIDDLEWARE, API included.
    assert api["X-Frame-Options"] == "DENY"
    assert api["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in api


def test_a_flashed_message_still_reaches_the_next_page():
    admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/admin/tickets/queue/add/",
        {"slug": "payouts", "name": "Payouts", "kind": "support"},
        follow=True,
    )

    assert response.status_code == 200
    assert Queue.objects.filter(slug="payouts").exists()
    assert "was added successfully" in response.content.decode()


def test_a_middleware_with_a_view_hook_is_refused_as_page_middleware(settings):
    settings.PAGE_MIDDLEWARE = [f"{__name__}.WithViewHook"]
    with pytest.raises(ImproperlyConfigured, match="process_view"):
        Client().get("/login/")
