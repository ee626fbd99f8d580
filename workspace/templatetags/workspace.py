"""Template helpers: Markdown through a sanitiser, SLA badges, readable durations, times in
the viewer's zone."""

from datetime import UTC, datetime

import markdown as markdown_lib
import nh3
from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

register = template.Library()

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "h3",
    "h4",
}


@register.filter
def render_markdown(text: str) -> str:
    """User text as Markdown, then cleaned by nh3: no scripts, no attributes but safe links."""
    html = markdown_lib.markdown(text or "", extensions=["fenced_code", "nl2br"])
    # nh3 has just removed everything unsafe, so the result may be marked safe.
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes={"a": {"href", "title"}},
            link_rel="noopener noreferrer nofollow",
        )
    )


def format_minutes(total_minutes: int) -> str:
    """A business duration as people say it: "8 h 30 min", "45 min", "2 h". No days: a
    business day is as long as the calendar says, so "1 d" would mislead."""
    hours, mins = divmod(max(int(total_minutes), 0), 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"


@register.filter
def duration(total_minutes: int | None) -> str:
    return "—" if total_minutes is None else format_minutes(total_minutes)


@register.filter
def duration_seconds(seconds: int | None) -> str:
    return "—" if seconds is None else format_minutes(int(seconds) // 60)


def _utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@register.filter
def utc_iso(value: datetime | None) -> str:
    """Machine-readable instants (data attributes, <time datetime>) stay in UTC."""
    if not value:
        return ""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@register.filter
def utc_text(value: datetime | None) -> str:
    return _utc_text(value) if value else ""


@register.filter
def when(value: datetime | None, fmt: str = "M j, H:i") -> str:
    """An instant in the viewer's time zone (activated per request from their profile),
    with the UTC time on hover."""
    if not value:
        return "—"
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc_iso(value),
        _utc_text(value),
        dateformat.format(timezone.localtime(value), fmt),
    )


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago ("3 hours ago"), with the local and the UTC time on hover."""
    if not value:
        return "—"
    local = dateformat.format(timezone.localtime(value), "M j, H:i T")
    return format_html(
        '<time datetime="{}" title="{} · {}">{} ago</time>',
        utc_iso(value),
        local,
        _utc_text(value),
        timesince(value, timezone.now()),
    )


@register.inclusion_tag("workspace/_badge.html")
def sla_badge(badge):
    return {"badge": badge}


@register.filter
def event_text(event) -> str:
    data = event.data or {}
    kind = event.type
    if kind == "status_changed":
        return f"status {data.get('previous', '?')} → {data.get('status')}"
    if kind == "priority_changed":
        return f"priority {data.get('previous', '?')} → {data.get('priority')}"
    if kind == "queue_changed":
        return f"queue {data.get('previous', '?')} → {data.get('queue')}"
    if kind == "assignee_changed":
        return f"assignee {data.get('previous') or 'nobody'} → {data.get('assignee') or 'nobody'}"
    if kind == "tags_changed":
        return f"tags → {', '.join(data.get('tags', [])) or 'none'}"
    if kind == "message_added":
        if data.get("author_type") == "requester":
            return "customer message"
        return "public reply" if data.get("public") else "internal note"
    if kind == "sla_breached":
        return f"{data.get('metric', '').replace('_', ' ')} SLA breached"
    if kind == "sla_warning":
        return f"{data.get('metric', '').replace('_', ' ')} SLA at risk"
    if kind == "escalated":
        target = data.get("to_queue") or ""
        return f"escalated{' to ' + target if target else ''}" + (
            f" (rule: {data['rule']})" if data.get("rule") else ""
        )
    if kind == "escalation_acknowledged":
        return "escalation acknowledged"
    if kind == "created":
        return f"created via {data.get('channel', '?')} ({data.get('priority', '')})"
    return kind.replace("_", " ")


@register.filter
def metric_label(metric: str) -> str:
    return (metric or "").replace("_", " ").capitalize()
