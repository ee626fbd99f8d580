from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm

from . import lockout


class LockoutMixin:
    """AuthenticationForm.clean with the per-account and per-address lock-out around it."""

    locked_attempt: lockout.Attempt | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        attempt = lockout.attempt_begin(
            username=username, address=lockout.client_address(self.request)
        )
        if attempt.locked_by:
            # The password is not even checked: a locked account gives no oracle.
            self.locked_attempt = attempt
            raise forms.ValidationError(attempt.message, code="locked_out")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        lockout.attempt_succeeded(attempt=attempt)
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(LockoutMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    pass
