"""The portal's and the survey page's forms: validation only, the work is in services."""

from django import forms


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Your e-mail address")


class ReplyForm(forms.Form):
    body = forms.CharField(
        max_length=100_000, label="Your reply", widget=forms.Textarea(attrs={"rows": 6})
    )


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
        label="How satisfied are you with the help you received? (1 = poor, 5 = great)",
    )
    comment = forms.CharField(
        max_length=5000,
        required=False,
        label="Anything you would like to add? (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
