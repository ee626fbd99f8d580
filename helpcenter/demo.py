"""Demo help center for seed_demo: the articles a payments merchant searches for, one
internal runbook, one draft, and 90 days of contact-form visits, article views and votes so
the dashboard's deflection rate and self-service score have something to show."""

import random
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import Article, ArticleStatus, ArticleView, ArticleVote, Category, FormVisit

CATEGORIES = [
    ("payouts", "Payouts", 1),
    ("disputes", "Disputes and chargebacks", 2),
    ("card-payments", "Card payments", 3),
    ("api", "API and integrations", 4),
    ("account", "Your account", 5),
]

# slug, category, title, tags, body (Markdown)
ARTICLES = [
    (
        "payout-timing-and-schedules",
        "payouts",
        "Payout timing and schedules",
        ["payouts", "schedule", "settlement"],
        "Card payments settle into your balance after **2 business days** (7 days for new "
        "accounts during their first month). From there, payouts follow your schedule:\n\n"
        "- **Daily**: every business day, the funds that settled that day.\n"
        "- **Weekly**: every Monday by default; choose another weekday in *Settings → Payouts*.\n"
        "- **Monthly**: on the 1st, or the next business day.\n\n"
        "Bank holidays in your bank's country delay a payout by a day. The expected arrival "
        "date of each payout is shown on *Balance → Payouts*; most banks credit it the same "
        "day, some the next morning.",
    ),
    (
        "failed-payouts",
        "payouts",
        "Why a payout failed, and what happens next",
        ["payouts", "failed", "bank account"],
        "A payout fails when your bank returns it. The failure code tells you why:\n\n"
        "| Code | Meaning | What to do |\n|---|---|---|\n"
        "| `account_closed` | The bank account is closed | Add a new bank account |\n"
        "| `invalid_account_number` | The number does not exist | Check the IBAN or number |\n"
        "| `account_frozen` | Your bank froze the account | Contact your bank |\n"
        "| `debit_not_authorized` | Only for debits | Allow debits from us with your bank |\n\n"
        "The amount returns to your balance within 5 business days and payouts pause until "
        "the bank account is updated. After an update, the next payout waits 3 days as a "
        "security measure.",
    ),
    (
        "dispute-evidence-and-deadlines",
        "disputes",
        "Dispute evidence and response deadlines",
        ["disputes", "chargeback", "evidence"],
        "When a cardholder disputes a payment, the amount and a dispute fee are withdrawn "
        "from your balance. You can counter it **before the deadline shown on the dispute** "
        "(usually 7 to 21 days, set by the card network); after it, the dispute is lost.\n\n"
        "Strong evidence, depending on the reason:\n\n"
        "1. *Product not received*: carrier tracking showing delivery to the address given.\n"
        "2. *Fraudulent*: the customer's IP address, 3-D Secure result, earlier undisputed "
        "orders from the same card.\n"
        "3. *Subscription cancelled*: your cancellation policy as shown at checkout, and the "
        "customer's usage after the date they claim.\n\n"
        "Submit everything at once: you cannot add evidence later. The bank decides within "
        "60 to 75 days.",
    ),
    (
        "decline-codes",
        "card-payments",
        "Card decline codes explained",
        ["declines", "cards", "do_not_honor", "insufficient_funds"],
        "A decline comes from the card's issuer, not from us. The most common codes:\n\n"
        "- `insufficient_funds`: ask the customer for another card.\n"
        "- `do_not_honor`: the issuer gave no reason; the cardholder should call their bank.\n"
        "- `card_velocity_exceeded`: too many attempts; wait before retrying.\n"
        "- `incorrect_cvc`, `expired_card`: the details are wrong.\n"
        "- `authentication_required`: retry with 3-D Secure (see "
        "[3-D Secure](/help/articles/3d-secure-authentication/)).\n\n"
        "Do not retry a declined card more than a few times: issuers flag repeated attempts.",
    ),
    (
        "3d-secure-authentication",
        "card-payments",
        "3-D Secure authentication",
        ["3ds", "sca", "authentication"],
        "3-D Secure (3DS) asks the cardholder to confirm a payment in their bank's app. In "
        "the EEA and the UK, Strong Customer Authentication makes it mandatory for most "
        "online payments. A payment that completed 3DS moves the liability for fraud "
        "disputes to the issuer.\n\n"
        "If customers abandon at the 3DS step, check that your checkout opens the challenge "
        "in a modal (not a blocked pop-up) and that the return URL is reachable.",
    ),
    (
        "api-authentication-errors-401",
        "api",
        "API error 401: authentication failed",
        ["api", "401", "api keys"],
        "A `401` means the request carried no key, or a key we do not recognise. Check that "
        "the header is `Authorization: Bearer sk_live_…`, that you are not mixing test keys "
        "with live mode objects, and that the key was not rolled (see "
        "[Rotating API keys](/help/articles/rotating-api-keys/)).",
    ),
    (
        "api-errors-402-and-429",
        "api",
        "API errors 402 and 429: request failed, rate limited",
        ["api", "402", "429", "rate limit"],
        "`402 Request Failed`: the parameters were valid but the request failed, usually a "
        "card decline; read `error.code` and `error.decline_code`.\n\n"
        "`429 Too Many Requests`: you sent more than 100 requests per second in live mode "
        "(25 in test mode). Retry with exponential back-off and jitter, and spread batch "
        "jobs over time. The `Retry-After` header says how long to wait.",
    ),
    (
        "idempotency-keys",
        "api",
        "Retrying safely with idempotency keys",
        ["api", "idempotency", "retries"],
        "Send an `Idempotency-Key` header (a random UUID per operation) on every POST. If "
        "the connection drops, retry with the **same key**: we return the first result "
        "instead of creating a second charge or refund. Keys are kept for 24 hours; reusing "
        "a key with different parameters returns a `409`.",
    ),
    (
        "webhook-signatures-and-retries",
        "api",
        "Webhooks: verifying signatures and retries",
        ["webhooks", "signatures", "retries"],
        "Every webhook carries a `Signature` header: an HMAC-SHA256 of the timestamp and the "
        "raw body with your endpoint's signing secret. Verify it against the **raw** request "
        "body (not re-serialised JSON) and reject timestamps older than 5 minutes.\n\n"
        "Answer with a 2xx within 10 seconds, then do the work. Failed deliveries are "
        "retried with back-off for up to 3 days; events can arrive more than once and out "
        "of order, so make your handler idempotent on the event id.",
    ),
    (
        "refunds",
        "card-payments",
        "Refunds: how long they take",
        ["refunds", "cards"],
        "A refund is sent to the card's issuer at once; the cardholder sees it after 5 to "
        "10 business days, depending on their bank. Processing fees of the original payment "
        "are not returned. You can refund up to the original amount, in several parts, for "
        "up to 180 days after the payment.",
    ),
    (
        "test-mode",
        "api",
        "Test mode and test cards",
        ["test mode", "sandbox", "test cards"],
        "Test mode uses `sk_test_` keys and moves no money. The test cards are listed in "
        "the dashboard under Developers → Test cards: the one ending 4242 always succeeds, "
        "the one ending 0002 is declined and the one ending 3184 asks for 3-D Secure, each "
        "with any future date and CVC. Objects created in test mode never appear in live "
        "mode.",
    ),
    (
        "rotating-api-keys",
        "account",
        "Rotating API keys",
        ["api keys", "security", "rotation"],
        "Roll a key in *Developers → API keys → Roll key*. You can keep the old key working "
        "for up to 7 days while you deploy the new one. Roll at once, without overlap, if a "
        "key was exposed (committed to a repository, pasted in a ticket).",
    ),
]

INTERNAL = (
    "payout-investigation-runbook",
    "payouts",
    "Runbook: investigating a missing payout",
    ["runbook", "payouts"],
    "Internal. 1) Find the payout id in the admin and its bank trace (`trace_id`). 2) If "
    "the trace is older than 5 business days, open a recall with the banking partner. "
    "3) Never promise a date to the merchant before the partner confirms.",
)
DRAFT = (
    "instant-payouts",
    "payouts",
    "Instant payouts (coming soon)",
    ["payouts", "instant"],
    "Draft: instant payouts to debit cards, 1% fee, available 24/7.",
)

DAYS = 90


@transaction.atomic
def seed_helpcenter(seed: int = 11) -> None:
    now = timezone.now()
    categories = {}
    for slug, name, position in CATEGORIES:
        categories[slug], _ = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "position": position}
        )
    articles = []
    rows = [(a, ArticleStatus.PUBLISHED, "public") for a in ARTICLES]
    rows += [
        (INTERNAL, ArticleStatus.PUBLISHED, "internal"),
        (DRAFT, ArticleStatus.DRAFT, "public"),
    ]
    for (slug, category, title, tags, body), status, visibility in rows:
        article, _ = Article.objects.update_or_create(
            slug=slug,
            defaults={
                "title": title,
                "body": body,
                "category": categories[category],
                "tags": tags,
                "status": status,
                "visibility": visibility,
                "updated_at": now - timedelta(days=len(articles) * 3),
            },
            create_defaults={
                "title": title,
                "body": body,
                "category": categories[category],
                "tags": tags,
                "status": status,
                "visibility": visibility,
                "created_at": now - timedelta(days=DAYS + 30),
                "updated_at": now - timedelta(days=len(articles) * 3),
            },
        )
        if visibility == "public" and status == ArticleStatus.PUBLISHED:
            articles.append(article)
    if FormVisit.objects.exists():
        return  # the history was seeded before
    _history(random.Random(seed), articles, now)


def _history(rng: random.Random, articles: list[Article], now) -> None:
    """Visits, views and votes over the last 90 days. Popular articles get most views (a
    long tail); about 40 % of visits that opened an article send no ticket."""
    visitors = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(2500)]
    weights = [1 / (n + 1) for n in range(len(articles))]
    visits, views, votes = [], [], {}
    for day in range(DAYS, 0, -1):
        start = now - timedelta(days=day)
        # About as many form visits as the demo desk gets web tickets a day.
        for _ in range(rng.randint(4, 10)):
            visitor = rng.choice(visitors)
            at = start + timedelta(seconds=rng.randint(0, 86_399))
            shown = rng.choice([0, 1, 2, 3, 5])
            opened = rng.choice([0, 1, 1, 2]) if shown and rng.random() < 0.55 else 0
            submits = rng.random() < (0.6 if opened else 0.85)
            visits.append(
                FormVisit(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    visitor=visitor,
                    started_at=at,
                    suggestions_shown=shown,
                    articles_opened=opened,
                    submitted_at=at + timedelta(minutes=rng.randint(2, 20)) if submits else None,
                )
            )
            for n in range(opened):
                views.append(
                    (rng.choices(articles, weights)[0], visitor, at + timedelta(minutes=n))
                )
        for _ in range(rng.randint(40, 90)):  # readers who came from search or a link
            views.append(
                (
                    rng.choices(articles, weights)[0],
                    rng.choice(visitors),
                    start + timedelta(seconds=rng.randint(0, 86_399)),
                )
            )
    FormVisit.objects.bulk_create(visits, batch_size=2000)
    ArticleView.objects.bulk_create(
        (ArticleView(article=a, visitor=v, at=at) for a, v, at in views), batch_size=5000
    )
    for article, visitor, at in views:
        if rng.random() < 0.08:
            votes[(article.pk, visitor)] = ArticleVote(
                article=article, visitor=visitor, helpful=rng.random() < 0.78,
                created_at=at, updated_at=at,
            )  # fmt: skip
    ArticleVote.objects.bulk_create(votes.values(), batch_size=2000, ignore_conflicts=True)
