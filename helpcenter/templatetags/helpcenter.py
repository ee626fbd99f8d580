from django import template

from helpcenter.markdown import render_markdown
from helpcenter.selectors import can_write_articles

register = template.Library()


@register.filter
def article_markdown(text: str):
    return render_markdown(text)


@register.inclusion_tag("helpcenter/desk/_ticket_panel.html", takes_context=True)
def kb_panel(context, ticket):
    """The ticket page's knowledge-base panel: find an article and insert its link into the
    reply; "Create article from this ticket" for those who write articles."""
    user = context.get("user")
    return {"ticket": ticket, "can_write": can_write_articles(user)}
