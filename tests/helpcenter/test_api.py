"""/api/v1/articles: what each caller sees and may change."""

import pytest

from accounts.models import Role
from helpcenter.models import Article, ArticleStatus, Visibility
from tests.factories import UserFactory, make_token

from .factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb():
    ArticleFactory(slug="public", title="Refund timing", tags=["refunds"])
    ArticleFactory(slug="draft", title="Refund draft", status=ArticleStatus.DRAFT)
    ArticleFactory(slug="internal", title="Refund internals", visibility=Visibility.INTERNAL)


def as_role(api_client, role, scopes=("tickets:read", "tickets:write")):
    user = UserFactory(role=role)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scopes)}")
    return api_client


def slugs(response):
    assert response.status_code == 200, response.content
    return sorted(a["slug"] for a in response.json()["results"])


def test_anonymous_callers_read_public_articles_only(api_client, kb):
    assert slugs(api_client.get("/api/v1/articles")) == ["public"]
    assert slugs(api_client.get("/api/v1/articles?q=refund")) == ["public"]
    assert slugs(api_client.get("/api/v1/articles?q=refnd")) == ["public"]
    assert slugs(api_client.get("/api/v1/articles?status=draft")) == []
    assert api_client.get("/api/v1/articles/public").status_code == 200
    for slug in ("draft", "internal"):
        response = api_client.get(f"/api/v1/articles/{slug}")
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "not_found"
    assert api_client.post("/api/v1/articles", {"title": "x", "body": "y"}).status_code == 401
    assert api_client.delete("/api/v1/articles/public").status_code == 401
    assert Article.objects.count() == 3


def test_article_shape(api_client, kb):
    body = api_client.get("/api/v1/articles/public").json()
    assert set(body) == {
        "slug", "title", "body", "category", "tags", "status", "visibility", "updated_at"
    }  # fmt: skip
    assert body["tags"] == ["refunds"]
    assert body["category"].startswith("category-")


@pytest.mark.parametrize("role", [Role.AGENT, Role.ENGINEER, Role.LEAD])
def test_the_desk_reads_every_article(api_client, kb, role):
    client = as_role(api_client, role)
    assert slugs(client.get("/api/v1/articles")) == ["draft", "internal", "public"]
    assert client.get("/api/v1/articles/internal").status_code == 200


def test_agents_write_engineers_do_not(api_client, kb):
    CategoryFactory(slug="refunds")
    agent = as_role(api_client, Role.AGENT)
    created = agent.post(
        "/api/v1/articles",
        {
            "title": "Refunds and fees",
            "body": "Fees stay.",
            "category": "refunds",
            "tags": ["Fees"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["slug"] == "refunds-and-fees"
    assert created.json()["status"] == "draft"
    assert created.json()["tags"] == ["fees"]
    patched = agent.patch(
        "/api/v1/articles/refunds-and-fees", {"status": "published"}, format="json"
    )
    assert patched.json()["status"] == "published"
    assert slugs(api_client.get("/api/v1/articles?q=fees")) == ["refunds-and-fees"]
    api_client.credentials()
    assert slugs(api_client.get("/api/v1/articles?q=fees")) == ["refunds-and-fees"]

    engineer = as_role(api_client, Role.ENGINEER)
    refused = engineer.patch("/api/v1/articles/public", {"title": "x"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission_error"
    assert engineer.delete("/api/v1/articles/refunds-and-fees").status_code == 403
    agent = as_role(api_client, Role.AGENT)
    assert agent.delete("/api/v1/articles/refunds-and-fees").status_code == 204


def test_bad_writes_are_400_or_409(api_client, kb):
    agent = as_role(api_client, Role.AGENT)
    cases = [
        ({"title": "x"}, 400, "body"),
        ({"title": "x", "body": "y", "status": "live"}, 400, "status"),
        ({"title": "x", "body": "y", "category": "nope"}, 400, "category"),
        ({"title": "x", "body": "y", "colour": "red"}, 400, "colour"),
        ({"title": "x", "body": "y", "slug": "public"}, 409, "slug"),
        ({"title": "x", "body": "y", "tags": ["x" * 51]}, 400, None),
    ]
    for body, status, param in cases:
        response = agent.post("/api/v1/articles", body, format="json")
        assert response.status_code == status, (body, response.content)
        if param:
            assert param in str(response.json()["error"]), body
    assert agent.get("/api/v1/articles?visibility=secret").status_code == 400


def test_a_write_only_token_reads_nothing(api_client, kb):
    client = as_role(api_client, Role.AGENT, scopes=("tickets:write",))
    assert client.get("/api/v1/articles").status_code == 403
