"""Forms of the phone pages: "Log a call" on a ticket, and "New ticket" for an agent who
takes a call or a walk-in."""

from django import forms

from support_desk.errors import InvalidRequest
from tickets.models import Channel, Priority, Queue
from tickets.visibility import can_create_in

from .models import Direction, Outcome
from .numbers import to_e164


def _e164(value: str, field: str) -> str:
    try:
        return to_e164(value, param=field)
    except InvalidRequest as error:
        raise forms.ValidationError(error.message) from None


class LogCallForm(forms.Form):
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.INBOUND)
    outcome = forms.ChoiceField(choices=Outcome.choices, initial=Outcome.ANSWERED)
    number = forms.CharField(max_length=64, label="Customer's number")
    minutes = forms.IntegerField(
        min_value=0, max_value=24 * 60, required=False, label="Length (minutes)"
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=20_000, required=False
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "call-%s")
        super().__init__(*args, **kwargs)

    def clean_number(self) -> str:
        return _e164(self.cleaned_data["number"], "number")


WALK_IN = "walk_in"


class NewTicketForm(forms.Form):
    """A ticket an agent opens for a customer on the phone or at the desk. The requester is
    found by e-mail or phone number, else created (phone.services)."""

    channel = forms.ChoiceField(
        choices=[(Channel.PHONE, "Phone call"), (WALK_IN, "Walk-in / in person")],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    email = forms.EmailField(required=False, label="Customer's e-mail")
    phone = forms.CharField(max_length=64, required=False, label="Customer's phone number")
    name = forms.CharField(max_length=200, required=False, label="Customer's name")
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=100_000)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    queue = forms.ModelChoiceField(queryset=Queue.objects.none(), to_field_name="slug")

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", "new-%s")
        super().__init__(*args, **kwargs)
        allowed = [q.pk for q in Queue.objects.all() if can_create_in(user, q.kind)]
        self.fields["queue"].queryset = Queue.objects.filter(pk__in=allowed).order_by(
            "kind", "name"
        )
        default = Queue.objects.filter(pk__in=allowed, is_default=True).first()
        if default is not None:
            self.fields["queue"].initial = default.slug

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return _e164(value, "phone") if value else ""

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone") and not self.errors:
            raise forms.ValidationError("Give the customer's e-mail or phone number.")
        return data
