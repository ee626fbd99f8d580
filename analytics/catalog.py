"""The analytics views, documented column by column: the one place they are described.

analytics_setup creates the views (and their COMMENT ON VIEW/COLUMN) from this catalogue,
the page's schema browser lists it, and docs/analytics.md is generated from it
(`python manage.py analytics_setup --print-docs`). A view reads one base table (`b`) with
the rights of the views' owner, so the analytics role needs no right on any base table.

Columns name what they expose; anything secret (password and token hashes, sessions, raw
e-mails, idempotency records, survey and portal tokens) is simply never listed. A column
whose source column is missing from its table is left out when the view is created, and an
`optional` view exists only when its base table does (apps that land later).
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    doc: str
    # SQL over the base table aliased `b`; default `b.<name>`.
    expr: str | None = None
    # Base columns the expression needs; default (name,) when expr is None.
    needs: tuple[str, ...] = ()

    @property
    def sql(self) -> str:
        return self.expr or f'b."{self.name}"'

    @property
    def required_columns(self) -> tuple[str, ...]:
        return self.needs or (() if self.expr else (self.name,))


@dataclass(frozen=True)
class View:
    name: str
    table: str
    doc: str
    columns: tuple[Column, ...]
    optional: bool = False
    where: str = ""
    tags: tuple[str, ...] = field(default=())


def _c(name: str, doc: str, expr: str | None = None, *needs: str) -> Column:
    return Column(name, doc, expr, tuple(needs))


_ID = _c("id", "Primary key.")
_CREATED = _c("created_at", "When the row was created (UTC).")

VIEWS: tuple[View, ...] = (
    View(
        "tickets",
        "tickets_ticket",
        "One row per ticket. Subjects and descriptions are stored with card numbers masked.",
        (
            _ID,
            _c("subject", "Subject line (card numbers masked)."),
            _c("description", "The first message's text as the ticket was opened (masked)."),
            _c("status", "new, open, pending, on_hold, solved or closed."),
            _c("priority", "low, normal, high or urgent."),
            _c("channel", "How it arrived: api, email, web, phone or chat."),
            _c("queue_id", "The queue it sits in (queues.id)."),
            _c("assignee_id", "The agent it is assigned to (agents.id), or null."),
            _c("requester_id", "Who asked (requesters.id)."),
            _c("organization_id", "The requester's organization (organizations.id), or null."),
            _c("contact_reason_id", "Why they contacted us (contact_reasons.id), or null."),
            _c("tags", "Tags, a text array: use `'vip' = ANY(tags)`."),
            _c("external_id", "An id from another system, or empty."),
            _c("cc", "Other e-mail addresses copied on the conversation (text array)."),
            _c("opened_by_robot", "True when an automated sender opened it (RFC 3834)."),
            _c("merged_into_id", "The ticket it was merged into (tickets.id), or null."),
            _CREATED,
            _c("updated_at", "Last change (UTC)."),
            _c("solved_at", "When it was last solved (UTC), or null."),
            _c("next_due_at", "The earliest due time among its running SLA timers, or null."),
        ),
    ),
    View(
        "messages",
        "tickets_message",
        "Replies and internal notes. Bodies are stored with card numbers already masked.",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id)."),
            _c("author_type", "agent or requester."),
            _c("author_id", "The agent who wrote it (agents.id), null for requesters."),
            _c("public", "True for a reply the requester sees, false for an internal note."),
            _c("channel", "api, email, web or phone."),
            _c("body", "The text (card numbers masked)."),
            _CREATED,
        ),
    ),
    View(
        "ticket_events",
        "tickets_ticketevent",
        "The append-only history of every ticket: one row per change.",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id)."),
            _c("type", "What happened: created, message_added, status_changed, ..."),
            _c("at", "When it happened (UTC; back-dated for imports)."),
            _c("recorded_at", "When the desk recorded it (UTC)."),
            _c("actor_id", "Who did it (agents.id), or null for requesters and the system."),
            _c("data", 'Details as JSON, e.g. {"from": "open", "to": "pending"}.'),
        ),
    ),
    View(
        "sla_timers",
        "sla_slatimer",
        "SLA timers: one row per (ticket, metric, cycle), as the engine last computed them.",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id)."),
            _c("policy_id", "The SLA policy that set the target."),
            _c("metric", "first_reply, next_reply or resolution."),
            _c("cycle", "Numbers a metric's timers from 1 (each next_reply is a new cycle)."),
            _c("status", "active, paused, met, breached or cancelled."),
            _c("target_minutes", "The target, in minutes of the policy's basis."),
            _c("business_hours", "True when the target counts business hours only."),
            _c("started_at", "When the timer started (UTC)."),
            _c("due_at", "When it is (or was) due (UTC); null while paused."),
            _c("warning_at", "When the warning fires (UTC)."),
            _c("fulfilled_at", "When the reply or resolution came (UTC), or null."),
            _c("breached_at", "When it breached (UTC), or null."),
            _c("cancelled_at", "When it was cancelled (UTC), or null."),
            _c("elapsed_seconds", "Time counted toward the target (business time, unpaused)."),
        ),
    ),
    View(
        "escalations",
        "sla_escalation",
        "Escalations: rule firings and manual escalations to Engineering.",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id)."),
            _c("rule_id", "The escalation rule that fired, or null for a manual one."),
            _c("level", "1 for the first escalation of a ticket, and so on."),
            _c("metric", "The SLA metric whose warning or breach fired it, or empty."),
            _c("cycle", "The timer cycle that fired it."),
            _c("reason", "Why, in words."),
            _c("from_queue_id", "The queue it left (queues.id), or null."),
            _c("to_queue_id", "The queue it was sent to (queues.id), or null (notify only)."),
            _c("created_by_id", "Who escalated manually (agents.id), or null."),
            _c("fire_at", "When the rule was due to fire (UTC)."),
            _CREATED,
            _c("late", "True when it fired after its due time."),
            _c("acknowledged_at", "When Engineering acknowledged it (UTC), or null."),
            _c("acknowledged_by_id", "Who acknowledged it (agents.id), or null."),
        ),
    ),
    View(
        "requesters",
        "tickets_requester",
        "The customers who contact the desk.",
        (
            _ID,
            _c("email", "Their e-mail address."),
            _c("name", "Their name (card numbers masked)."),
            _c("organization_id", "Their organization (organizations.id), or null."),
            _CREATED,
        ),
    ),
    View(
        "organizations",
        "tickets_organization",
        "The merchants our requesters belong to.",
        (
            _ID,
            _c("name", "Name."),
            _c("external_id", "The account id in the payments platform."),
            _c("tier", "standard, premium or enterprise."),
            _CREATED,
        ),
    ),
    View(
        "agents",
        "accounts_user",
        "People who use the desk: agents, leads, engineers and admins. No credentials.",
        (
            _ID,
            _c("username", "Sign-in name."),
            _c(
                "name",
                "First and last name.",
                "btrim(b.first_name || ' ' || b.last_name)",
                "first_name",
                "last_name",
            ),
            _c("role", "agent, lead, engineer or admin."),
            _c("is_active", "False for people who may no longer sign in."),
        ),
    ),
    View(
        "queues",
        "tickets_queue",
        "Queues tickets sit in.",
        (
            _ID,
            _c("slug", "Short name used in URLs and the API."),
            _c("name", "Display name."),
            _c("kind", "support or engineering."),
            _c("is_default", "True for the queue new tickets go to."),
        ),
    ),
    View(
        "contact_reasons",
        "tickets_contactreason",
        "Why customers contact us (the contact form's list).",
        (
            _ID,
            _c("slug", "Short name, e.g. payouts."),
            _c("name", "Display name."),
            _c("position", "Order in the list."),
            _c("active", "False for reasons no longer offered."),
        ),
    ),
    # --- views over apps that may not be installed yet: created when their table exists ---
    View(
        "calls",
        "phone_call",
        "Phone calls logged on tickets.",
        (
            _ID,
            _c("call_id", "The telephony system's id of the call."),
            _c("ticket_id", "The ticket it belongs to (tickets.id)."),
            _c("direction", "inbound or outbound."),
            _c("from_number", "Caller's number (E.164)."),
            _c("to_number", "Called number (E.164)."),
            _c("started_at", "When the call started (UTC)."),
            _c("ended_at", "When it ended (UTC), or null."),
            _c("outcome", "answered, missed, voicemail or callback_requested."),
            _c("agent_id", "The agent on the call (agents.id), or null."),
            _CREATED,
        ),
        optional=True,
    ),
    View(
        "csat_responses",
        "csat_survey",
        "Satisfaction surveys, one per solve, with the rating when answered.",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id)."),
            _c("agent_id", "The agent credited with the solve (agents.id), or null."),
            _c("status", "pending, sent, answered, expired or void."),
            _c("solved_at", "The solve the survey is about (UTC)."),
            _c("sent_at", "When the survey was sent (UTC), or null."),
            _c("responded_at", "When it was answered (UTC), or null."),
            _c("rating", "1 to 5, or null."),
            _c("comment", "The customer's comment, or empty."),
        ),
        optional=True,
    ),
    View(
        "articles",
        "helpcenter_article",
        "Help-center articles.",
        (
            _ID,
            _c("slug", "Short name in the URL."),
            _c("title", "Title."),
            _c("category_id", "Category id."),
            _c("status", "draft or published."),
            _c("visibility", "public or internal."),
            _c("tags", "Tags (text array)."),
            _c("author_id", "Who wrote it (agents.id), or null."),
            _CREATED,
            _c("updated_at", "Last change (UTC)."),
        ),
        optional=True,
    ),
    View(
        "article_feedback",
        "helpcenter_articlevote",
        '"Was this helpful?" votes: one per visitor per article.',
        (
            _ID,
            _c("article_id", "The article (articles.id)."),
            _c("helpful", "True for yes, false for no."),
            _CREATED,
            _c("updated_at", "When the vote last changed (UTC)."),
        ),
        optional=True,
    ),
    View(
        "article_views",
        "helpcenter_articleview",
        "Public article page views (the self-service score's numerator).",
        (
            _ID,
            _c("article_id", "The article (articles.id)."),
            _c("at", "When it was viewed (UTC)."),
        ),
        optional=True,
    ),
    View(
        "denominators",
        "csat_denominator",
        "Imported daily figures for contact rates: active accounts and payments.",
        (
            _ID,
            _c("date", "The day."),
            _c("metric", "active_accounts or payments."),
            _c("segment", "all, or a tier."),
            _c("value", "The figure."),
        ),
        optional=True,
    ),
    View(
        "email_messages",
        "mail_emailmessage",
        "E-mail metadata, inbound and outbound (no bodies, no raw messages).",
        (
            _ID,
            _c("ticket_id", "The ticket (tickets.id), or null."),
            _c("message_id", "The conversation message (messages.id), or null."),
            _c("direction", "inbound or outbound."),
            _c("kind", "What kind of mail it is (reply, acknowledgement, bounce, ...)."),
            _c("from_address", "Sender's address."),
            _c("to", "Recipients (text array)."),
            _c("cc", "Copied addresses (text array)."),
            _c("subject", "Subject (card numbers masked)."),
            _c("auto_submitted", "True for automated mail (RFC 3834)."),
            _c("delivery_status", "queued, sent, failed, bounced or received."),
            _c("bounce_reason", "Why it bounced, or empty."),
            _c("attempts", "Send attempts so far."),
            _c("sent_at", "When it was sent (UTC), or null."),
            _CREATED,
        ),
        optional=True,
    ),
    View(
        "inbound_emails",
        "mail_inboundemail",
        "Every inbound e-mail as received, without its raw content.",
        (
            _ID,
            _c("door", "How it came in: smtp, http or pipe."),
            _c("size", "Size in bytes."),
            _c("status", "Processing status."),
            _c("attempts", "Processing attempts."),
            _c("received_at", "When it was received (UTC)."),
            _c("processed_at", "When it was processed (UTC), or null."),
            _c("ticket_id", "The ticket it went to (tickets.id), or null."),
            _c("message_id", "The conversation message (messages.id), or null."),
        ),
        optional=True,
    ),
)

VIEWS_BY_NAME = {v.name: v for v in VIEWS}


def markdown() -> str:
    """The catalogue as Markdown, for docs/analytics.md."""
    lines = []
    for view in VIEWS:
        note = " *(when its app is installed)*" if view.optional else ""
        lines += [f"### `{view.name}`{note}", "", view.doc, "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{c.name}` | {c.doc.replace('|', '/')} |" for c in view.columns]
        lines.append("")
    return "\n".join(lines)
