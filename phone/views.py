"""The phone pages: "Log a call" on a ticket, and "New ticket" for an agent (phone or
walk-in). Thin: the forms check, phone.services and tickets.services change."""

import uuid
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from support_desk.errors import ApplicationError, NotFound
from tickets import services as ticket_services
from tickets import visibility
from tickets.models import Channel
from tickets.visibility import Access

from .forms import LogCallForm, NewTicketForm
from .models import Direction
from .services import call_record, placeholder_email, requester_find, requester_phone_add


@login_required
@require_POST
def log_call(request, pk: int):
    try:
        ticket = visibility.ticket_for(request.user, pk)
        visibility.require(request.user, ticket, Access.WRITE)
    except NotFound:
        raise Http404("No such ticket.") from None
    except visibility.Forbidden as error:
        raise PermissionDenied(error.message) from None
    form = LogCallForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            label = label or (field.capitalize() if field in form.fields else "")
            prefix = f"{label}: " if label else ""
            messages.error(request, f"Log a call: {prefix}{' '.join(errors)}")
        return redirect("ticket", pk=pk)
    data = form.cleaned_data
    now = timezone.now()
    minutes = data["minutes"]
    inbound = data["direction"] == Direction.INBOUND
    try:
        call_record(
            actor=request.user,
            call_id=f"desk-{uuid.uuid4().hex}",
            direction=data["direction"],
            from_number=data["number"] if inbound else "",
            to_number="" if inbound else data["number"],
            started_at=now - timedelta(minutes=minutes or 0),
            ended_at=now if minutes is not None else None,
            outcome=data["outcome"],
            agent=request.user,
            notes=data["notes"],
            ticket_id=ticket.pk,
        )
    except ApplicationError as error:
        messages.error(request, f"Log a call: {error.message}")
    else:
        messages.success(request, "Call logged.")
    return redirect("ticket", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def new_ticket(request):
    form = NewTicketForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        requester = requester_find(number=data["phone"], email=data["email"])
        email = (
            requester.email if requester else (data["email"] or placeholder_email(data["phone"]))
        )
        channel = Channel.PHONE if data["channel"] == Channel.PHONE else Channel.API
        if not visibility.can_create_in(request.user, data["queue"].kind):
            raise PermissionDenied("Your role may not open tickets in that queue.")
        try:
            with transaction.atomic():
                ticket = _open(request.user, data, email, channel)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"Ticket #{ticket.pk} opened.")
            return redirect("ticket", pk=ticket.pk)
    return render(request, "phone/new_ticket.html", {"form": form})


def _open(user, data: dict, email: str, channel: str):
    ticket = ticket_services.ticket_create(
        actor=user,
        subject=data["subject"],
        description=data["description"],
        requester_email=email,
        requester_name=data["name"],
        priority=data["priority"],
        channel=channel,
        queue=data["queue"],
    )
    requester_phone_add(requester_id=ticket.requester_id, number=data["phone"])
    return ticket
