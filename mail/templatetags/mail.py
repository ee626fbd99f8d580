from django import template
from django.utils.safestring import mark_safe

from mail.inbound import sanitise_html

register = template.Library()


@register.filter
def mail_html(html: str) -> str:
    """A received HTML body, cleaned again on the way out (it was cleaned when stored; nh3
    is idempotent, so a row changed behind our back still cannot run script)."""
    return mark_safe(sanitise_html(html or "", {}, keep_local_images=True))


@register.inclusion_tag("mail/_suppressed_panel.html", takes_context=True)
def suppressed_panel(context, ticket) -> dict:
    """Addresses of this ticket that get no more mail after a permanent bounce, each with a
    button to resume. The page has already checked the viewer may read the ticket."""
    from mail.models import Suppression
    from mail.suppression import normalise

    addresses = [ticket.requester.email, *ticket.cc]
    rows = Suppression.objects.filter(
        address__in={normalise(a) for a in addresses if a}, cleared_at__isnull=True
    ).order_by("address")
    return {"ticket": ticket, "suppressed": list(rows), "request": context.get("request")}
