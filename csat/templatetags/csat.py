"""{% csat_panel ticket %}: the ticket's satisfaction surveys on the workspace ticket page.
The page has already checked the viewer may read the ticket."""

from django import template

from ..selectors import surveys_of_ticket

register = template.Library()


@register.inclusion_tag("csat/_ticket_panel.html")
def csat_panel(ticket) -> dict:
    return {"surveys": surveys_of_ticket(ticket_id=ticket.pk)}
