"""Security headers Django has no setting for, and the sign-in rule for the API docs."""

import copy

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
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


# What makes django-csp build a response's policy apart: a per-view override or exemption.
_PER_RESPONSE = tuple(
    f"_csp_{part}{suffix}"
    for part in ("config", "update", "replace", "exempt")
    for suffix in ("", "_ro")
)


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp, with the policy of a response that used no nonce and no per-view
    override built once rather than for every response (90 us of an API call). Anything
    else -- a page with a nonce, DEBUG's error pages, excluded prefixes -- goes through
    django-csp unchanged. The cached strings are rebuilt whenever the settings change."""

    _settings = None
    _policies: tuple[str, str] = ("", "")

    def process_response(self, request, response):
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
        if (
            getattr(request, "_csp_nonce", None) is not None
            or settings.DEBUG
            or policy.get("EXCLUDE_URL_PREFIXES")
            or report_only.get("EXCLUDE_URL_PREFIXES")
            or any(hasattr(response, name) for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        if CSPMiddleware._settings != (policy, report_only):
            CSPMiddleware._policies = (build_policy(), build_policy(report_only=True))
            CSPMiddleware._settings = copy.deepcopy((policy, report_only))
        for header, value in zip((HEADER, HEADER_REPORT_ONLY), self._policies, strict=True):
            if value and header not in response:
                response[header] = value
        # As django-csp does: a nonce asked for after the header went out is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
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
