"""Attachments: the service's checks, multipart message create, and downloads (who may,
with which headers)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from tests.factories import QueueFactory, UserFactory, make_token
from tickets import services
from tickets.attachments import (
    OCTET_STREAM,
    attachment_add,
    attachment_content_type,
    attachment_filename,
)
from tickets.models import Attachment, Message, QueueKind, Ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CARD = "4111111111111111"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.ATTACHMENT_MAX_BYTES = 2048


@pytest.fixture
def desk(db):
    support = QueueFactory(slug="support", is_default=True)
    engineering = QueueFactory(slug="eng", kind=QueueKind.ENGINEERING)
    ticket = services.ticket_create(
        actor=None, subject="Payout", description="d", requester_email="a@shop.test"
    )
    eng = services.ticket_create(
        actor=None, subject="Bug", description="d", requester_email="b@shop.test"
    )
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=engineering)
    return {"ticket": ticket, "eng": eng, "support": support}


def client_for(api_client, role=Role.AGENT, scopes=("tickets:read", "tickets:write")):
    user = UserFactory(username=f"{role}-att", role=role)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user, scopes)}")
    return api_client


# --- the service ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\jo\\invoice.pdf", "invoice.pdf"),
        ("a\x00b\u202ec.txt", "abc.txt"),
        ("", "attachment"),
        ("...", "attachment"),
        (f"card {CARD}.png", "card 411111******1111.png"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_filenames_are_sanitised_and_masked(given, stored):
    assert attachment_filename(given) == stored


@pytest.mark.parametrize(
    ("declared", "name", "head", "stored"),
    [
        ("image/png", "a.png", PNG, "image/png"),
        ("image/png", "a.png", b"<html><script>", OCTET_STREAM),
        ("image/gif; charset=x", "a.gif", b"GIF89a...", "image/gif"),
        ("text/html", "a.html", b"<html>", "text/html"),
        ("image/svg+xml", "a.svg", b"<svg>", "image/svg+xml"),
        ("", "report.pdf", b"%PDF", "application/pdf"),
        ("not a type", "x", b"", OCTET_STREAM),
        (None, "a.jpg", b"nope", OCTET_STREAM),
    ],
)
def test_content_types(declared, name, head, stored):
    assert attachment_content_type(declared, name, head) == stored


def test_service_stores_the_file_under_a_random_name(desk):
    ticket = desk["ticket"]
    message = services.ticket_add_message(ticket_id=ticket.pk, actor=None, body="see file")
    att = attachment_add(
        ticket=ticket, message=message, filename="../x.png", content_type="image/png", data=PNG
    )
    att.refresh_from_db()
    assert (att.filename, att.content_type, att.size) == ("x.png", "image/png", len(PNG))
    assert att.file.name.startswith(f"attachments/{ticket.pk}/")
    assert "x.png" not in att.file.name
    assert att.file.read() == PNG


def test_service_refuses_a_file_over_the_limit(desk):
    from tickets.attachments import AttachmentTooLarge

    with pytest.raises(AttachmentTooLarge) as error:
        attachment_add(ticket=desk["ticket"], message=None, filename="big", data=b"x" * 2049)
    assert error.value.code == "attachment_too_large"
    assert not Attachment.objects.exists()


# --- multipart message create -----------------------------------------------------------


def test_multipart_message_with_files(desk, api_client):
    client = client_for(api_client)
    ticket = desk["ticket"]
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/messages",
        {
            "body": f"Here you go {CARD}",
            "public": "false",
            "attachments": [
                SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
                SimpleUploadedFile("../log.txt", b"line", content_type="text/plain"),
            ],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["public"] is False
    assert body["body"] == "Here you go 411111******1111"
    assert [(a["filename"], a["content_type"], a["size"]) for a in body["attachments"]] == [
        ("shot.png", "image/png", len(PNG)),
        ("log.txt", "text/plain", 4),
    ]
    first = body["attachments"][0]
    assert first["url"] == f"/api/v1/attachments/{first['id']}"
    assert Attachment.objects.filter(message_id=body["id"], ticket=ticket).count() == 2


def test_json_message_create_still_works(desk, api_client):
    client = client_for(api_client)
    url = f"/api/v1/tickets/{desk['ticket'].pk}/messages"
    response = client.post(url, {"body": "plain", "public": True}, format="json")
    assert response.status_code == 201
    assert response.json()["attachments"] == []
    bad = client.post(url, {"body": "plain", "public": "true"}, format="json")
    assert bad.status_code == 400  # JSON stays strict about types


def test_multipart_file_too_large_creates_nothing(desk, api_client):
    client = client_for(api_client)
    response = client.post(
        f"/api/v1/tickets/{desk['ticket'].pk}/messages",
        {"body": "big", "attachments": [SimpleUploadedFile("big.bin", b"x" * 4096)]},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("attachment_too_large", "attachments")
    assert "big.bin" in error["message"]
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()


def test_multipart_bad_fields_are_400(desk, api_client):
    client = client_for(api_client)
    url = f"/api/v1/tickets/{desk['ticket'].pk}/messages"
    no_body = client.post(url, {"public": "true"}, format="multipart")
    assert no_body.status_code == 400
    assert no_body.json()["error"]["param"] == "body"
    wrong_public = client.post(url, {"body": "x", "public": "maybe"}, format="multipart")
    assert wrong_public.status_code == 400
    assert wrong_public.json()["error"]["param"] == "public"
    other_file = client.post(
        url, {"body": "x", "file": SimpleUploadedFile("a.txt", b"a")}, format="multipart"
    )
    assert other_file.status_code == 400
    assert other_file.json()["error"]["param"] == "file"


def test_multipart_empty_optional_fields_count_as_not_sent(desk, api_client):
    client = client_for(api_client)
    response = client.post(
        f"/api/v1/tickets/{desk['ticket'].pk}/messages",
        {"body": "x", "public": "", "author_type": "", "created_at": ""},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["public"], response.json()["author_type"]) == (True, "agent")
    yes = client.post(
        f"/api/v1/tickets/{desk['ticket'].pk}/messages",
        {"body": "x", "public": "on"},
        format="multipart",
    )
    assert yes.status_code == 400  # only true or false


def test_multipart_message_on_invisible_ticket_is_404(desk, api_client):
    client = client_for(api_client, role=Role.ENGINEER)
    response = client.post(
        f"/api/v1/tickets/{desk['ticket'].pk}/messages",
        {"body": "x", "attachments": [SimpleUploadedFile("a.txt", b"a")]},
        format="multipart",
    )
    assert response.status_code == 404
    assert not Attachment.objects.exists()


def test_schema_documents_multipart_message_create(db, api_client):
    client = client_for(api_client)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    op = schema["paths"]["/api/v1/tickets/{id}/messages"]["post"]
    content = op["requestBody"]["content"]
    assert set(content) >= {"application/json", "multipart/form-data"}
    assert "/api/v1/attachments/{id}" in schema["paths"]


# --- downloads --------------------------------------------------------------------------


def _attach(ticket: Ticket, name: str, content_type: str, data: bytes) -> Attachment:
    message = services.ticket_add_message(ticket_id=ticket.pk, actor=None, body="file")
    return attachment_add(
        ticket=ticket, message=message, filename=name, content_type=content_type, data=data
    )


def test_download_a_document(desk, api_client):
    att = _attach(desk["ticket"], "report é.pdf", "application/pdf", b"%PDF-1.4")
    response = client_for(api_client).get(f"/api/v1/attachments/{att.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "report" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_png_is_inline_but_svg_and_html_are_downloads(desk, api_client):
    client = client_for(api_client)
    png = _attach(desk["ticket"], "a.png", "image/png", PNG)
    svg = _attach(desk["ticket"], "a.svg", "image/svg+xml", b"<svg onload=alert(1)>")
    html = _attach(desk["ticket"], "a.html", "text/html", b"<script>alert(1)</script>")
    fake = _attach(desk["ticket"], "b.png", "image/png", b"<script>alert(1)</script>")
    shown = client.get(f"/api/v1/attachments/{png.pk}", HTTP_ACCEPT="image/*")
    assert shown.status_code == 200
    assert shown["Content-Disposition"].startswith("inline;")
    for att, content_type in ((svg, "image/svg+xml"), (html, "text/html"), (fake, OCTET_STREAM)):
        response = client.get(f"/api/v1/attachments/{att.pk}")
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_agent_cannot_download_from_an_engineering_ticket(desk, api_client):
    att = _attach(desk["eng"], "secret.txt", "text/plain", b"s")
    response = client_for(api_client).get(f"/api/v1/attachments/{att.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
    assert client_for(api_client, Role.LEAD).get(f"/api/v1/attachments/{att.pk}").status_code == (
        200
    )


def test_download_needs_read_scope_and_sign_in(desk, api_client):
    att = _attach(desk["ticket"], "a.txt", "text/plain", b"a")
    assert api_client.get(f"/api/v1/attachments/{att.pk}").status_code == 401
    write_only = client_for(api_client, scopes=("tickets:write",))
    assert write_only.get(f"/api/v1/attachments/{att.pk}").status_code == 403
    assert client_for(api_client).get("/api/v1/attachments/999999").status_code == 404


def test_download_with_a_browser_session(desk, client):
    att = _attach(desk["ticket"], "a.txt", "text/plain", b"hello")
    client.force_login(UserFactory(username="browser", role=Role.AGENT))
    response = client.get(f"/api/v1/attachments/{att.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"


# --- the workspace ----------------------------------------------------------------------


def test_workspace_reply_with_files_lists_them_with_download_links(desk, client):
    ticket = desk["ticket"]
    client.force_login(UserFactory(username="ws-agent", role=Role.AGENT))
    page = client.get(f"/tickets/{ticket.pk}/")
    assert b'enctype="multipart/form-data"' in page.content
    assert b'name="attachments"' in page.content
    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "body": "See attached",
            "public": "true",
            "then_status": "",
            "version": ticket.version + 0,
            "attachments": [
                SimpleUploadedFile("a.png", PNG, content_type="image/png"),
                SimpleUploadedFile("<i>x<i>.txt", b"x", content_type="text/plain"),
            ],
        },
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    message = Message.objects.get(ticket=ticket, body="See attached")
    files = list(message.attachments.order_by("id"))
    assert [a.filename for a in files] == ["a.png", "<i>x<i>.txt"]
    page = client.get(f"/tickets/{ticket.pk}/").content
    assert f'href="/api/v1/attachments/{files[0].pk}"'.encode() in page
    assert b"&lt;i&gt;x&lt;i&gt;.txt" in page  # escaped
    assert client.get(f"/api/v1/attachments/{files[1].pk}").status_code == 200


def test_workspace_reply_with_a_file_too_large_keeps_the_draft(desk, client):
    ticket = desk["ticket"]
    client.force_login(UserFactory(username="ws-agent", role=Role.AGENT))
    response = client.post(
        f"/tickets/{ticket.pk}/reply/",
        {
            "body": "Draft text",
            "public": "true",
            "then_status": "",
            "version": ticket.version,
            "attachments": [SimpleUploadedFile("big.bin", b"x" * 4096)],
        },
    )
    assert response.status_code == 200
    assert b"the limit is 2048 bytes" in response.content
    assert b"Draft text" in response.content
    assert not Message.objects.filter(body="Draft text").exists()
    assert not Attachment.objects.exists()
