"""Template helpers: Markdown through a sanitiser, SLA badges, readable durations."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

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


@register.filter
def minutes(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    total = int(seconds) // 60
    hours, mins = divmod(total, 60)
    return f"{hours} h {mins:02d} min" if hours else f"{mins} min"


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
