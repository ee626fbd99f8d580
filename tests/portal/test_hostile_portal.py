"""The requester portal and the survey page as an attacker tries them (DESIGN §9): other
people's tickets, spent, expired and forged links, survey tokens of other tickets, requests
that record on GET, POSTs without CSRF, markup in every text a customer or agent can write,
and anything internal (notes, agents' names and addresses) on a public page."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from csat import services as surveys
from csat.models import PortalSignInLink, Survey, SurveyStatus
from csat.portal import services as portal
from tests.factories import QueueFactory, UserFactory
from tickets import services
from tickets.models import EventType, Message, Status, Ticket

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'


@pytest.fixture
def desk(db, settings):
    settings.CSAT_DELAY_MINUTES = 0
    QueueFactory(slug="support", is_default=True)
    agent = UserFactory(
        username="ann.agent",
        first_name="Annabel",
        last_name="Secretname",
        role=Role.AGENT,
        email="ann.secret@desk.test",
    )

    def ticket(email, subject, description="Help me"):
        return services.ticket_create(
            actor=None, subject=subject, description=description, requester_email=email
        )

    mine = ticket("pat@merchant.test", f"Payout {SCRIPT}", f"It broke {IMG}")
    other = ticket("sam@other.test", "Sam's dispute")
    services.ticket_update(ticket_id=mine.pk, actor=agent, assignee=agent)
    services.ticket_add_message(
        ticket_id=mine.pk,
        actor=agent,
        body=f"We are **on it**. {SCRIPT} [click](javascript:alert(3)) {IMG}",
    )
    services.ticket_add_message(
        ticket_id=mine.pk, actor=agent, body="INTERNAL: fraud check pending", public=False
    )
    services.ticket_add_message(
        ticket_id=other.pk, actor=agent, body="Sam's private answer", public=True
    )
    return {"mine": mine, "other": other, "agent": agent}


def _link_token(requester_email: str) -> str:
    from tickets.models import Requester

    requester = Requester.objects.get(email=requester_email)
    portal.sign_in_link_send(requester_id=requester.pk)
    return re.search(r"/help/tickets/sign-in/([^/\s]+)/", mail.outbox[-1].body).group(1)


def _signed_in(email: str = "pat@merchant.test") -> Client:
    client = Client()
    assert client.post(f"/help/tickets/sign-in/{_link_token(email)}/").status_code == 302
    return client


def _csrf_client() -> Client:
    """A client that must send a CSRF token, and has a cookie to send one with."""
    client = Client(enforce_csrf_checks=True)
    client.get("/help/tickets/")
    return client


def _token(client: Client) -> str:
    return _mask_cipher_secret(client.cookies["csrftoken"].value)


def _public_pages(client: Client, desk) -> list[str]:
    pages = [
        client.get("/help/tickets/").content.decode(),
        client.get(f"/help/tickets/{desk['mine'].pk}/").content.decode(),
    ]
    return pages


# --- other requesters' tickets ------------------------------------------------------------


def test_another_requesters_ticket_is_404_for_every_method(desk):
    client = _signed_in()
    other = desk["other"]
    url = f"/help/tickets/{other.pk}/"
    before = Message.objects.filter(ticket=other).count()
    status = Ticket.objects.get(pk=other.pk).status
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "reply", "body": "mine now"}).status_code == 404
    assert client.post(url, {"action": "solve"}).status_code == 404
    assert Message.objects.filter(ticket=other).count() == before
    assert Ticket.objects.get(pk=other.pk).status == status
    listing = client.get("/help/tickets/").content.decode()
    assert "Sam" not in listing
    assert f"/help/tickets/{other.pk}/" not in listing


def test_ids_beyond_any_ticket_are_404_not_500(desk):
    client = _signed_in()
    for pk in ("0", "999999999", "99999999999999999999999"):
        assert client.get(f"/help/tickets/{pk}/").status_code == 404, pk
        assert client.post(f"/help/tickets/{pk}/", {"action": "solve"}).status_code == 404, pk
    assert client.get("/help/tickets/-1/").status_code == 404


def test_a_requester_session_reaches_no_agent_page(desk):
    client = _signed_in()
    for url in (f"/tickets/{desk['mine'].pk}/", "/", "/dashboard/", "/knowledge-base/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith("/login/"), url
    assert client.get(f"/api/v1/tickets/{desk['mine'].pk}").status_code in (401, 403)


def test_a_closed_ticket_takes_no_reply(desk):
    client = _signed_in()
    mine = desk["mine"]
    services.ticket_update(ticket_id=mine.pk, actor=desk["agent"], status=Status.CLOSED)
    before = Message.objects.filter(ticket=mine).count()
    response = client.post(f"/help/tickets/{mine.pk}/", {"action": "reply", "body": "reopen!"})
    assert response.status_code == 400
    assert Message.objects.filter(ticket=mine).count() == before
    assert client.post(f"/help/tickets/{mine.pk}/", {"action": "solve"}).status_code == 302
    assert Ticket.objects.get(pk=mine.pk).status == Status.CLOSED


def test_a_merged_duplicate_leads_to_the_ticket_it_was_merged_into(desk):
    """Merging closes the duplicate and moves its conversation: the customer follows it to
    the ticket it went into, when that one is theirs too."""
    from tickets.merging import ticket_merge

    client = _signed_in()
    mine = desk["mine"]
    live = services.ticket_create(
        actor=None, subject="Same payout", description="again", requester_email="pat@merchant.test"
    )
    ticket_merge(source_id=mine.pk, target_id=live.pk, actor=desk["agent"])
    response = client.get(f"/help/tickets/{mine.pk}/")
    assert (response.status_code, response["Location"]) == (302, f"/help/tickets/{live.pk}/")
    before = Message.objects.count()
    client.post(f"/help/tickets/{mine.pk}/", {"action": "reply", "body": "lost?"})
    assert Message.objects.count() == before
    assert "We are <strong>on it</strong>" in client.get(response["Location"]).content.decode()


def test_a_duplicate_merged_into_someone_elses_ticket_does_not_lead_there(desk):
    from tickets.merging import MergeRefused, ticket_merge
    from tickets.models import Ticket

    with pytest.raises(MergeRefused):  # different customers: refused now
        ticket_merge(source_id=desk["mine"].pk, target_id=desk["other"].pk, actor=desk["agent"])
    # A merge from before that rule (or made in the database) still leads nowhere.
    Ticket.objects.filter(pk=desk["mine"].pk).update(merged_into=desk["other"], status="closed")
    client = _signed_in()
    response = client.get(f"/help/tickets/{desk['mine'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sam" not in html
    assert f"/help/tickets/{desk['other'].pk}/" not in html
    assert 'name="body"' not in html  # closed by the merge: no reply box
    assert client.get(f"/help/tickets/{desk['other'].pk}/").status_code == 404
    reply = client.post(f"/help/tickets/{desk['mine'].pk}/", {"action": "reply", "body": "x"})
    assert reply.status_code == 400


# --- sign-in links ------------------------------------------------------------------------


def test_a_link_works_once_and_a_spent_one_signs_nobody_in(desk):
    token = _link_token("pat@merchant.test")
    first, second = Client(), Client()
    assert first.post(f"/help/tickets/sign-in/{token}/").status_code == 302
    response = second.post(f"/help/tickets/sign-in/{token}/")
    assert response.status_code == 400
    assert portal.SESSION_KEY not in second.session
    assert b"Payout" not in second.get("/help/tickets/").content


def test_opening_a_link_spends_nothing(desk):
    token = _link_token("pat@merchant.test")
    for _ in range(3):
        page = Client().get(f"/help/tickets/sign-in/{token}/")
        assert page.status_code == 200
        assert b"Payout" not in page.content
    assert PortalSignInLink.objects.get().used_at is None
    assert Client().post(f"/help/tickets/sign-in/{token}/").status_code == 302


def test_an_expired_link_signs_nobody_in(desk):
    token = _link_token("pat@merchant.test")
    with time_machine.travel(timezone.now() + timedelta(minutes=15, seconds=1)):
        client = Client()
        assert client.post(f"/help/tickets/sign-in/{token}/").status_code == 400
        assert portal.SESSION_KEY not in client.session
    assert PortalSignInLink.objects.get().used_at is None


@pytest.mark.parametrize(
    "token",
    ["x", "a" * 101, "%00", "'\"><script>alert(1)</script>", "..%2F..%2Fadmin", "\u00e9" * 40],
)
def test_forged_links_are_refused_without_error(desk, token):
    _link_token("pat@merchant.test")
    client = Client()
    page = client.get(f"/help/tickets/sign-in/{token}/")
    assert page.status_code in (200, 400, 404)
    assert b"<script>alert(1)" not in page.content
    assert client.post(f"/help/tickets/sign-in/{token}/").status_code in (400, 404)
    assert portal.SESSION_KEY not in client.session


def test_the_stored_hash_is_not_a_token(desk):
    _link_token("pat@merchant.test")
    stored = PortalSignInLink.objects.get().token_hash
    client = Client()
    assert client.post(f"/help/tickets/sign-in/{stored}/").status_code == 400
    assert portal.SESSION_KEY not in client.session


def test_signing_in_rotates_the_session_and_signing_out_ends_it(desk):
    client = Client()
    client.get("/help/tickets/")
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else None
    client.post(f"/help/tickets/sign-in/{_link_token('pat@merchant.test')}/")
    after = client.cookies["sessionid"].value
    assert after != before
    stolen = Client()
    stolen.cookies["sessionid"] = after
    client.post("/help/tickets/sign-out/")
    assert b"Payout" not in stolen.get("/help/tickets/").content


def test_unknown_and_known_addresses_queue_the_same_and_say_the_same(
    desk, django_capture_on_commit_callbacks, monkeypatch
):
    from csat.tasks import portal_send_sign_in_link_task

    queued: list[int] = []
    monkeypatch.setattr(portal_send_sign_in_link_task, "delay", queued.append)
    pages = []
    for email in ("pat@merchant.test", "nobody@nowhere.test", "PAT@MERCHANT.TEST"):
        with django_capture_on_commit_callbacks(execute=True):
            html = Client().post("/help/tickets/", {"email": email}).content.decode()
        pages.append(re.sub(r"(csrfmiddlewaretoken\" value=|X-CSRFToken\": )\"[^\"]+\"", "", html))
    assert pages[0] == pages[1] == pages[2]
    assert len(queued) == 2  # the unknown address gets nothing, and the page does not say so


# --- CSRF on every POST ---------------------------------------------------------------------


def test_every_portal_and_survey_post_needs_csrf(desk):
    mine = desk["mine"]
    services.ticket_update(ticket_id=mine.pk, actor=desk["agent"], status=Status.SOLVED)
    surveys.surveys_send_due()
    survey_token = re.search(r"/help/survey/([^/\s]+)/", mail.outbox[-1].body).group(1)
    link = _link_token("pat@merchant.test")
    client = _csrf_client()
    posts = [
        ("/help/tickets/", {"email": "pat@merchant.test"}),
        (f"/help/tickets/sign-in/{link}/", {}),
        ("/help/tickets/sign-out/", {}),
        (f"/help/survey/{survey_token}/", {"rating": "1", "comment": "forged"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert PortalSignInLink.objects.filter(used_at__isnull=False).count() == 0
    assert Survey.objects.get().rating is None
    # Signed in, the ticket's forms need it too.
    signed = Client(enforce_csrf_checks=True)
    signed.get("/help/tickets/")
    token = _token(signed)
    assert (
        signed.post(f"/help/tickets/sign-in/{link}/", {"csrfmiddlewaretoken": token}).status_code
        == 302
    )
    before = Message.objects.filter(ticket=mine).count()
    for data in ({"action": "reply", "body": "forged"}, {"action": "solve"}):
        assert signed.post(f"/help/tickets/{mine.pk}/", data).status_code == 403
        forged = {**data, "csrfmiddlewaretoken": _mask_cipher_secret(_get_new_csrf_string())}
        assert signed.post(f"/help/tickets/{mine.pk}/", forged).status_code == 403
    assert Message.objects.filter(ticket=mine).count() == before


# --- markup and internal things ---------------------------------------------------------------


def test_markup_in_subjects_descriptions_and_messages_is_inert(desk):
    client = _signed_in()
    pat_reply = f"Still broken {SCRIPT} {IMG}"
    client.post(f"/help/tickets/{desk['mine'].pk}/", {"action": "reply", "body": pat_reply})
    for html in _public_pages(client, desk):
        assert "<script>alert" not in html
        assert "<img" not in html
        assert "javascript:" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, not run
    detail = client.get(f"/help/tickets/{desk['mine'].pk}/").content.decode()
    assert "<strong>on it</strong>" in detail  # the agent's Markdown, sanitised
    assert "onerror" not in detail.replace("onerror=&quot;", "")


def test_no_internal_note_agent_name_or_address_on_any_public_page(desk):
    client = _signed_in()
    mine = desk["mine"]
    services.ticket_update(ticket_id=mine.pk, actor=desk["agent"], status=Status.SOLVED)
    surveys.surveys_send_due()
    survey_url = re.search(r"/help/survey/[^/\s]+/", mail.outbox[-1].body).group(0)
    pages = [*_public_pages(client, desk), Client().get(survey_url).content.decode()]
    pages.append(Client().post(survey_url, {"rating": "4", "comment": "ok"}).content.decode())
    for html in pages:
        for secret in (
            "INTERNAL",
            "fraud",
            "ann.secret",
            "desk.test",
            "ann.agent",
            "Annabel",
            "Secretname",
        ):
            assert secret not in html, secret
    assert "Support" in pages[1]


# --- surveys ------------------------------------------------------------------------------------


@pytest.fixture
def two_surveys(desk):
    """Sent surveys for two tickets of two requesters; their raw tokens by ticket."""
    tokens = {}
    for key in ("mine", "other"):
        services.ticket_update(ticket_id=desk[key].pk, actor=desk["agent"], status=Status.SOLVED)
        surveys.surveys_send_due()
        tokens[key] = re.search(r"/help/survey/([^/\s]+)/", mail.outbox[-1].body).group(1)
    return tokens


def test_a_survey_token_only_ever_answers_its_own_survey(desk, two_surveys):
    response = Client().post(f"/help/survey/{two_surveys['mine']}/", {"rating": "1"})
    assert response.status_code == 200
    assert "Sam" not in response.content.decode()
    ratings = dict(Survey.objects.values_list("ticket_id", "rating"))
    assert ratings == {desk["mine"].pk: 1, desk["other"].pk: None}
    # The ticket id in the form is not ours to choose; extra fields change nothing.
    Client().post(
        f"/help/survey/{two_surveys['mine']}/",
        {"rating": "2", "ticket": desk["other"].pk, "survey": desk["other"].pk},
    )
    assert dict(Survey.objects.values_list("ticket_id", "rating")) == {
        desk["mine"].pk: 2,
        desk["other"].pk: None,
    }


def test_opening_or_probing_a_survey_records_nothing(desk, two_surveys):
    url = f"/help/survey/{two_surveys['mine']}/"
    for method in ("get", "head", "options", "put", "delete"):
        getattr(Client(), method)(url + "?rating=1&comment=scanner")
    Client().get(url, {"rating": "5"})
    survey = Survey.objects.get(ticket=desk["mine"])
    assert (survey.status, survey.rating, survey.responded_at) == (SurveyStatus.SENT, None, None)
    assert not desk["mine"].events.filter(type=EventType.CSAT_RATED).exists()


@pytest.mark.parametrize("rating", ["0", "6", "-1", "4.5", "", "five", "1e1", "9" * 30])
def test_a_rating_out_of_range_is_refused_and_nothing_is_recorded(desk, two_surveys, rating):
    response = Client().post(f"/help/survey/{two_surveys['mine']}/", {"rating": rating})
    assert response.status_code == 400
    assert Survey.objects.get(ticket=desk["mine"]).rating is None


def test_survey_tokens_that_are_not_ours_are_404(desk, two_surveys):
    stored = Survey.objects.get(ticket=desk["mine"]).token_hash
    for token in (stored, two_surveys["mine"][:-1], "a" * 101, "%00"):
        assert Client().get(f"/help/survey/{token}/").status_code in (400, 404), token
        response = Client().post(f"/help/survey/{token}/", {"rating": "5"})
        assert response.status_code in (400, 404), token
    assert not Survey.objects.filter(rating__isnull=False).exists()


def test_a_void_survey_takes_no_answer(desk, two_surveys):
    services.ticket_update(ticket_id=desk["mine"].pk, actor=desk["agent"], status=Status.OPEN)
    response = Client().post(f"/help/survey/{two_surveys['mine']}/", {"rating": "5"})
    assert response.status_code == 409
    survey = Survey.objects.get(ticket=desk["mine"])
    assert (survey.status, survey.rating) == (SurveyStatus.VOID, None)


def test_a_survey_comment_with_markup_is_inert_on_the_survey_and_workspace_pages(desk, two_surveys):
    url = f"/help/survey/{two_surveys['mine']}/"
    page = Client().post(url, {"rating": "3", "comment": f"{SCRIPT}{IMG}"}).content.decode()
    assert "<script>alert" not in page
    assert "<img" not in page
    lead = UserFactory(username="lea", role=Role.LEAD)
    desk_client = Client()
    desk_client.force_login(lead)
    workspace = desk_client.get(f"/tickets/{desk['mine'].pk}/").content.decode()
    assert "&lt;script&gt;alert(1)" in workspace
    assert "<script>alert(1)" not in workspace


# --- caching and referrers ---------------------------------------------------------------------


def test_personal_and_token_pages_are_never_cached_and_leak_no_referrer(desk, two_surveys):
    client = _signed_in()
    link = _link_token("pat@merchant.test")
    pages = {
        "list": client.get("/help/tickets/"),
        "detail": client.get(f"/help/tickets/{desk['mine'].pk}/"),
        "sign-in": Client().get(f"/help/tickets/sign-in/{link}/"),
        "survey": Client().get(f"/help/survey/{two_surveys['mine']}/"),
        "unknown survey": Client().get("/help/survey/nope/"),
    }
    for name, response in pages.items():
        assert "no-store" in response["Cache-Control"], name
        assert "private" in response["Cache-Control"], name
    for name in ("sign-in", "survey", "unknown survey"):
        # The origin only: "no-referrer" would make the page's own form arrive with
        # `Origin: null`, which CSRF protection refuses (the browser journey checks that).
        assert pages[name]["Referrer-Policy"] == "strict-origin", name
    assert pages["list"]["Referrer-Policy"] == "same-origin"


def test_replies_past_the_hourly_limit_are_429_kept_in_the_form_and_not_stored(desk, monkeypatch):
    monkeypatch.setattr(portal, "REPLIES_PER_HOUR", 3)
    mine = desk["mine"]
    url = f"/help/tickets/{mine.pk}/"
    before = Message.objects.filter(ticket=mine).count()
    # Early in a clock hour still to come (after the desk's tickets were written).
    start = (timezone.now() + timedelta(hours=1)).replace(minute=1, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        client = _signed_in()
        for n in range(3):
            assert client.post(url, {"action": "reply", "body": f"reply {n}"}).status_code == 302

        refused = client.post(url, {"action": "reply", "body": "one too many"})

        assert refused.status_code == 429
        assert refused["Retry-After"] == "3540"  # the hour began 60 s ago
        page = refused.content.decode()
        assert "many replies in the last hour" in page
        assert "one too many" in page  # still in the text box, to send again later
        assert Message.objects.filter(ticket=mine).count() == before + 3
        assert not Message.objects.filter(ticket=mine, body="one too many").exists()
        # Another requester is not held back by this one.
        assert (
            _signed_in("sam@other.test")
            .post(f"/help/tickets/{desk['other'].pk}/", {"action": "reply", "body": "hi"})
            .status_code
            == 302
        )

        clock.shift(timedelta(hours=1))
        assert client.post(url, {"action": "reply", "body": "one too many"}).status_code == 302
    assert Message.objects.filter(ticket=mine, body="one too many").count() == 1
