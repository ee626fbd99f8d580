"""Security headers Django has no setting for, and the sign-in rule for the API docs."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer


class PermissionsPolicyMiddleware:
    """Adds `Permissions-Policy` (settings.PERMISSIONS_POLICY) to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = settings.PERMISSIONS_POLICY
        return response


class DocsAccess(BasePermission):
    """Signed-in users only when API_DOCS_REQUIRE_SIGN_IN (on in production), else anyone.

    Read per request, not at import, so tests and settings overrides see the same rule.
    """

    def has_permission(self, request, view) -> bool:
        if not settings.API_DOCS_REQUIRE_SIGN_IN:
            return True
        return bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsAccess]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # An error is the API's JSON error, not something rendered as an OpenAPI document.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class DocsView(SpectacularSwaggerView):
    """Swagger UI; a browser that is not signed in is sent to the sign-in page and back."""

    permission_classes = [DocsAccess]

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
