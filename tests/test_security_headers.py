"""Security headers, production switches and the API docs' sign-in rule."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import Role
from tests.factories import UserFactory, make_token

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_pages_carry_a_strict_csp_and_permissions_policy(client):
    response = client.get("/login/")
    assert response.status_code == 200
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    for name in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[name]
        assert "'unsafe-eval'" not in csp[name]
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_style_or_handler_in_pages(client):
    from tests.factories import QueueFactory, TicketFactory

    ticket = TicketFactory(queue=QueueFactory(slug="payments"), status="open")
    lead = UserFactory(role=Role.LEAD)
    client.force_login(lead)
    for path in ("/", "/queues/payments/", f"/tickets/{ticket.pk}/", "/dashboard/"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")", html)
        assert not re.search(r"<style(?![^>]*nonce=)", html)
        assert not re.search(r"\sstyle=\"|\son[a-z]+=\"", html), path
        # htmx evaluates trigger filters ("every 10s [cond]") and hx-on with eval: refused.
        assert not re.search(r"hx-trigger=\"[^\"]*\[|hx-on|hx-vars|js:", html), path


def settings_under(env: dict) -> dict:
    """The settings a process started with `env` would have (they are read at import)."""
    names = [
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
        "API_DOCS_REQUIRE_SIGN_IN",
    ]
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DESK_", "SECURE_"))}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "support_desk.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_turns_on_secure_cookies_hsts_and_docs_sign_in():
    production = settings_under(
        {"DESK_ENV": "production", "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    )
    assert production == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "API_DOCS_REQUIRE_SIGN_IN": True,
    }
    development = settings_under({})  # `make run` on http://127.0.0.1
    assert development == {
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
        "API_DOCS_REQUIRE_SIGN_IN": False,
    }
    assert (
        settings_under({"DESK_ENV": "production", "SECURE_COOKIES": "0"})["SESSION_COOKIE_SECURE"]
        is False
    )


def test_production_https_responses_send_hsts_and_secure_cookies(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    UserFactory(username="agent", role=Role.AGENT, password="right")
    page = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert client.cookies["csrftoken"]["secure"] is True
    signed_in = client.post(
        "/login/", {"username": "agent", "password": "right"}, HTTP_X_FORWARDED_PROTO="https"
    )
    assert signed_in.status_code == 302
    assert client.cookies["sessionid"]["secure"] is True
    assert "Strict-Transport-Security" not in client.get("/login/")  # plain HTTP: none


def test_api_schema_and_docs_need_sign_in_when_required(client, api_client, settings):
    settings.API_DOCS_REQUIRE_SIGN_IN = True
    schema = api_client.get("/api/v1/schema/")
    assert schema.status_code == 401
    assert schema.json()["error"]["type"] == "authentication_error"
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == "/login/?next=/api/v1/docs/"

    token = make_token(UserFactory(role=Role.AGENT), ("tickets:read",))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/schema/").status_code == 200
    client.force_login(UserFactory(role=Role.AGENT))
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in page.text
    assert f'<script nonce="{nonce}">' in page.text


def test_api_schema_is_open_in_development(api_client, settings):
    settings.API_DOCS_REQUIRE_SIGN_IN = False
    assert api_client.get("/api/v1/schema/").status_code == 200
