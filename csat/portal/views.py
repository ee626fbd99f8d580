"""The requester portal at /help/tickets/ (DESIGN §9): sign in by e-mailed link, see one's
own tickets and their public conversation, reply, mark solved.

A requester is identified by SESSION_KEY in the session, never as a Django user. Tickets are
looked up by id *and* requester, so another requester's ticket is a 404 like a missing one.
Only what a customer may see reaches the templates: subject, status, dates and public
messages with the author's kind (agents appear as "Support", never by name or address).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.lockout import client_address
from support_desk.errors import ApplicationError
from tickets.models import AuthorType, Channel, Requester, Status, Ticket
from tickets.services import ticket_add_message, ticket_update

from . import services
from .forms import ReplyForm, SignInForm
from .headers import private_page, token_in_url

SENT_MESSAGE = (
    "If this address has requests with us, a sign-in link is on its way to it. "
    "The link works once, for 15 minutes."
)


def _requester(request) -> Requester | None:
    requester_id = request.session.get(services.SESSION_KEY)
    if not isinstance(requester_id, int):
        return None
    return Requester.objects.filter(pk=requester_id).first()


def _sign_in_page(request, form=None, status=200, error: str = ""):
    return render(
        request,
        "portal/sign_in.html",
        {"form": form or SignInForm(), "error": error},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@private_page
def ticket_list(request):
    requester = _requester(request)
    if request.method == "POST":
        return _ask_for_link(request)
    if requester is None:
        return _sign_in_page(request)
    tickets = (
        Ticket.objects.filter(requester=requester, merged_into__isnull=True)
        .only("pk", "subject", "status", "created_at", "updated_at")
        .order_by("-updated_at")[:200]
    )
    rows = [(t, _STATUS_FOR_CUSTOMERS.get(t.status, t.status)) for t in tickets]
    return render(request, "portal/list.html", {"requester": requester, "rows": rows})


def _ask_for_link(request):
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, form, status=400)
    email = form.cleaned_data["email"]
    if services.sign_in_rate_limited(email=email, ip=client_address(request)):
        form.add_error(None, "Too many sign-in links were asked for. Please try again in an hour.")
        return _sign_in_page(request, form, status=429)
    services.sign_in_request(email=email)
    # The same words for a known and an unknown address: nothing is disclosed.
    return render(request, "portal/link_sent.html", {"message": SENT_MESSAGE})


@require_http_methods(["GET", "POST"])
@private_page
@token_in_url
def sign_in(request, token: str):
    """GET shows a button and spends nothing (mail scanners open links); POST signs in."""
    if request.method == "GET":
        return render(request, "portal/confirm.html", {"token": token})
    requester_id = services.sign_in_link_use(raw_token=token)
    if requester_id is None:
        return _sign_in_page(
            request,
            status=400,
            error="This sign-in link has expired or was already used. Ask for a new one.",
        )
    request.session.cycle_key()  # a fresh session id for the signed-in requester
    request.session[services.SESSION_KEY] = requester_id
    return redirect("csat:portal-list")


@require_http_methods(["POST"])
@never_cache
def sign_out(request):
    request.session.pop(services.SESSION_KEY, None)
    request.session.cycle_key()
    return redirect("csat:portal-list")


def _own_ticket(requester: Requester, pk: int) -> Ticket:
    ticket = Ticket.objects.filter(pk=pk, requester=requester).first()
    if ticket is None:
        raise Http404("No such request.")
    return ticket


def _public_messages(ticket: Ticket):
    return (
        ticket.messages.filter(public=True)
        .exclude(author_type=AuthorType.SYSTEM)
        .only("body", "author_type", "created_at")
        .order_by("created_at", "id")
    )


@require_http_methods(["GET", "POST"])
@private_page
def ticket_detail(request, pk: int):
    requester = _requester(request)
    if requester is None:
        if request.method == "POST":
            return redirect("csat:portal-list")
        return _sign_in_page(request)
    ticket = _own_ticket(requester, pk)
    if ticket.merged_into_id is not None:
        # A merged duplicate is closed and its conversation moved to the ticket it was
        # merged into: the customer follows it there, if that ticket is theirs too.
        live = Ticket.objects.filter(pk=ticket.merged_into_id, requester=requester).first()
        if live is not None:
            return redirect("csat:portal-ticket", pk=live.pk)
    form = ReplyForm()
    limited = False
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "solve":
                if ticket.status in (Status.SOLVED, Status.CLOSED):
                    messages.info(request, "This request is already solved.")
                else:
                    ticket_update(ticket_id=ticket.pk, actor=None, status=Status.SOLVED)
                    messages.success(request, "Thank you: the request is marked as solved.")
                return redirect("csat:portal-ticket", pk=ticket.pk)
            form = ReplyForm(request.POST)
            if form.is_valid() and services.reply_rate_limited(requester_id=requester.pk):
                # The text stays in the form: nothing the customer typed is lost.
                form.add_error(
                    None,
                    "You have sent many replies in the last hour. Please wait a few minutes "
                    "and send this one again.",
                )
                limited = True
            elif form.is_valid():
                ticket_add_message(
                    ticket_id=ticket.pk,
                    actor=None,
                    body=form.cleaned_data["body"],
                    public=True,
                    author_type=AuthorType.REQUESTER,
                    channel=Channel.WEB,
                )
                messages.success(request, "Your reply was sent.")
                return redirect("csat:portal-ticket", pk=ticket.pk)
        except ApplicationError as error:
            form.add_error(None, error.message)
        ticket.refresh_from_db()
    response = render(
        request,
        "portal/detail.html",
        {
            "requester": requester,
            "ticket": ticket,
            "conversation": _public_messages(ticket),
            "form": form,
            "closed": ticket.status == Status.CLOSED,
            # A phone ticket's description is the agent's notes of the call, not the
            # customer's words; the conversation shows what was said publicly.
            "show_description": ticket.channel != Channel.PHONE,
            "solved": ticket.status in (Status.SOLVED, Status.CLOSED),
            "status_label": _STATUS_FOR_CUSTOMERS.get(ticket.status, ticket.status),
        },
        status=429 if limited else 400 if form.errors else 200,
    )
    if limited:
        response["Retry-After"] = str(services.seconds_to_next_window())
    return response


# What the customer reads: the desk's internal states are not their concern.
_STATUS_FOR_CUSTOMERS = {
    Status.NEW: "Received",
    Status.OPEN: "Being worked on",
    Status.PENDING: "Waiting for your reply",
    Status.ON_HOLD: "Being worked on",
    Status.SOLVED: "Solved",
    Status.CLOSED: "Closed",
}
