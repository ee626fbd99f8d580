"""The workspace's mail action: resuming mail to an address stopped by a bounce."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from support_desk.errors import NotFound
from tickets.visibility import Access, Forbidden, ticket_for

from . import suppression


@login_required
@require_POST
def resume_mail(request, pk: int):
    """Whoever may change the ticket may clear a suppression of its requester or a CC
    (a 404 for a ticket outside the visibility rule, like every ticket page)."""
    try:
        ticket = ticket_for(request.user, pk, need=Access.WRITE)
    except NotFound:
        raise Http404("No such ticket.") from None
    except Forbidden as error:
        raise PermissionDenied(error.message) from None
    address = suppression.normalise(request.POST.get("address", ""))
    if address not in {suppression.normalise(a) for a in [ticket.requester.email, *ticket.cc]}:
        messages.error(request, "That address is not on this ticket.")
    elif suppression.clear(address, request.user):
        messages.success(request, f"Mail to {address} resumes with the next reply.")
    else:
        messages.info(request, f"Mail to {address} was not stopped.")
    return redirect("ticket", pk=ticket.pk)
