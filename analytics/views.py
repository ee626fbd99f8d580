"""/analytics/ for leads and admins: the SQL console (works without JavaScript: every
action is a form POST; static/analytics/analytics.js adds Ctrl+Enter and the chart)."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from support_desk.errors import ApplicationError, InvalidRequest

from . import services
from .models import ParameterType, QueryRun, SavedQuery
from .sqlcheck import bind_parameters

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHART_ROWS = 1000
AUDIT_ROWS = 50
EXAMPLE = "SELECT status, count(*) AS tickets\nFROM tickets\nGROUP BY status\nORDER BY tickets DESC"


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_response(result, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(c) for c in result.columns])
    for row in result.rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return response


def _lead_only(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_lead_or_admin:
            raise PermissionDenied("Only team leads and admins use SQL analytics.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _saved(raw) -> SavedQuery | None:
    if raw in (None, "") or not str(raw).isdigit():
        return None
    return SavedQuery.objects.filter(pk=int(raw)).first()


def _parameters(sql: str, saved: SavedQuery | None, data) -> list[dict]:
    """The inputs the SQL's :names need: typed as the saved query declares, text otherwise."""
    try:
        names = bind_parameters(sql).names
    except ApplicationError:
        return []
    declared = {p["name"]: p for p in (saved.parameters if saved and saved.sql == sql else [])}
    out = []
    for name in names:
        spec = declared.get(name, {})
        kind = spec.get("type", ParameterType.TEXT)
        value = data.get(f"p_{name}") if data is not None else None
        if value is None:
            value = spec.get("default") or ""
        input_type = {"date": "date", "int": "number", "number": "text"}.get(kind, "text")
        out.append({"name": name, "type": kind, "input": input_type, "value": value})
    return out


def _context(request, **extra) -> dict:
    context = {
        "views": services.schema_browser(),
        "saved_queries": SavedQuery.objects.all(),
        "parameter_types": ParameterType.choices,
        "max_rows": None,
    }
    if request.user.is_admin_role:
        context["audit"] = QueryRun.objects.select_related("user")[:AUDIT_ROWS]
    context.update(extra)
    return context


@require_http_methods(["GET", "POST"])
@_lead_only
def console(request):
    if request.method == "GET":
        saved = _saved(request.GET.get("saved"))
        sql = saved.sql if saved else request.GET.get("sql", EXAMPLE)
        return render(
            request,
            "analytics/console.html",
            _context(request, sql=sql, saved=saved, parameters=_parameters(sql, saved, None)),
        )
    action = request.POST.get("action", "run")
    if action == "save":
        return _save(request)
    if action == "delete":
        saved = _saved(request.POST.get("saved"))
        if saved is not None:
            services.saved_query_delete(saved_query=saved)
        return redirect("analytics")
    return _run(request, csv_download=action == "csv")


def _run(request, *, csv_download: bool):
    sql = request.POST.get("sql", "")
    saved = _saved(request.POST.get("saved"))
    parameters = _parameters(sql, saved, request.POST)
    context = _context(request, sql=sql, saved=saved, parameters=parameters)
    try:
        result = services.query_run(
            user=request.user,
            sql=sql,
            params={p["name"]: p["value"] for p in parameters},
            saved_query=saved if saved and saved.sql == sql else None,
        )
    except ApplicationError as error:
        context["error"] = error
        return render(request, "analytics/console.html", context, status=error.status)
    if csv_download:
        name = (saved.name if saved else "query").lower().replace(" ", "-")[:40]
        return csv_response(result, f"{name}-{timezone.now():%Y%m%d-%H%M}.csv")
    context["result"] = result
    context["chart"] = {"columns": result.columns, "rows": result.rows[:CHART_ROWS]}
    return render(request, "analytics/console.html", context)


def _parse_parameters(text: str) -> list[dict]:
    """`since:date=2026-01-01, queue:text` -> [{name, type, default}, ...]."""
    out = []
    for part in filter(None, (p.strip() for p in text.replace("\n", ",").split(","))):
        spec, _, default = part.partition("=")
        name, _, kind = spec.partition(":")
        kind = kind.strip().lower() or ParameterType.TEXT
        if kind not in ParameterType.values:
            raise InvalidRequest(
                f"{kind!r} is not a type; use one of {', '.join(ParameterType.values)}.",
                param="parameters",
            )
        item = {"name": name.strip().lower(), "type": kind}
        if default.strip():
            item["default"] = default.strip()
        out.append(item)
    return out


def _save(request):
    sql = request.POST.get("sql", "")
    saved = _saved(request.POST.get("saved"))
    if request.POST.get("as_new"):
        saved = None
    try:
        saved = services.saved_query_save(
            saved_query=saved,
            user=request.user,
            name=request.POST.get("name", "").strip()[:120] or "Untitled query",
            description=request.POST.get("description", "").strip(),
            sql=sql,
            parameters=_parse_parameters(request.POST.get("parameters", "")),
        )
    except ApplicationError as error:
        context = _context(
            request, sql=sql, saved=saved, parameters=_parameters(sql, saved, request.POST)
        )
        context["error"] = error
        return render(request, "analytics/console.html", context, status=error.status)
    return redirect(f"{reverse('analytics')}?saved={saved.pk}")
