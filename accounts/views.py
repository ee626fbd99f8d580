from django.contrib.auth import views as auth_views

from .forms import LoginForm


class LoginView(auth_views.LoginView):
    """The sign-in page; a locked-out attempt is answered 429 with Retry-After."""

    template_name = "registration/login.html"
    authentication_form = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked_attempt is not None:
            response.status_code = 429
            response["Retry-After"] = str(max(1, form.locked_attempt.retry_after))
        return response
