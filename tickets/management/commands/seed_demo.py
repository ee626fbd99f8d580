import os
import random
import sys
from datetime import timedelta
from importlib import import_module

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from tickets import services
from tickets.demo_content import (
    FIRST_NAMES,
    INTERNAL_NOTES,
    LAST_NAMES,
    ORGANISATIONS,
    SCENARIOS,
)
from tickets.models import AuthorType, ContactReason, Priority, Queue, QueueKind, Status, Ticket

QUEUES = [
    ("payments", "Payments", QueueKind.SUPPORT, True),
    ("payouts", "Payouts", QueueKind.SUPPORT, False),
    ("disputes", "Disputes", QueueKind.SUPPORT, False),
    ("api-integrations", "API & Integrations", QueueKind.SUPPORT, False),
    ("eng-payments", "Engineering — Payments", QueueKind.ENGINEERING, False),
    ("eng-platform", "Engineering — Platform", QueueKind.ENGINEERING, False),
]

# username, role, first and last name, time zone ("" follows the desk's, DESK_TIME_ZONE)
USERS = [
    ("admin", Role.ADMIN, "Ada", "Admin", ""),
    ("lead", Role.LEAD, "Lena", "Lead", "America/New_York"),
    ("agent", Role.AGENT, "Alex", "Agent", ""),
    ("engineer", Role.ENGINEER, "Erin", "Engineer", "Europe/Berlin"),
    ("maria", Role.AGENT, "Maria", "Costa", "Europe/Lisbon"),
    ("sam", Role.AGENT, "Sam", "Patel", "Europe/London"),
]

# The contact reason a demo ticket was opened with (DESIGN §9), by tag first, then by queue.
REASON_BY_TAG = {"verification": "account"}
REASON_BY_QUEUE = {
    "payouts": "payouts",
    "disputes": "disputes",
    "api-integrations": "api-errors",
    "payments": "card-payments",
}

PRIORITY_WEIGHTS = [
    (Priority.LOW, 2),
    (Priority.NORMAL, 6),
    (Priority.HIGH, 3),
    (Priority.URGENT, 1),
]


class Command(BaseCommand):
    help = (
        "Create a realistic demo desk: queues, calendars, SLA policies, escalation rules, demo "
        "logins (admin, lead, agent, engineer; password 'demo') and tickets with conversations. "
        "Refuses to run when DESK_ENV=production."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets", type=int, default=300, help="How many tickets (default 300)."
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the desk already has tickets."
        )
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")

    def handle(self, *args, tickets: int, if_empty: bool, seed: int, **options):
        if os.environ.get("DESK_ENV", "").lower() == "production":
            raise CommandError("seed_demo creates demo logins and never runs in production.")
        if tickets < 0 or tickets > 1_000_000:
            raise CommandError("--tickets must be between 0 and 1,000,000.")
        if if_empty and Ticket.objects.exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        rng = random.Random(seed)
        with transaction.atomic():
            queues = self._queues()
            users = self._users()
            for module, function in (
                ("sla.demo", "seed_sla"),
                ("workspace.demo", "seed_macros"),
                ("analytics.demo", "seed_saved_queries"),
                ("helpcenter.demo", "seed_helpcenter"),
            ):
                self._optional(module, function)
        agents = [u for u in users if u.role in (Role.AGENT, Role.LEAD)]
        # The SLA history is processed as the sweeper of a running desk did, moment by
        # moment, so firings read "on time"; its own generator keeps the tickets the same.
        replay = self._function("sla.demo", "replay_history")
        sweeps = random.Random(seed + 1)
        for done in range(1, tickets + 1):
            ticket = self._ticket(rng, queues, agents)
            if replay is not None:
                replay(ticket_id=ticket.pk, rng=sweeps)
            if done % 10 == 0 or done == tickets:
                self._progress(done, tickets)
        acknowledge = self._function("sla.demo", "acknowledge_old_escalations")
        if acknowledge is not None:
            acknowledge(rng=sweeps, older_than=timedelta(hours=2))
        self._optional("sla.demo", "recompute_all")
        # Survey answers on the solved tickets and contact-rate denominators (DESIGN §9).
        self._optional("csat.demo", "seed_csat")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo desk ready: {tickets} tickets. Log in as admin, lead, agent or engineer "
                "with password 'demo'."
            )
        )

    def _function(self, module: str, function: str):
        try:
            return getattr(import_module(module), function)
        except (ImportError, AttributeError):
            self.stderr.write(f"({module}.{function} not available; skipped)")
            return None

    def _optional(self, module: str, function: str) -> None:
        found = self._function(module, function)
        if found is not None:
            found()

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        sys.stderr.write(f"\r  tickets [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def _queues(self) -> dict[str, Queue]:
        queues = {}
        for slug, name, kind, default in QUEUES:
            queues[slug], _ = Queue.objects.update_or_create(
                slug=slug, defaults={"name": name, "kind": kind, "is_default": default}
            )
        return queues

    def _users(self) -> list[User]:
        users = []
        for username, role, first, last, zone in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "role": role,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@desk.example",
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                    "timezone": zone,
                },
            )
            if created:
                user.set_password("demo")
                user.save(update_fields=["password"])
            users.append(user)
        return users

    def _reason(self, scenario: dict) -> ContactReason | None:
        if not hasattr(self, "_reasons"):
            self._reasons = {r.slug: r for r in ContactReason.objects.all()}
        tagged = [REASON_BY_TAG[t] for t in scenario["tags"] if t in REASON_BY_TAG]
        slug = tagged[0] if tagged else REASON_BY_QUEUE.get(scenario["queue"], "other")
        return self._reasons.get(slug)

    def _ticket(self, rng: random.Random, queues: dict[str, Queue], agents: list[User]) -> Ticket:
        now = timezone.now()
        scenario = rng.choice(SCENARIOS)
        org_name, org_id, tier = rng.choice(ORGANISATIONS)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        values = {
            "po": f"po_{rng.getrandbits(40):010x}",
            "dp": f"dp_{rng.getrandbits(40):010x}",
            "re": f"re_{rng.getrandbits(40):010x}",
            "req": f"req_{rng.getrandbits(48):012x}",
            "req2": f"req_{rng.getrandbits(48):012x}",
            "evt": f"evt_{rng.getrandbits(48):012x}",
            "amount": f"${rng.randint(20, 90000):,}.{rng.randint(0, 99):02d}",
            "day": (now - timedelta(days=rng.randint(1, 4))).strftime("%A %d %B"),
            "ref": f"{rng.getrandbits(40):012d}",
            "last4": f"{rng.randint(0, 9999):04d}",
        }
        # Most demo tickets are recent so the desk shows running, warned and breached timers.
        age = timedelta(minutes=rng.choice([rng.randint(5, 600), rng.randint(60, 14 * 24 * 60)]))
        at = now - age
        priorities, weights = zip(*PRIORITY_WEIGHTS, strict=True)
        ticket = services.ticket_create(
            actor=None,
            subject=scenario["subject"].format(**values),
            description=scenario["description"].format(**values),
            requester_email=f"{first}.{last}@{org_id.removeprefix('acct_1').lower()}.example".lower(),
            requester_name=f"{first} {last}",
            organization={"name": org_name, "external_id": org_id, "tier": tier},
            priority=rng.choices(priorities, weights)[0],
            channel=rng.choice(["email", "email", "web", "api", "phone", "chat"]),
            queue=queues[scenario["queue"]],
            tags=scenario["tags"],
            contact_reason=self._reason(scenario),
            created_at=at,
        )
        agent = rng.choice(agents)
        if rng.random() < 0.75:
            services.ticket_update(ticket_id=ticket.pk, actor=agent, assignee=agent, at=at)
        step = age / 5
        plan = rng.choices(["new", "replied", "pending", "reopened", "solved"], [3, 3, 2, 2, 3])[0]
        if plan == "new":
            return ticket
        at += step * rng.uniform(0.2, 1.0)
        if rng.random() < 0.3:
            services.ticket_add_message(
                ticket_id=ticket.pk,
                actor=agent,
                body=rng.choice(INTERNAL_NOTES),
                public=False,
                created_at=at,
            )
        at += step * 0.1
        status = {"pending": Status.PENDING, "solved": Status.SOLVED}.get(plan, Status.OPEN)
        if plan == "reopened":
            status = Status.PENDING
        services.ticket_add_message(
            ticket_id=ticket.pk,
            actor=agent,
            body=scenario["replies"][0].format(**values),
            created_at=at,
            then_status=status,
        )
        if plan == "reopened":
            at += step
            services.ticket_add_message(
                ticket_id=ticket.pk,
                actor=None,
                author_type=AuthorType.REQUESTER,
                body=rng.choice(scenario["followups"]).format(**values),
                created_at=at,
            )
            if len(scenario["replies"]) > 1 and rng.random() < 0.5:
                at += step
                services.ticket_add_message(
                    ticket_id=ticket.pk,
                    actor=agent,
                    body=scenario["replies"][1].format(**values),
                    created_at=at,
                    then_status=Status.SOLVED,
                )
        elif plan == "solved" and rng.random() < 0.3:
            services.ticket_update(
                ticket_id=ticket.pk, actor=agent, status=Status.CLOSED, at=at + step
            )
        return ticket
