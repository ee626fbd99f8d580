"""The agent workspace: thin views over tickets' and sla's services and our selectors.

Every change posts through htmx and gets the re-rendered ticket back (no full reload); a
form carries the ticket version it was rendered with, so a change made meanwhile by someone
else is shown to the agent instead of being overwritten, and the draft is kept."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from rest_framework import serializers

from mail import selectors as mail_selectors
from sla import selectors as sla_selectors
from sla import services as sla_services
from sla.visibility import acknowledgeable
from support_desk.errors import ApplicationError, NotFound, PreconditionFailed
from tickets import services as ticket_services
from tickets import visibility
from tickets.api.filters import TicketFilter
from tickets.attachments import attachment_add, attachment_check_size, attachment_filename
from tickets.merging import ticket_merge as merge_tickets
from tickets.models import Priority, Status, Ticket
from tickets.visibility import Access

from . import selectors, services
from .forms import BulkForm, EscalateForm, ProfileForm, ReplyForm, TicketUpdateForm
from .macros import macro_render
from .models import Macro


def _template(request, full: str, partial: str) -> str:
    """htmx polling asks for the rows only."""
    return partial if request.htmx and request.htmx.target == "queue-rows" else full


FILTER_LABELS = {"q": "Search", "sla": "SLA state"}


def _filter_errors(errors: dict) -> list[str]:
    """One line per problem, naming the filter: "Status: “exploded” is not a status…"."""
    lines = []
    for name, problems in errors.items():
        label = FILTER_LABELS.get(name, name.replace("_", " ").capitalize())
        lines += [f"{label}: {problem}" for problem in problems]
    return lines


def _queue_page(request, *, base, title: str, queue=None, search_page: bool = False):
    """A list of tickets with the filter form. Empty form values mean "any"; a bad value
    shows what is wrong and no rows (never a silently unfiltered list). Queues and My
    tickets show unsolved tickets unless a status is chosen; search shows every status."""
    filters = TicketFilter(request.GET, queryset=base, request=request)
    errors: list[str] = []
    qs = base.none()
    if filters.is_valid():
        try:
            qs = filters.qs
        except serializers.ValidationError as error:  # a filter method refused its value
            errors = _filter_errors(error.detail)
    else:
        errors = _filter_errors(filters.errors)
    chosen_status = bool(filters.form.cleaned_data.get("status")) if not errors else False
    qs = selectors.queue_tickets(base=qs, unsolved_only=not (search_page or chosen_status))
    page = Paginator(qs, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    tickets = selectors.attach_badges(list(page.object_list))
    context = {
        "title": title,
        "queue": queue,
        "tickets": tickets,
        "page": page,
        "filter_errors": errors,
        "filtered": any(v.strip() for k, v in request.GET.items() if k != "page"),
        "search_page": search_page,
        "search_query": request.GET.get("q", "").strip() if search_page else "",
        "show_queue": queue is None,
        "statuses": Status.choices,
        "priorities": Priority.choices,
        "sla_states": [("breached", "Breached"), ("at_risk", "At risk"), ("active", "Running")],
        "contact_reasons": selectors.contact_reasons(),
        "selected": request.GET,
        "assignees": _assignees(),
    }
    return render(
        request, _template(request, "workspace/queue.html", "workspace/_rows.html"), context
    )


def _assignees():
    from accounts.models import User

    return User.objects.filter(is_active=True).order_by("username").only("username")


@login_required
@require_GET
def my_tickets(request):
    # Assigned tickets stay in My tickets wherever they were escalated to.
    base = visibility.visible_tickets(request.user, Ticket.objects.filter(assignee=request.user))
    return _queue_page(request, base=base, title="My tickets")


@login_required
@require_GET
def queue_view(request, slug: str):
    queue = selectors.queue_for(request.user, slug)
    # queue_for admits only queues the visibility rule shows in full, so no per-row check
    # (which would keep the urgency index from serving the page).
    base = Ticket.objects.filter(queue=queue)
    return _queue_page(request, base=base, title=queue.name, queue=queue)


@login_required
@require_GET
def search(request):
    """Every ticket the user may read (DESIGN §4), whatever queue it moved to."""
    query = request.GET.get("q", "").strip()
    return _queue_page(
        request,
        base=visibility.visible_tickets(request.user),
        title=f"Search: {query}" if query else "All tickets",
        search_page=True,
    )


def _ticket_for(request, pk: int, need: Access = Access.READ) -> Ticket:
    """The ticket page's ticket under the one visibility rule: 404 outside it, 403 for a
    change the user's role may not make on a ticket it can read."""
    try:
        return visibility.ticket_for(
            request.user, pk, need=need, queryset=selectors.ticket_page_queryset()
        )
    except NotFound:
        raise Http404("No such ticket.") from None
    except visibility.Forbidden as error:
        raise PermissionDenied(error.message) from None


def _initial(ticket: Ticket) -> dict:
    # ISO with its offset: a naive local time would be ambiguous in a DST fall-back hour.
    return {"version": ticket.version, "rendered_at": timezone.now().isoformat()}


def _ticket_context(request, ticket: Ticket, **overrides) -> dict:
    initial = _initial(ticket)
    context = {
        "ticket": ticket,
        # Each message's files and phone call (tickets.attachments, phone), two queries.
        "conversation": selectors.conversation(ticket).prefetch_related(
            "attachments", "call__agent"
        ),
        "opening_email": mail_selectors.first_inbound(ticket.pk),
        "history": selectors.history(ticket),
        "timers": sla_selectors.ticket_sla_explained(ticket),
        "escalations": selectors.ticket_escalations(ticket),
        "other_tickets": selectors.other_open_tickets(ticket),
        "macros": Macro.objects.filter(active=True),
        "reply_form": ReplyForm(initial=initial),
        "update_form": TicketUpdateForm(
            initial={
                **initial,
                "status": ticket.status,
                "priority": ticket.priority,
                "queue": ticket.queue.slug,
                "assignee": ticket.assignee.username if ticket.assignee else None,
                "tags": ", ".join(ticket.tags),
            }
        ),
        "escalate_form": EscalateForm(),
        "can_acknowledge": request.user.can_acknowledge_escalations
        and visibility.access_to(request.user, ticket) >= Access.NOTE,
        "changes": None,
    }
    context.update(overrides)
    return context


def _render_ticket(request, ticket_id: int, **overrides):
    ticket = _ticket_for(request, ticket_id)
    return render(request, "workspace/ticket.html", _ticket_context(request, ticket, **overrides))


@login_required
@require_GET
def ticket_detail(request, pk: int):
    return _render_ticket(request, pk)


def _stale(request, ticket_id: int, form, form_name: str):
    """Keep the agent's draft, point it at the current version, show what changed."""
    ticket = _ticket_for(request, ticket_id)
    data = form.data.copy()
    data["version"] = ticket.version
    data["rendered_at"] = timezone.now().isoformat()
    since = form.cleaned_data.get("rendered_at")
    kept = type(form)(data)
    kept.is_valid()
    return render(
        request,
        "workspace/ticket.html",
        _ticket_context(
            request,
            ticket,
            **{form_name: kept},
            changes=selectors.changes_since(ticket, since),
        ),
    )


def _apply_error(form, error: ApplicationError) -> None:
    field = error.param if error.param in form.fields else None
    form.add_error(field, error.message)


@login_required
@require_POST
def ticket_reply(request, pk: int):
    ticket = _ticket_for(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, reply_form=form)
    data = form.cleaned_data
    need = Access.WRITE if data["public"] or data["then_status"] else Access.NOTE
    try:
        visibility.require(request.user, ticket, need)
    except visibility.Forbidden as error:
        raise PermissionDenied(error.message) from None
    files = request.FILES.getlist("attachments")
    try:
        for upload in files:
            attachment_check_size(upload.size, filename=attachment_filename(upload.name))
        with transaction.atomic():
            message = ticket_services.ticket_add_message(
                ticket_id=pk,
                actor=request.user,
                body=data["body"],
                public=data["public"],
                then_status=data["then_status"] or None,
                expected_version=data["version"],
            )
            for upload in files:
                attachment_add(
                    ticket=ticket,
                    message=message,
                    filename=upload.name,
                    content_type=upload.content_type,
                    file=upload,
                )
    except PreconditionFailed:
        return _stale(request, pk, form, "reply_form")
    except ApplicationError as error:
        _apply_error(form, error)
        return _render_ticket(request, pk, reply_form=form)
    messages.success(request, "Reply sent." if data["public"] else "Internal note added.")
    return _render_ticket(request, pk)


@login_required
@require_POST
def ticket_update(request, pk: int):
    _ticket_for(request, pk, Access.WRITE)
    form = TicketUpdateForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, update_form=form)
    data = form.cleaned_data
    try:
        ticket_services.ticket_update(
            ticket_id=pk,
            actor=request.user,
            expected_version=data["version"],
            status=data["status"],
            priority=data["priority"],
            queue=data["queue"],
            assignee=data["assignee"],
            tags=data["tags"],
        )
    except PreconditionFailed:
        return _stale(request, pk, form, "update_form")
    except ApplicationError as error:
        _apply_error(form, error)
        return _render_ticket(request, pk, update_form=form)
    messages.success(request, "Ticket updated.")
    return _render_ticket(request, pk)


@login_required
@require_POST
def ticket_escalate(request, pk: int):
    _ticket_for(request, pk, Access.WRITE)
    form = EscalateForm(request.POST)
    if not form.is_valid():
        return _render_ticket(request, pk, escalate_form=form)
    data = form.cleaned_data
    try:
        sla_services.escalation_create_manual(
            ticket_id=pk,
            actor=request.user,
            to_queue=data["to_queue"],
            impact=data["impact"],
            steps=data["steps"],
            account_ids=data["account_ids"],
            links=data["links"],
        )
    except ApplicationError as error:
        _apply_error(form, error)
        return _render_ticket(request, pk, escalate_form=form)
    messages.success(request, f"Escalated to {data['to_queue'].name}.")
    return _render_ticket(request, pk)


@login_required
@require_POST
def ticket_merge(request, pk: int):
    """Merge this ticket (a duplicate) into the ticket numbered in `into`."""
    _ticket_for(request, pk)
    raw = request.POST.get("into", "").strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        messages.error(request, "Merge: give the number of the ticket to merge into.")
        return redirect("ticket", pk=pk)
    try:
        target = merge_tickets(source_id=pk, target_id=int(raw), actor=request.user)
    except visibility.Forbidden as error:
        if error.param != "into":  # this ticket itself: the page's own rule
            raise PermissionDenied(error.message) from None
        messages.error(request, f"Merge: #{raw}: {error.message}")
        return redirect("ticket", pk=pk)
    except ApplicationError as error:
        messages.error(request, f"Merge: {error.message}")
        return redirect("ticket", pk=pk)
    messages.success(request, f"#{pk} was merged into this ticket.")
    return redirect("ticket", pk=target.pk)


@login_required
@require_GET
def macro_text(request, pk: int, macro_id: int):
    ticket = _ticket_for(request, pk)
    macro = Macro.objects.filter(pk=macro_id, active=True).first()
    if macro is None:
        raise Http404("No such macro.")
    text = macro_render(macro.body, ticket=ticket, agent=request.user)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def _can_acknowledge(request) -> None:
    if not request.user.can_acknowledge_escalations:
        raise PermissionDenied("Only engineers, leads and admins handle escalations.")


@login_required
@require_GET
def escalations(request):
    _can_acknowledge(request)
    awaiting = list(selectors.awaiting_acknowledgement(request.user)[:200])
    for escalation in awaiting:
        escalation.acknowledgeable = acknowledgeable(escalation)
    return render(request, "workspace/escalations.html", {"awaiting": awaiting})


@login_required
@require_POST
def escalation_acknowledge(request, pk: int):
    _can_acknowledge(request)
    try:
        escalation = sla_services.escalation_acknowledge(escalation_id=pk, actor=request.user)
        messages.success(request, f"Escalation on #{escalation.ticket_id} acknowledged.")
    except NotFound:
        raise Http404("No such escalation.") from None
    except ApplicationError as error:
        messages.error(request, error.message)
    target = request.POST.get("next") or "/escalations/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/escalations/"
    return redirect(target)


@login_required
@require_POST
def bulk_update(request):
    ids = [int(i) for i in request.POST.getlist("ticket") if i.isdigit()]
    form = BulkForm(request.POST, ticket_ids=ids)
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(back)
    changes = {}
    if form.cleaned_data["assignee"]:
        changes["assignee"] = form.cleaned_data["assignee"]
    if form.cleaned_data["status"]:
        changes["status"] = form.cleaned_data["status"]
    done, failed = 0, []
    chosen = Ticket.objects.filter(pk__in=form.cleaned_data["ticket"]).select_related("queue")
    visible = {t.pk: t for t in visibility.visible_tickets(request.user, chosen)}
    for pk in sorted(form.cleaned_data["ticket"]):
        ticket = visible.get(pk)
        if ticket is None:
            failed.append(f"#{pk}: no such ticket")
            continue
        try:
            visibility.require(request.user, ticket, Access.WRITE)
            ticket_services.ticket_update(ticket_id=ticket.pk, actor=request.user, **changes)
            done += 1
        except ApplicationError as error:
            failed.append(f"#{ticket.pk}: {error.message}")
    if done:
        messages.success(request, f"Updated {done} ticket{'s' if done != 1 else ''}.")
    for failure in failed:
        messages.error(request, failure)
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The user's own settings: the time zone the workspace shows times in."""
    data = request.POST if request.method == "POST" else None
    form = ProfileForm(data, initial={"timezone": request.user.timezone})
    if request.method == "POST" and form.is_valid():
        services.user_set_timezone(user=request.user, zone=form.cleaned_data["timezone"])
        shown = form.cleaned_data["timezone"] or f"the desk's ({settings.DESK_TIME_ZONE})"
        messages.success(request, f"Times are now shown in {shown} time.")
        return redirect("profile")
    return render(
        request,
        "workspace/profile.html",
        {"form": form, "desk_zone": settings.DESK_TIME_ZONE, "now": timezone.now()},
    )


@require_GET
def favicon(request):
    # Browsers and tools ask for /favicon.ico whatever the page links to.
    return redirect(static("favicon.svg"), permanent=True)
