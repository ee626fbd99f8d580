"""Every HTML page, found by walking the URL configuration (no list of pages here):
nobody signed in is sent to sign in, and a page about a ticket the user may not read is a
404 for GET and POST alike, whatever the role.

Pages under /api/, /admin/ and the few public ones (sign-in, health, static files) are
left out by prefix; a new page anywhere else is walked as soon as it is routed.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from tests.test_authorization_matrix import ALL_ROLES, desk, reads  # noqa: F401 (fixture)
from workspace.models import Macro

PUBLIC = ("api/", "admin/", "healthz", "login/", "logout/", "static/", "favicon", "help/")


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def pages() -> list[str]:
    routes = [r.lstrip("^").rstrip("$") for r in _walk(get_resolver().url_patterns)]
    return sorted({r for r in routes if not r.startswith(PUBLIC)})


PAGES = pages()
TICKET_PAGES = [p for p in PAGES if p.startswith("tickets/<int:pk>")]


def fill(route: str, *, pk: int, macro: int = 0, slug: str = "payments") -> str:
    values = {"pk": pk, "macro_id": macro, "slug": slug}

    def value(match):
        name = match.group(2)
        if name not in values:
            pytest.fail(f"no fixture value for <{name}> in {route}")
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


@pytest.mark.parametrize("route", PAGES)
def test_pages_need_sign_in(client, desk, route):  # noqa: F811
    for method in ("get", "post"):
        response = getattr(client, method)(fill(route, pk=desk["tickets"]["support"].id))
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method} {route}: {response.status_code}"
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("route", TICKET_PAGES)
def test_ticket_pages_follow_the_visibility_table(client, desk, route):  # noqa: F811
    macro = Macro.objects.create(name="Hi", body="Hello", active=True)
    for role in ALL_ROLES:
        user = desk["users"][role]
        client.force_login(user)
        for facts in desk["tickets"].values():
            url = fill(route, pk=facts.id, macro=macro.pk)
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if response.status_code == 405:
                    continue
                where = f"{method.upper()} {url} as {role}"
                if reads(role, user, facts):
                    assert response.status_code != 404, where
                else:
                    assert response.status_code == 404, f"{where}: {response.status_code}"


def test_walk_finds_the_ticket_pages():
    """The walk itself must see the workspace, or the tests above would pass vacuously."""
    assert "tickets/<int:pk>/" in TICKET_PAGES
    assert any(p.startswith("tickets/<int:pk>/reply") for p in TICKET_PAGES)
    assert "" in PAGES
    assert "dashboard/" in PAGES
    assert ESCALATION_PAGES


def test_leads_reach_every_ticket_page(client, desk):  # noqa: F811
    client.force_login(desk["users"][Role.LEAD])
    for facts in desk["tickets"].values():
        assert client.get(f"/tickets/{facts.id}/").status_code == 200


ESCALATION_PAGES = [p for p in PAGES if p.startswith("escalations/<int:pk>")]


@pytest.mark.parametrize("route", ESCALATION_PAGES)
def test_escalation_pages_follow_the_visibility_table(client, desk, route):  # noqa: F811
    from sla.models import Escalation

    by_id = {f.id: f for f in desk["tickets"].values()}
    for role in (Role.ENGINEER, Role.LEAD, Role.ADMIN):
        user = desk["users"][role]
        client.force_login(user)
        for escalation in Escalation.objects.all():
            response = client.post(fill(route, pk=escalation.pk))
            where = f"POST {route} for #{escalation.ticket_id} as {role}"
            if reads(role, user, by_id[escalation.ticket_id]):
                assert response.status_code == 302, where
            else:
                assert response.status_code == 404, where
