"""HTML forms: they validate and carry the version the agent saw; services do the work."""

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings

from accounts.models import User
from tickets.models import Priority, Queue, QueueKind, Status

KEEP = ""


class VersionedForm(forms.Form):
    """The ticket version and the instant the form was rendered: a submission against a
    ticket that changed meanwhile is refused and the agent is shown what changed."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    rendered_at = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    # The reply and the properties forms share a page: their own id prefix keeps every id
    # unique (htmx puts focus back by id after a swap).
    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class ReplyForm(VersionedForm):
    id_prefix = "reply"
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "placeholder": "Write a reply or a note…"}),
        max_length=100_000,
        error_messages={"required": "Write something before sending."},
    )
    public = forms.TypedChoiceField(
        choices=[("true", "Public reply"), ("false", "Internal note")],
        coerce=lambda v: v == "true",
        initial="true",
        widget=forms.RadioSelect,
    )
    then_status = forms.ChoiceField(
        choices=[
            (KEEP, "and keep status"),
            *[(s, f"and set {label}") for s, label in Status.choices if s != Status.CLOSED],
        ],
        required=False,
    )


class TicketUpdateForm(VersionedForm):
    id_prefix = "update"
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.order_by("kind", "name"), to_field_name="slug"
    )
    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        required=False,
        empty_label="Unassigned",
    )
    tags = forms.CharField(required=False, max_length=1000, help_text="Comma-separated")

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if any(len(t) > 50 for t in tags):
            raise forms.ValidationError("A tag is at most 50 characters.")
        return tags


class EscalateForm(forms.Form):
    to_queue = forms.ModelChoiceField(
        queryset=Queue.objects.filter(kind=QueueKind.ENGINEERING).order_by("name"),
        to_field_name="slug",
        label="Engineering queue",
    )
    impact = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, label="Customer impact"
    )
    steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        required=False,
        label="Reproduction steps",
    )
    account_ids = forms.CharField(
        required=False, max_length=2000, label="Affected account ids", help_text="Comma-separated"
    )
    links = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text="One per line (dashboards, logs, request ids)",
    )

    def clean_account_ids(self) -> list[str]:
        return [a.strip() for a in self.cleaned_data["account_ids"].split(",") if a.strip()]

    def clean_links(self) -> list[str]:
        links = [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]
        for link in links:
            if not link.startswith(("https://", "http://")):
                raise forms.ValidationError(f"Not a web link: {link[:60]}")
        return links


class BulkForm(forms.Form):
    ticket = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Select at least one ticket."}
    )
    assignee = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        required=False,
    )
    status = forms.ChoiceField(choices=[("", "—"), *Status.choices], required=False)

    def __init__(self, *args, ticket_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ticket"].choices = [(i, i) for i in ticket_ids]

    def clean(self):
        data = super().clean()
        if not data.get("assignee") and not data.get("status"):
            raise forms.ValidationError("Choose an assignee or a status to apply.")
        return data


@cache
def _zones() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(available_timezones())]


def _zone_choices() -> list[tuple[str, str]]:
    return [("", f"The desk's time zone ({settings.DESK_TIME_ZONE})"), *_zones()]


class ProfileForm(forms.Form):
    timezone = forms.ChoiceField(
        choices=_zone_choices,
        required=False,
        label="Time zone",
        help_text="Times in the workspace are shown in this zone; hover a time to see it in UTC.",
        error_messages={"invalid_choice": "“%(value)s” is not a time zone we know."},
    )
