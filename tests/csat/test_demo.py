"""seed_csat: survey answers on solved demo tickets and 90 days of denominators."""

from collections import Counter

import pytest
from django.core.management import call_command

from csat.demo import seed_csat
from csat.models import Denominator, Survey, SurveyStatus
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_answers_and_denominators():
    call_command("seed_demo", tickets=40, stdout=None)
    # Every demo ticket has a contact reason that fits it, so "by reason" figures are alive.
    reasons = dict(Ticket.objects.values_list("subject", "contact_reason__slug"))
    assert None not in reasons.values()
    assert len(set(reasons.values())) >= 4
    for subject, reason in reasons.items():
        if subject.startswith("Chargeback"):
            assert reason == "disputes"
        elif subject.startswith("API returning 500"):
            assert reason == "api-errors"
        elif subject.startswith("Payout "):
            assert reason == "payouts"
    answered = Survey.objects.filter(status=SurveyStatus.ANSWERED)
    sent = Survey.objects.exclude(sent_at=None)
    assert sent.exists()
    assert answered.count() <= sent.count()
    assert all(1 <= s.rating <= 5 for s in answered)
    assert all(s.responded_at >= s.sent_at for s in answered)
    days = Denominator.objects.filter(metric="payments", segment="all")
    assert days.count() == 91
    assert all(100_000 <= d.value <= 250_000 for d in days)
    accounts = Denominator.objects.filter(metric="active_accounts", segment="all")
    assert all(1_900 <= d.value <= 2_600 for d in accounts)
    assert set(Denominator.objects.values_list("segment", flat=True)) == {
        "all", "standard", "premium", "enterprise"
    }  # fmt: skip
    # Running it again answers nothing twice and keeps one row per day.
    before = Counter(Survey.objects.values_list("status", flat=True))
    seed_csat()
    assert Counter(Survey.objects.values_list("status", flat=True)) == before
    assert Denominator.objects.count() == 91 * 8


def test_weekends_have_fewer_payments():
    seed_csat()
    by_weekday: dict[int, list[int]] = {}
    for d in Denominator.objects.filter(metric="payments", segment="all"):
        by_weekday.setdefault(d.date.weekday(), []).append(d.value)
    weekday = sum(sum(by_weekday[i]) / len(by_weekday[i]) for i in range(5)) / 5
    weekend = sum(sum(by_weekday[i]) / len(by_weekday[i]) for i in (5, 6)) / 2
    assert weekend < 0.85 * weekday
