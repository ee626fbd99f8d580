from django import template
from django.utils.safestring import mark_safe

from mail.inbound import sanitise_html

register = template.Library()


@register.filter
def mail_html(html: str) -> str:
    """A received HTML body, cleaned again on the way out (it was cleaned when stored; nh3
    is idempotent, so a row changed behind our back still cannot run script)."""
    return mark_safe(sanitise_html(html or "", {}, keep_local_images=True))
