"""The public contact form (DESIGN §9): its fields, and the one submission that opens a
ticket exactly once however often the form is sent.

The form's one-time token is its FormVisit's id, signed: the submission locks that row, and
the first one to hold the lock creates the ticket and records it there; a second submission
(a double click, a browser resend, a concurrent request) waits for the lock, finds the
ticket and shows the same confirmation. A refused submission (honeypot, rate limit, bad
attachment) is refused before anything is written.
"""

import hashlib
import time
import uuid
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.validators import RegexValidator
from django.db import transaction
from django.utils import timezone

from accounts.fail_open import guarded
from accounts.throttling import count_in_window
from tickets import services as ticket_services
from tickets.attachments import attachment_add
from tickets.models import Channel, ContactReason, Ticket

from .models import FormVisit

TOKEN_SALT = "helpcenter.contact-form"
TOKEN_MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_ATTACHMENTS = 5
# Submissions per hour from one e-mail address, and from one client address.
PER_HOUR = getattr(settings, "HELPCENTER_CONTACT_PER_HOUR", 5)

_identifier = RegexValidator(
    r"^[A-Za-z0-9_.:\-]+$", "Use letters, digits and _ . : - only (as shown in your dashboard)."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def active_reasons():
    return ContactReason.objects.filter(active=True).order_by("position", "name")


class ContactForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    email = forms.EmailField(label="Your e-mail", max_length=254)
    name = forms.CharField(label="Your name", max_length=200, required=False)
    reason = forms.ModelChoiceField(
        queryset=ContactReason.objects.none(),
        to_field_name="slug",
        label="What is it about?",
        empty_label="Choose a topic…",
        error_messages={"invalid_choice": "Choose one of the topics in the list."},
    )
    subject = forms.CharField(label="Subject", max_length=200)
    description = forms.CharField(
        label="How can we help?", widget=forms.Textarea(attrs={"rows": 8}), max_length=20_000
    )
    account_id = forms.CharField(
        label="Account id (optional)", max_length=100, required=False, validators=[_identifier]
    )
    request_id = forms.CharField(
        label="Request id (optional)",
        max_length=100,
        required=False,
        validators=[_identifier],
        help_text="The Request-Id header of a failing API call, if any.",
    )
    attachments = MultipleFileField(
        label="Attachments (optional)",
        required=False,
        help_text=f"Up to {MAX_ATTACHMENTS} files, "
        f"{settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)} MB each.",
    )
    # The honeypot: hidden from people (CSS and aria-hidden), filled by robots.
    website = forms.CharField(required=False, label="Leave this empty")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = active_reasons()

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_ATTACHMENTS:
            raise forms.ValidationError(f"Attach at most {MAX_ATTACHMENTS} files.")
        limit = settings.ATTACHMENT_MAX_BYTES
        for f in files:
            if f.size > limit:
                raise forms.ValidationError(
                    f"“{f.name}” is larger than {limit // (1024 * 1024)} MB; "
                    "send a smaller file or a link to it."
                )
        return files

    def visit_id(self) -> uuid.UUID | None:
        return token_read(self.data.get("token", ""))


def token_for(visit: FormVisit) -> str:
    return signing.dumps(str(visit.pk), salt=TOKEN_SALT)


def token_read(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS))
    except (signing.BadSignature, TypeError, ValueError):
        return None


class Refused(Exception):
    """The submission is refused; nothing was stored. `message` says why, to the sender."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Outcome:
    ticket: Ticket
    created: bool


def _over_limit(kind: str, value: str) -> bool:
    window = int(time.time() // 3600)
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    answered, count = guarded(
        what="contact form rate limit",
        operation=lambda: count_in_window(
            cache=cache, key=f"helpcenter:contact:{kind}:{digest}:{window}", timeout=3605
        ),
    )
    return bool(answered and count > PER_HOUR)


def description_with_ids(description: str, *, account_id: str, request_id: str) -> str:
    """The ids the customer gave head the description, one per line, where agents read
    first and the API and search see them."""
    head = [f"Account id: {account_id}"] if account_id else []
    head += [f"Request id: {request_id}"] if request_id else []
    return "\n".join(head) + ("\n\n" if head else "") + description


def contact_submit(*, form: ContactForm, visitor: uuid.UUID, address: str) -> Outcome:
    """Open the ticket for a valid form, once per form token (see the module docstring)."""
    data = form.cleaned_data
    if data.get("website"):
        raise Refused("This message looks automated and was not sent.")
    visit_id = form.visit_id()
    if visit_id is None:
        raise Refused("This form has expired. Please check your message and send it again.")
    with transaction.atomic():
        visit = FormVisit.objects.select_for_update().filter(pk=visit_id).first()
        if visit is None:
            raise Refused("This form has expired. Please check your message and send it again.")
        if visit.ticket_id is not None:
            return Outcome(Ticket.objects.get(pk=visit.ticket_id), created=False)
        # Both counters move, so an address cannot hide behind many e-mails nor the reverse.
        limited = [_over_limit("email", data["email"]), _over_limit("ip", address)]
        if any(limited):
            raise Refused(
                "You have sent several messages in the last hour. Please wait a little, or "
                "reply to the e-mail we sent about your earlier message."
            )
        ticket = ticket_services.ticket_create(
            actor=None,
            subject=data["subject"],
            description=description_with_ids(
                data["description"], account_id=data["account_id"], request_id=data["request_id"]
            ),
            requester_email=data["email"],
            requester_name=data["name"],
            channel=Channel.WEB,
            contact_reason=data["reason"],
        )
        for upload in data["attachments"]:
            # On the ticket (its description is the first message): checked, named and
            # typed by tickets' attachment service.
            attachment_add(
                ticket=ticket,
                message=None,
                filename=upload.name,
                content_type=upload.content_type,
                file=upload,
            )
        visit.ticket = ticket
        visit.submitted_at = timezone.now()
        visit.save(update_fields=["ticket", "submitted_at"])
    return Outcome(ticket, created=True)
