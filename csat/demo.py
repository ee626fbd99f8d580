"""Demo data for seed_demo: survey answers on the demo's solved tickets and 90 days of
contact-rate denominators. Called after the tickets exist; running it again changes nothing
already answered (denominators are upserted)."""

import random
import secrets
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from tickets.models import EventType, Status, TicketEvent

from .denominators import denominators_upsert
from .models import Survey, SurveyStatus
from .services import hash_token

# Support-desk CSAT is usually skewed high: most answers are 4-5, a tail of unhappy ones.
RATINGS = [5, 4, 3, 2, 1]
RATING_WEIGHTS = [46, 26, 11, 7, 10]
RESPONSE_RATE = 0.55
COMMENTS = {
    5: ["Quick and clear, thank you!", "Solved in one reply.", "Great help with the payout."],
    4: ["Good, took a little while.", "Helpful answer."],
    3: ["Fine in the end, but I had to explain twice."],
    2: ["Slow. The payout was late again."],
    1: ["Nobody understood the problem.", "Three days without an answer."],
}
# Share of accounts and payments per tier.
TIERS = {"standard": 0.62, "premium": 0.27, "enterprise": 0.11}
DAYS = 90


def seed_csat(*, seed: int = 7) -> dict:
    rng = random.Random(seed)
    surveys = _answer_surveys(rng)
    rows = _denominators(rng)
    return {"surveys": surveys, "denominator_rows": rows}


@transaction.atomic
def _answer_surveys(rng: random.Random) -> int:
    """Pending surveys of solved demo tickets are sent at their due time; most are answered."""
    now = timezone.now()
    due = list(
        Survey.objects.filter(
            status=SurveyStatus.PENDING, send_after__lte=now, ticket__status=Status.SOLVED
        ).order_by("pk")
    )
    events = []
    for survey in due:
        survey.status = SurveyStatus.SENT
        survey.sent_at = survey.send_after
        survey.token_hash = hash_token(secrets.token_urlsafe(16))  # nobody holds the link
        if rng.random() < RESPONSE_RATE:
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            survey.rating = rating
            survey.comment = rng.choice(COMMENTS[rating]) if rng.random() < 0.4 else ""
            survey.status = SurveyStatus.ANSWERED
            survey.responded_at = min(
                now, survey.sent_at + timedelta(minutes=rng.randrange(5, 36 * 60))
            )
            events.append(
                TicketEvent(
                    ticket_id=survey.ticket_id,
                    type=EventType.CSAT_RATED,
                    at=survey.responded_at,
                    data={"survey": survey.pk, "rating": rating, "changed": False},
                )
            )
    Survey.objects.bulk_update(
        due, ["status", "sent_at", "token_hash", "rating", "comment", "responded_at"]
    )
    TicketEvent.objects.bulk_create(events)
    return len(due)


def _denominators(rng: random.Random) -> int:
    today = timezone.now().date()
    rows = []
    for offset in range(DAYS, -1, -1):
        day: date = today - timedelta(days=offset)
        # Slow growth over the quarter, from about 2,050 to 2,450 active accounts.
        accounts = int(2050 + 400 * (DAYS - offset) / DAYS + rng.randint(-25, 25))
        # A weekly pattern: busiest mid-week, quiet weekends.
        weekly = (0.97, 1.05, 1.08, 1.06, 1.02, 0.78, 0.72)[day.weekday()]
        payments = int(rng.uniform(185_000, 225_000) * weekly)
        rows += [
            {
                "date": day.isoformat(),
                "metric": "active_accounts",
                "segment": "all",
                "value": accounts,
            },
            {"date": day.isoformat(), "metric": "payments", "segment": "all", "value": payments},
        ]
        for tier, share in TIERS.items():
            rows += [
                {
                    "date": day.isoformat(),
                    "metric": "active_accounts",
                    "segment": tier,
                    "value": round(accounts * share),
                },
                {
                    "date": day.isoformat(),
                    "metric": "payments",
                    "segment": tier,
                    "value": round(payments * share),
                },
            ]
    denominators_upsert(rows=rows)
    return len(rows)
