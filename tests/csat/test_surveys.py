"""Survey scheduling, sending and answering (DESIGN §9 "CSAT")."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from csat import services as csat
from csat.models import Survey, SurveyStatus
from tests.factories import UserFactory
from tickets import services
from tickets.models import EventType, TicketEvent

pytestmark = pytest.mark.django_db


def _send_all(minutes=61):
    return csat.surveys_send_due(now=timezone.now() + timedelta(minutes=minutes))


def _token_from_mail(message) -> str:
    marker = "/help/survey/"
    start = message.body.index(marker) + len(marker)
    return message.body[start:].split("/", 1)[0]


def test_a_solve_schedules_one_pending_survey_credited_to_the_assignee(
    make_ticket, solve, agent, settings
):
    settings.CSAT_DELAY_MINUTES = 60
    ticket = make_ticket()
    solve(ticket, assignee=agent)
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.PENDING
    assert survey.agent == agent
    assert survey.requester_email == "pat@merchant.test"
    assert survey.send_after == survey.solved_at + timedelta(minutes=60)
    assert survey.token_hash is None  # nothing to click before it is sent
    # The ticket as solved, for the metrics' groups.
    assert survey.queue_id_at_solve == ticket.queue_id
    assert (survey.priority_at_solve, survey.channel_at_solve) == ("normal", "api")


def test_the_solver_is_credited_when_nobody_is_assigned(make_ticket, solve):
    solver = UserFactory(username="sol")
    ticket = make_ticket()
    solve(ticket, actor=solver)
    assert Survey.objects.get(ticket=ticket).agent == solver


def test_once_per_solve_and_a_new_one_after_a_reopen_and_second_solve(make_ticket, solve):
    ticket = make_ticket()
    solve(ticket)
    # Solving an already solved ticket changes nothing, so no second survey.
    services.ticket_update(ticket_id=ticket.pk, actor=None, status="solved")
    assert Survey.objects.filter(ticket=ticket).count() == 1
    services.ticket_update(ticket_id=ticket.pk, actor=None, status="open")
    assert Survey.objects.get(ticket=ticket).status == SurveyStatus.VOID
    solve(ticket)
    statuses = Survey.objects.filter(ticket=ticket).order_by("pk").values_list("status", flat=True)
    assert list(statuses) == [SurveyStatus.VOID, SurveyStatus.PENDING]


def test_robots_merged_duplicates_and_suppressed_addresses_get_none(
    make_ticket, solve, monkeypatch
):
    robot = make_ticket(email="noreply@robot.test", opened_by_robot=True)
    solve(robot)
    original, duplicate = make_ticket(), make_ticket()
    type(duplicate).objects.filter(pk=duplicate.pk).update(merged_into=original)
    solve(duplicate)
    monkeypatch.setattr(csat, "_is_suppressed", lambda address: address == "gone@bounce.test")
    bounced = make_ticket(email="gone@bounce.test")
    solve(bounced)
    assert not Survey.objects.filter(ticket__in=[robot, duplicate, bounced]).exists()


def test_suppression_comes_from_the_mail_app(make_ticket, solve):
    from mail.models import Suppression

    Suppression.objects.create(address="gone@bounce.test", created_at=timezone.now())
    ticket = make_ticket(email="Gone@Bounce.test")
    solve(ticket)
    assert not Survey.objects.filter(ticket=ticket).exists()


def test_the_sweep_sends_each_due_survey_once_with_the_header(make_ticket, solve, settings):
    settings.DESK_BASE_URL = "https://desk.example"
    ticket = make_ticket(subject="Card declined")
    solve(ticket)
    assert csat.surveys_send_due() == 0  # not due yet
    assert _send_all() == 1
    assert _send_all() == 0  # claimed: never twice
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@merchant.test"]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    assert message.message()["Auto-Submitted"] == "auto-generated"
    assert "https://desk.example/help/survey/" in message.body
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.SENT
    assert survey.sent_at is not None
    token = _token_from_mail(message)
    assert survey.token_hash == csat.hash_token(token) != token


def test_a_failed_send_is_retried_later(make_ticket, solve, monkeypatch):
    solve(make_ticket())

    def boom(self, fail_silently=False):
        raise OSError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", boom)
    assert _send_all() == 0
    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.PENDING
    assert survey.send_attempts == 1
    monkeypatch.undo()
    assert _send_all(minutes=61) == 0  # pushed later
    assert _send_all(minutes=80) == 1


def _sent_survey(make_ticket, solve, client=None):
    ticket = make_ticket()
    solve(ticket)
    _send_all()
    return ticket, _token_from_mail(mail.outbox[-1])


def test_opening_the_link_records_nothing(make_ticket, solve):
    ticket, token = _sent_survey(make_ticket, solve)
    response = Client().get(f"/help/survey/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Payout missing" in html
    assert 'name="rating"' in html
    assert 'name="comment"' in html
    survey = Survey.objects.get(ticket=ticket)
    assert survey.status == SurveyStatus.SENT
    assert survey.rating is None
    assert not TicketEvent.objects.filter(ticket=ticket, type=EventType.CSAT_RATED).exists()


def test_post_records_the_rating_and_an_event_and_may_change_it(make_ticket, solve):
    ticket, token = _sent_survey(make_ticket, solve)
    client = Client(enforce_csrf_checks=True)
    page = client.get(f"/help/survey/{token}/")
    csrf = page.cookies["csrftoken"].value
    response = client.post(
        f"/help/survey/{token}/",
        {"rating": "4", "comment": "Quick <b>help</b>", "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 200
    assert b"Quick &lt;b&gt;help&lt;/b&gt;" in response.content
    survey = Survey.objects.get(ticket=ticket)
    assert (survey.status, survey.rating, survey.comment) == (
        SurveyStatus.ANSWERED,
        4,
        "Quick <b>help</b>",
    )
    client.post(f"/help/survey/{token}/", {"rating": "2", "csrfmiddlewaretoken": csrf})
    survey.refresh_from_db()
    assert survey.rating == 2
    events = TicketEvent.objects.filter(ticket=ticket, type=EventType.CSAT_RATED)
    assert [e.data["rating"] for e in events] == [4, 2]


def test_post_without_csrf_is_refused(make_ticket, solve):
    _, token = _sent_survey(make_ticket, solve)
    response = Client(enforce_csrf_checks=True).post(f"/help/survey/{token}/", {"rating": "5"})
    assert response.status_code == 403
    assert Survey.objects.get().rating is None


@pytest.mark.parametrize("rating", ["0", "6", "x", ""])
def test_a_bad_rating_is_refused(make_ticket, solve, rating):
    _, token = _sent_survey(make_ticket, solve)
    response = Client().post(f"/help/survey/{token}/", {"rating": rating})
    assert response.status_code == 400
    assert Survey.objects.get().rating is None


def test_unknown_token_is_404(db):
    assert Client().get("/help/survey/nope/").status_code == 404
    assert Client().post("/help/survey/nope/", {"rating": "5"}).status_code == 404


def test_no_change_after_the_ticket_closes(make_ticket, solve):
    ticket, token = _sent_survey(make_ticket, solve)
    Client().post(f"/help/survey/{token}/", {"rating": "5"})
    services.ticket_update(ticket_id=ticket.pk, actor=None, status="closed")
    response = Client().post(f"/help/survey/{token}/", {"rating": "1"})
    assert response.status_code == 409
    assert b"closed" in response.content
    survey = Survey.objects.get()
    assert (survey.rating, survey.status) == (5, SurveyStatus.ANSWERED)


def test_no_answer_28_days_after_sending(make_ticket, solve):
    _, token = _sent_survey(make_ticket, solve)
    with time_machine.travel(timezone.now() + timedelta(days=28, hours=2)):
        response = Client().post(f"/help/survey/{token}/", {"rating": "3"})
        assert response.status_code == 409
        assert b"28 days" in response.content
        assert csat.surveys_expire() == 1
    assert Survey.objects.get().status == SurveyStatus.EXPIRED


def test_a_reopen_voids_an_unanswered_sent_survey_but_keeps_an_answer(make_ticket, solve):
    first, token = _sent_survey(make_ticket, solve)
    services.ticket_add_message(
        ticket_id=first.pk, actor=None, body="Still broken", author_type="requester"
    )
    assert Survey.objects.get(ticket=first).status == SurveyStatus.VOID
    response = Client().post(f"/help/survey/{token}/", {"rating": "5"})
    assert response.status_code == 409
    second, token2 = _sent_survey(make_ticket, solve)
    Client().post(f"/help/survey/{token2}/", {"rating": "5"})
    services.ticket_update(ticket_id=second.pk, actor=None, status="open")
    assert Survey.objects.get(ticket=second).status == SurveyStatus.ANSWERED


def test_closing_before_sending_voids_the_pending_survey(make_ticket, solve):
    ticket = make_ticket()
    solve(ticket)
    services.ticket_update(ticket_id=ticket.pk, actor=None, status="closed")
    assert Survey.objects.get().status == SurveyStatus.VOID
    assert _send_all() == 0


def test_the_beat_task_is_scheduled(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "csat.send_surveys" in tasks


def test_workspace_ticket_page_shows_the_rating(make_ticket, solve, lead):
    ticket, token = _sent_survey(make_ticket, solve)
    Client().post(f"/help/survey/{token}/", {"rating": "5", "comment": "Brilliant"})
    client = Client()
    client.force_login(lead)
    html = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-csat-rating="5"' in html
    assert "Brilliant" in html
