"""Merging a duplicate into another ticket: what moves, the events, the refusals, the API,
and the SLA of both tickets after a real recompute."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from phone.models import Call
from sla.models import SlaTimer
from sla.services import ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import CalendarFactory, SlaPolicyFactory
from tickets import services
from tickets.attachments import attachment_add
from tickets.merging import ticket_merge
from tickets.models import (
    Attachment,
    AuthorType,
    EventType,
    Message,
    QueueKind,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.visibility import Forbidden

T0 = timezone.now().replace(microsecond=0) - timedelta(hours=3)
# Two colleagues at one merchant: their tickets may merge (another customer's may not).
X_LTD = {"name": "X Ltd", "external_id": "x-ltd"}


@pytest.fixture
def desk(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    services.queue_default_forget()
    support = QueueFactory(slug="support", is_default=True)
    eng = QueueFactory(slug="eng", kind=QueueKind.ENGINEERING)
    agent = UserFactory(username="ann", role=Role.AGENT)
    with time_machine.travel(T0, tick=False):
        target = services.ticket_create(
            actor=None,
            subject="Payout late",
            description="Where is it?",
            requester_email="a@x.test",
            organization=X_LTD,
        )
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        services.ticket_add_message(ticket_id=target.pk, actor=agent, body="Looking")
    with time_machine.travel(T0 + timedelta(minutes=20), tick=False):
        source = services.ticket_create(
            actor=None,
            subject="Payout late (again)",
            description="Still no payout",
            requester_email="b@x.test",
            cc=["boss@x.test"],
            organization=X_LTD,
        )
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        customer = services.ticket_add_message(
            ticket_id=source.pk, actor=None, body="Hello?", author_type=AuthorType.REQUESTER
        )
    attachment_add(ticket=source, message=customer, filename="a.txt", data=b"a")
    return {
        "support": support,
        "eng": eng,
        "agent": agent,
        "source": source,
        "target": target,
        "customer": customer,
    }


def test_messages_attachments_and_ccs_move(desk):
    source, target = desk["source"], desk["target"]
    merged = ticket_merge(source_id=source.pk, target_id=target.pk, actor=desk["agent"])
    assert merged.pk == target.pk
    bodies = list(Message.objects.filter(ticket=target).values_list("body", flat=True))
    assert bodies == ["Looking", "Still no payout", "Hello?"]  # created_at order
    assert not Message.objects.filter(ticket=source).exists()
    assert Attachment.objects.get().ticket_id == target.pk
    target.refresh_from_db()
    assert target.cc == ["boss@x.test", "b@x.test"]
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == (Status.CLOSED, target.pk)
    merged_event = TicketEvent.objects.get(ticket=source, type=EventType.MERGED)
    assert merged_event.data == {"into": target.pk}
    assert merged_event.actor == desk["agent"]
    received = TicketEvent.objects.get(ticket=target, type=EventType.MERGE_RECEIVED)
    assert received.data == {"from": source.pk, "messages": 1}
    assert TicketEvent.objects.filter(ticket=target, type=EventType.CC_CHANGED).exists()
    assert source.sla_stale
    assert target.sla_stale


def test_both_tickets_are_announced_after_commit(desk, django_capture_on_commit_callbacks):
    heard = []
    from tickets import subscribers

    subscribers.subscribe(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ticket_merge(
                source_id=desk["source"].pk, target_id=desk["target"].pk, actor=desk["agent"]
            )
    finally:
        subscribers._listeners.remove(heard.append)
    assert set(heard) == {desk["source"].pk, desk["target"].pk}


def test_the_sla_recompute_cancels_the_source_and_reopens_a_reply_timer_on_the_target(desk):
    calendar = CalendarFactory(always_open=True, hours=[], holiday_country=None)
    SlaPolicyFactory(
        calendar=calendar,
        targets=[
            ("normal", "first_reply", 60, False),
            ("normal", "next_reply", 6000, False),
            ("normal", "resolution", 6000, False),
        ],
    )
    source, target = desk["source"], desk["target"]
    for ticket in (source, target):
        ticket_sla_recompute(ticket_id=ticket.pk)
    assert SlaTimer.objects.filter(ticket=source, status="active").exists()
    before = set(SlaTimer.objects.filter(ticket=target).values_list("metric", "cycle", "status"))
    assert ("next_reply", 1, "active") not in before

    ticket_merge(source_id=source.pk, target_id=target.pk, actor=desk["agent"])
    for ticket in (source, target):
        ticket_sla_recompute(ticket_id=ticket.pk)

    assert not SlaTimer.objects.filter(ticket=source, status__in=["active", "paused"]).exists()
    reply = SlaTimer.objects.get(ticket=target, metric="next_reply", cycle=1)
    # The duplicate's request (asked at T0+20m) waits for an answer on the target now.
    assert reply.status == "active"
    assert reply.started_at == T0 + timedelta(minutes=20)
    assert SlaTimer.objects.get(ticket=target, metric="first_reply").status == "met"
    assert not Ticket.objects.filter(pk__in=[source.pk, target.pk], sla_stale=True).exists()


def test_refusals(desk):
    source, target, agent = desk["source"], desk["target"], desk["agent"]
    with pytest.raises(Exception, match="itself"):
        ticket_merge(source_id=source.pk, target_id=source.pk, actor=agent)
    services.ticket_update(ticket_id=target.pk, actor=None, status=Status.CLOSED)
    with pytest.raises(Exception, match="closed") as closed:
        ticket_merge(source_id=source.pk, target_id=target.pk, actor=agent)
    assert closed.value.param == "into"
    stranger = services.ticket_create(
        actor=None, subject="Mine", description="d", requester_email="s@elsewhere.test"
    )
    with pytest.raises(Exception, match="different customers") as crossing:
        ticket_merge(source_id=source.pk, target_id=stranger.pk, actor=agent)
    assert crossing.value.param == "into"
    assert Message.objects.filter(ticket=stranger).count() == 0
    other = services.ticket_create(
        actor=None, subject="Other", description="d", requester_email="c@x.test",
        organization=X_LTD,
    )  # fmt: skip
    ticket_merge(source_id=source.pk, target_id=other.pk, actor=agent)
    with pytest.raises(Exception, match="already merged"):
        ticket_merge(source_id=source.pk, target_id=other.pk, actor=agent)


def test_visibility(desk):
    from sla.services import escalation_create_manual
    from support_desk.errors import NotFound

    source, target, agent = desk["source"], desk["target"], desk["agent"]
    eng = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="e@x.test"
    )
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=desk["eng"])
    with pytest.raises(NotFound) as error:
        ticket_merge(source_id=source.pk, target_id=eng.pk, actor=agent)
    assert error.value.param == "into"
    with pytest.raises(NotFound):
        ticket_merge(source_id=eng.pk, target_id=source.pk, actor=agent)
    # Escalated by the agent to Engineering: still readable by them, no longer writable.
    escalation_create_manual(ticket_id=target.pk, actor=agent, to_queue=desk["eng"], impact="x")
    with pytest.raises(Forbidden) as forbidden:
        ticket_merge(source_id=source.pk, target_id=target.pk, actor=agent)
    assert forbidden.value.param == "into"
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_calls_follow_their_messages(desk):
    from phone.services import call_record

    call, _ = call_record(
        actor=desk["agent"],
        call_id="CA-merge",
        direction="inbound",
        from_number="+14155550100",
        to_number="",
        started_at=timezone.now(),
        outcome="missed",
        ticket_id=desk["source"].pk,
    )
    ticket_merge(source_id=desk["source"].pk, target_id=desk["target"].pk, actor=desk["agent"])
    call.refresh_from_db()
    assert call.ticket_id == desk["target"].pk
    assert call.message.ticket_id == desk["target"].pk
    assert Call.objects.filter(ticket=desk["source"]).count() == 0


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def client(desk, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(desk['agent'])}")
    return api_client


def test_api_merge(client, desk):
    source, target = desk["source"], desk["target"]
    response = client.post(f"/api/v1/tickets/{source.pk}/merge", {"into": target.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == target.pk
    assert "b@x.test" in body["cc"]
    again = client.post(f"/api/v1/tickets/{source.pk}/merge", {"into": target.pk}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "merge_refused"


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({}, 400, "into"),
        ({"into": "2"}, 400, "into"),
        ({"into": 0}, 400, "into"),
        ({"into": 999_999}, 404, "into"),
        ({"into": 1, "x": 1}, 400, "x"),
    ],
)
def test_api_merge_errors(client, desk, body, status, param):
    response = client.post(f"/api/v1/tickets/{desk['source'].pk}/merge", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["error"]["param"] == param


def test_api_merge_into_itself_is_400(client, desk):
    source = desk["source"]
    response = client.post(f"/api/v1/tickets/{source.pk}/merge", {"into": source.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "into"


# --- the workspace ------------------------------------------------------------------------


def test_workspace_merge_action(desk, client):
    source, target = desk["source"], desk["target"]
    client.force_login(desk["agent"])
    page = client.get(f"/tickets/{source.pk}/")
    assert b'id="merge-form"' in page.content
    response = client.post(f"/tickets/{source.pk}/merge/", {"into": f"#{target.pk}"})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{target.pk}/"
    source.refresh_from_db()
    assert source.merged_into_id == target.pk
    page = client.get(f"/tickets/{source.pk}/")
    assert f'Merged into <a href="/tickets/{target.pk}/">'.encode() in page.content
    assert b'id="merge-form"' not in page.content


def test_workspace_merge_errors_are_messages(desk, client):
    source, target = desk["source"], desk["target"]
    client.force_login(desk["agent"])
    for into, text in (("abc", b"give the number"), (str(source.pk), b"itself")):
        response = client.post(f"/tickets/{source.pk}/merge/", {"into": into}, follow=True)
        assert text in response.content
    eng = services.ticket_create(
        actor=None, subject="Eng", description="d", requester_email="e@x.test"
    )
    services.ticket_update(ticket_id=eng.pk, actor=None, queue=desk["eng"])
    response = client.post(f"/tickets/{source.pk}/merge/", {"into": eng.pk}, follow=True)
    assert b"No such ticket to merge into." in response.content
    assert client.post(f"/tickets/{eng.pk}/merge/", {"into": target.pk}).status_code == 404
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()
