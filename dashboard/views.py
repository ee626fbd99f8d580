"""/dashboard/ for leads and admins: the page, its CSV exports and the at-risk poll."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from sla.models import SlaPolicy
from support_desk.errors import InvalidRequest
from tickets.models import Channel, ContactReason, Priority, Queue, Tier

from .charts import chart_specs
from .params import parse_filters, parse_period
from .report import DashboardReport
from .support_metrics import parse_support_filters
from .support_tables import TABLES as SUPPORT_TABLES
from .support_tables import SupportReport
from .tables import BUILDERS
from .tiles import tiles

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _lead_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_lead_or_admin:
            raise PermissionDenied("Only team leads and admins see the dashboard.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _report(request) -> DashboardReport:
    return DashboardReport(
        period=parse_period(request.GET), filters=parse_filters(request.GET), now=timezone.now()
    )


def _choices(request, error=None, report: DashboardReport | None = None) -> dict:
    return {
        "queues": report.queues if report else Queue.objects.all(),
        "policies": report.policies if report else SlaPolicy.objects.all(),
        "priorities": Priority.choices,
        "tiers": Tier.choices,
        "channels": Channel.choices,
        "selected": request.GET,
        "error": error,
    }


@require_GET
@_lead_only
def dashboard(request):
    try:
        report = _report(request)
        # Contacts, CSAT, deflection (DESIGN §9): dashboard.support_metrics, as the API.
        support = SupportReport(period=report.period, filters=parse_support_filters(request.GET))
        if request.GET.get("format") == "csv":
            return _csv(request.GET.get("table", ""), report, support)
        if request.GET.get("part") == "support":
            return _support_part(request, support)
    except InvalidRequest as error:
        return render(request, "dashboard/dashboard.html", _choices(request, error), status=400)
    tables = {name: build(report) for name, build in BUILDERS.items()}
    context = {
        **_choices(request, report=report),
        "report": report,
        "tables": tables,
        "charts": chart_specs(report),
        "tiles": tiles(report),
        "filter_query": report.filters.query,
        "period_query": {
            "from": report.period.start.date().isoformat(),
            "to": report.period.end.date().isoformat(),
        },
    }
    return render(request, "dashboard/dashboard.html", context)


@require_GET
@_lead_only
def at_risk(request):
    """The at-risk table alone; the page polls it with htmx."""
    try:
        report = _report(request)
    except InvalidRequest:
        return HttpResponse("Invalid filters.", status=400)
    table = BUILDERS["at_risk"](report)
    return render(request, "dashboard/_table.html", {"table": table, "poll": True})


def _support_part(request, support: SupportReport):
    """The support figures, loaded by the page after it renders (htmx) so the SLA figures
    are not kept waiting; opened directly (no JavaScript) it is a page of its own."""
    context = {
        "support_tiles": support.tiles(),
        "support_tables": support.tables(),
        "reasons": ContactReason.objects.filter(active=True),
        "selected": request.GET,
    }
    if request.headers.get("HX-Request"):
        return render(request, "dashboard/_support.html", context)
    return render(
        request, "dashboard/support.html", {**context, "report": support, "standalone": True}
    )


def _csv(name: str, report: DashboardReport, support: SupportReport) -> HttpResponse:
    if name in SUPPORT_TABLES:
        table = support.table(name)
    elif name in BUILDERS:
        table = BUILDERS[name](report)
    else:
        names = [*BUILDERS, *SUPPORT_TABLES]
        raise InvalidRequest(f"Must be one of {', '.join(names)}.", param="table")
    period = f"{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{period}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return response


def _safe_cell(value) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
