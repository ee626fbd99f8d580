"""{{ cell|dashboard_cell }}: a table cell as the page shows it. One filter call per cell;
testing `cell.url` in the template failed (and was logged) on every plain cell, which cost
about a tenth of the dashboard's time."""

from django import template
from django.utils.html import format_html

from dashboard.tables import Link

register = template.Library()


@register.filter
def dashboard_cell(cell):
    if isinstance(cell, Link):
        return format_html('<a href="{}">{}</a>', cell.url, cell.text)
    return cell  # escaped (and localised) by the template like any value
