"""One bad setting never stops SLA processing (issue 9, item 5).

A target the calendar cannot meet, a calendar saved around the services, a policy deleted
mid-recompute: every other ticket's timers are still computed, the bad ones are reported
(/healthz, admin) and retried with backoff, and the API answers without a 500."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from accounts.models import Role
from sla import config_services
from sla.loading import sla_config
from sla.models import Calendar, RecomputeClaim, SlaPolicy, SlaTimer
from sla.services import sla_reconcile, stale_tickets_claim, ticket_sla_recompute
from tests.factories import QueueFactory, UserFactory, make_token
from tests.sla.factories import CalendarFactory, SlaPolicyFactory, ny
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db
TEN_YEARS = 10 * 365 * 24 * 60  # the documented maximum target (minutes)
MONDAY_ONLY = [{"weekday": 0, "start": "09:00", "end": "17:00"}]


def new_ticket(at: datetime, **kwargs) -> Ticket:
    with time_machine.travel(at, tick=False):
        return tickets.ticket_create(
            actor=None,
            subject="Refund re_123 stuck",
            description="The refund shows pending since Monday.",
            requester_email="ops@merchant.test",
            **kwargs,
        )


def reconcile_at(at: datetime, **kwargs) -> int:
    with time_machine.travel(at, tick=False):
        return sla_reconcile(**kwargs)


@pytest.fixture
def lead_api(api_client):
    token = make_token(UserFactory(role=Role.LEAD), ("tickets:read", "tickets:write", "admin"))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


@pytest.fixture
def two_policies():
    """An odd queue whose policy was stored around validation (Monday-only calendar, the
    maximum target), and the desk's catch-all policy after it."""
    QueueFactory(slug="support", is_default=True)
    odd = QueueFactory(slug="odd")
    monday = CalendarFactory(name="Monday only", hours=MONDAY_ONLY, holiday_country=None)
    SlaPolicyFactory(
        name="Odd",
        position=1,
        calendar=monday,
        match_queues=["odd"],
        targets=[("normal", "first_reply", TEN_YEARS)],
    )
    SlaPolicyFactory(name="Desk", position=2, targets=[("normal", "first_reply", 60)])
    return odd


def test_unreachable_target_leaves_other_tickets_timers_computed(two_policies, lead_api):
    odd = new_ticket(ny(2026, 3, 2, 10, 0), queue=two_policies)
    normal = new_ticket(ny(2026, 3, 2, 10, 0))

    assert reconcile_at(ny(2026, 3, 2, 10, 5)) == 2
    assert SlaTimer.objects.get(ticket=normal).due_at == ny(2026, 3, 2, 11, 0)
    # The unreachable timer is reported as it is: running, no due instant; nothing failed.
    odd_timer = SlaTimer.objects.get(ticket=odd)
    assert (odd_timer.status, odd_timer.due_at) == ("active", None)
    assert not Ticket.objects.filter(sla_stale=True).exists()
    assert not RecomputeClaim.objects.exists()

    response = lead_api.get(f"/api/v1/tickets/{odd.pk}/sla")
    assert response.status_code == 200, response.content
    assert response.json()[0]["due_at"] is None


def test_preview_of_an_unreachable_target_answers_200(lead_api):
    monday = CalendarFactory(hours=MONDAY_ONLY, holiday_country=None)
    response = lead_api.post(
        "/api/v1/sla/preview",
        {
            "calendar": monday.pk,
            "policy": {
                "targets": [{"priority": "normal", "metric": "first_reply", "minutes": TEN_YEARS}]
            },
            "events": [{"type": "created", "at": "2026-03-02T10:00:00-05:00"}],
            "now": "2026-03-02T11:00:00-05:00",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["timers"][0]["due_at"] is None


def test_api_refuses_a_target_its_calendar_cannot_meet(lead_api):
    monday = CalendarFactory(hours=MONDAY_ONLY, holiday_country=None)
    response = lead_api.post(
        "/api/v1/sla-policies",
        {
            "name": "Too long",
            "calendar": monday.pk,
            "targets": [
                {"priority": "urgent", "metric": "first_reply", "minutes": 60},
                {"priority": "normal", "metric": "resolution", "minutes": TEN_YEARS},
            ],
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == "targets[1].minutes"
    assert "cannot be met" in error["message"]
    assert not SlaPolicy.objects.exists()
    # The same target counted in real time is fine (C8).
    response = lead_api.post(
        "/api/v1/sla-policies",
        {
            "name": "Real time",
            "calendar": monday.pk,
            "targets": [
                {
                    "priority": "normal",
                    "metric": "resolution",
                    "minutes": TEN_YEARS,
                    "business_hours": False,
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content


def test_narrowing_a_calendar_under_its_policies_is_refused(lead_api):
    calendar = CalendarFactory()
    SlaPolicyFactory(
        name="Thirty days", calendar=calendar, targets=[("normal", "resolution", 30 * 8 * 60 * 200)]
    )
    response = lead_api.patch(
        f"/api/v1/calendars/{calendar.pk}", {"hours": MONDAY_ONLY}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "Thirty days" in response.json()["error"]["message"]
    calendar.refresh_from_db()
    assert len(calendar.hours) == 5


@pytest.fixture
def broken_policy():
    """A calendar with no hours, stored around the services (a raw write, an old admin)."""
    broken = Calendar.objects.create(name="Broken", timezone="America/New_York", hours=[])
    QueueFactory(slug="support", is_default=True)
    odd = QueueFactory(slug="odd")
    SlaPolicyFactory(
        name="Odd",
        position=1,
        calendar=broken,
        match_queues=["odd"],
        targets=[("normal", "first_reply", 60)],
    )
    SlaPolicyFactory(name="Desk", position=2, targets=[("normal", "first_reply", 60)])
    return odd


def test_broken_calendar_fails_only_its_tickets_and_healthz_lists_them(
    broken_policy, lead_api, client
):
    bad = new_ticket(ny(2026, 3, 3, 9, 0), queue=broken_policy)
    good = [new_ticket(ny(2026, 3, 3, 9, 0) + timedelta(minutes=i)) for i in range(3)]

    assert reconcile_at(ny(2026, 3, 3, 9, 30)) == 4
    for ticket in good:
        assert SlaTimer.objects.get(ticket=ticket).status == "active"
    assert not SlaTimer.objects.filter(ticket=bad).exists()
    claim = RecomputeClaim.objects.get(ticket=bad)
    assert claim.failures == 1
    assert 'calendar "Broken" is invalid' in claim.last_error
    assert Ticket.objects.get(pk=bad.pk).sla_stale is True

    health = client.get("/healthz")
    assert health.status_code == 200  # the desk serves: news, not a failed check
    sla = health.json()["sla"]
    assert sla["failing_recomputes"] == 1
    assert [(t["ticket"], t["failures"], t["error"]) for t in sla["failing_tickets"]] == [
        (bad.pk, 1, "BrokenPolicy")
    ]
    # Reading the ticket's SLA does not 500 either.
    assert lead_api.get(f"/api/v1/tickets/{bad.pk}/sla").status_code == 200


def test_preview_with_a_broken_saved_calendar_is_a_400(broken_policy, lead_api):
    broken = Calendar.objects.get(name="Broken")
    events = [{"type": "created", "at": "2026-03-02T10:00:00-05:00"}]
    by_calendar = lead_api.post(
        "/api/v1/sla/preview",
        {"calendar": broken.pk, "policy": {"targets": []}, "events": events},
        format="json",
    )
    assert by_calendar.status_code == 400, by_calendar.content
    assert by_calendar.json()["error"]["param"] == "calendar"
    odd_policy = SlaPolicy.objects.get(name="Odd")
    by_policy = lead_api.post(
        "/api/v1/sla/preview", {"policy": odd_policy.pk, "events": events}, format="json"
    )
    assert by_policy.status_code == 400, by_policy.content
    assert 'calendar "Broken", which is invalid' in by_policy.json()["error"]["message"]


def test_an_unused_broken_calendar_changes_nothing():
    Calendar.objects.create(name="Draft", timezone="Europe/London", hours=[])
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))
    assert reconcile_at(ny(2026, 3, 3, 9, 1)) == 1
    assert SlaTimer.objects.get(ticket=ticket).due_at == ny(2026, 3, 3, 10, 0)


def test_failing_ticket_is_pushed_back_with_backoff_and_recovers(broken_policy):
    bad = new_ticket(ny(2026, 3, 3, 9, 0), queue=broken_policy)
    start = ny(2026, 3, 3, 9, 30)

    assert reconcile_at(start) == 1
    # Backing off: not claimed again at once, so a batch is never "full" of it forever.
    assert reconcile_at(start + timedelta(seconds=30)) == 0
    assert reconcile_at(start + timedelta(seconds=61)) == 1
    claim = RecomputeClaim.objects.get(ticket=bad)
    assert claim.failures == 2
    assert claim.retry_at == start + timedelta(seconds=61) + timedelta(minutes=2)
    assert reconcile_at(start + timedelta(minutes=2)) == 0

    broken = Calendar.objects.get(name="Broken")
    broken.hours = [{"weekday": 1, "start": "09:00", "end": "17:00"}]
    broken.save()  # repaired (by hand: any writer bumps updated_at, which reloads the config)
    assert reconcile_at(start + timedelta(minutes=4)) == 1
    assert SlaTimer.objects.get(ticket=bad).due_at == ny(2026, 3, 3, 10, 0)
    assert not RecomputeClaim.objects.exists()
    assert Ticket.objects.get(pk=bad.pk).sla_stale is False


def test_failing_ticket_does_not_block_a_small_batch(broken_policy):
    """The failing ticket has the lowest id; batches of one still reach the others."""
    bad = new_ticket(ny(2026, 3, 3, 9, 0), queue=broken_policy)
    others = [new_ticket(ny(2026, 3, 3, 9, 0)) for _ in range(2)]
    at = ny(2026, 3, 3, 9, 30)
    assert [reconcile_at(at, limit=1) for _ in range(4)] == [1, 1, 1, 0]
    assert set(Ticket.objects.filter(sla_stale=True).values_list("pk", flat=True)) == {bad.pk}
    assert all(SlaTimer.objects.filter(ticket=t).exists() for t in others)


def test_two_reconcilers_never_claim_the_same_ticket():
    SlaPolicyFactory(targets=[("normal", "first_reply", 60)])
    ids = {new_ticket(ny(2026, 3, 3, 9, 0)).pk for _ in range(3)}
    with time_machine.travel(ny(2026, 3, 3, 9, 5), tick=False):
        first = stale_tickets_claim(limit=2)
        second = stale_tickets_claim(limit=2)
        assert len(first) == 2
        assert set(first) | set(second) == ids
        assert not set(first) & set(second)
        assert stale_tickets_claim() == []
    # A reconciler that died: its lease expires and the tickets are claimed again.
    with time_machine.travel(ny(2026, 3, 3, 9, 11), tick=False):
        assert set(stale_tickets_claim()) == ids


def test_sweep_failure_is_recorded_and_the_timers_wait(broken_policy):
    from sla.services import sla_sweep

    SlaPolicyFactory(
        name="First", position=0, targets=[("normal", "first_reply", 60)], match_queues=["odd"]
    )
    bad = new_ticket(ny(2026, 3, 3, 9, 0), queue=broken_policy)
    with time_machine.travel(ny(2026, 3, 3, 9, 1), tick=False):
        ticket_sla_recompute(ticket_id=bad.pk)  # computed under policy "First"
    SlaPolicy.objects.filter(name="First").delete()  # now "Odd" (broken) applies
    with time_machine.travel(ny(2026, 3, 3, 10, 30), tick=False):
        assert sla_sweep() == 1
    claim = RecomputeClaim.objects.get(ticket=bad)
    assert claim.failures == 1
    assert SlaTimer.objects.get(ticket=bad).next_check_at == claim.retry_at
    with time_machine.travel(ny(2026, 3, 3, 10, 30, 30), tick=False):
        assert sla_sweep() == 0  # backing off, not retried every second


ADMIN_CALENDAR = {
    "name": "From the admin",
    "timezone": "Europe/London",
    "hours": "[]",
    "holiday_country": "",
    "holiday_subdivision": "",
    "holidays": "[]",
}


def test_admin_refuses_a_calendar_without_hours(admin_client):
    response = admin_client.post("/admin/sla/calendar/add/", ADMIN_CALENDAR)
    assert response.status_code == 200  # the form again, with the error
    assert b"A calendar needs business hours unless it is always open." in response.content
    assert not Calendar.objects.exists()


def test_admin_saves_a_calendar_through_the_services(
    admin_client, django_capture_on_commit_callbacks
):
    hours = '[{"weekday": 0, "start": "09:00", "end": "17:00"}]'
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/admin/sla/calendar/add/",
            {**ADMIN_CALENDAR, "hours": hours, "holiday_country": "gb"},
        )
    assert response.status_code == 302, response.content
    calendar = Calendar.objects.get()
    assert calendar.holiday_country == "GB"  # normalised as the API does
    assert len(callbacks) == 1  # open tickets recomputed after commit (X4)


def test_admin_refuses_a_policy_target_its_calendar_cannot_meet(admin_client):
    monday = CalendarFactory(hours=MONDAY_ONLY, holiday_country=None)
    form = {
        "name": "Too long",
        "position": "1",
        "calendar": str(monday.pk),
        "warn_at_percent": "75",
        "match_priorities": "",
        "match_tiers": "",
        "match_channels": "",
        "match_queues": "",
        "pause_on": "pending,on_hold",
        "targets-TOTAL_FORMS": "1",
        "targets-INITIAL_FORMS": "0",
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "1000",
        "targets-0-priority": "normal",
        "targets-0-metric": "resolution",
        "targets-0-minutes": str(TEN_YEARS),
        "targets-0-business_hours": "on",
    }
    response = admin_client.post("/admin/sla/slapolicy/add/", form)
    assert response.status_code == 200
    assert b"cannot be met" in response.content
    assert not SlaPolicy.objects.exists()

    form["targets-0-minutes"] = "480"
    response = admin_client.post("/admin/sla/slapolicy/add/", form)
    assert response.status_code == 302, response.content
    policy = SlaPolicy.objects.get()
    assert [(t.metric, t.minutes) for t in policy.targets.all()] == [("resolution", 480)]


def test_admin_lists_failing_recomputes(broken_policy, admin_client):
    bad = new_ticket(ny(2026, 3, 3, 9, 0), queue=broken_policy)
    reconcile_at(ny(2026, 3, 3, 9, 30))
    response = admin_client.get("/admin/sla/recomputeclaim/?state=failing")
    assert response.status_code == 200
    assert str(bad) in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_policy_deleted_during_a_recompute_raises_no_foreign_key_error(monkeypatch):
    """The worker loaded the configuration, then the policy was deleted and committed
    before its timers were written: they are written for what exists now instead."""
    doomed = SlaPolicyFactory(name="Doomed", position=1, targets=[("normal", "first_reply", 60)])
    SlaPolicyFactory(name="After", position=2, targets=[("normal", "first_reply", 240)])
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))
    stale = sla_config(refresh=True)
    config_services.policy_delete(policy=doomed)
    calls = []

    def config_as_loaded_before(*, refresh=False):
        calls.append(refresh)
        return stale if len(calls) == 1 else sla_config(refresh=refresh)

    monkeypatch.setattr("sla.services.sla_config", config_as_loaded_before)
    with time_machine.travel(ny(2026, 3, 3, 9, 5), tick=False):
        ticket_sla_recompute(ticket_id=ticket.pk)  # commits: deferred FK checks run
    assert calls[:2] == [False, True]  # the vanished policy was noticed: config reloaded
    row = SlaTimer.objects.get(ticket=ticket)
    assert row.policy.name == "After"
    assert row.target_minutes == 240


@pytest.mark.django_db(transaction=True)
def test_database_sets_timer_policy_null_when_a_policy_row_goes():
    """The race the row lock cannot close (timers committed while Django's collector was
    deleting): the database's own ON DELETE SET NULL keeps the deletion from failing."""
    policy = SlaPolicyFactory(targets=[])
    ticket = new_ticket(ny(2026, 3, 3, 9, 0))
    now = datetime(2026, 3, 3, 14, tzinfo=UTC)
    SlaTimer.objects.create(
        ticket=ticket,
        metric="first_reply",
        policy=policy,
        status="active",
        target_minutes=60,
        started_at=now,
        computed_at=now,
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_slapolicy WHERE id = %s", [policy.pk])
    assert SlaTimer.objects.get(ticket=ticket).policy_id is None
