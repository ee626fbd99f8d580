"""Role and scope checks shared by every API view.

A browser session has no token, so scopes apply to token requests only; roles always apply.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import Scope


def token_has(request, scope: str) -> bool:
    token = getattr(request, "auth", None)
    if token is None or not hasattr(token, "has_scope"):
        return True  # session auth: the role decides
    return token.has_scope(scope)


class TicketScopes(BasePermission):
    """tickets:read for reads, tickets:write for writes."""

    message = "This token lacks the scope this request needs."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        scope = Scope.TICKETS_READ if request.method in SAFE_METHODS else Scope.TICKETS_WRITE
        if request.method not in SAFE_METHODS and not token_has(request, Scope.TICKETS_WRITE):
            return False
        return token_has(request, scope) or token_has(request, Scope.TICKETS_WRITE)


class IsLeadOrAdmin(BasePermission):
    message = "Only team leads and admins may do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_lead_or_admin)


class IsAdminOrReadOnly(BasePermission):
    message = "Only admins may change this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(
            user.is_authenticated and user.is_admin_role and token_has(request, Scope.ADMIN)
        )


class CanAcknowledgeEscalations(BasePermission):
    message = "Only engineers, leads and admins may acknowledge escalations."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.can_acknowledge_escalations)
