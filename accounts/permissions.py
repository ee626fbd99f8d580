"""Role and scope checks shared by every API view.

A request's scopes are its token's scopes within what the user's role allows; a browser
session (no token) has exactly its role's scopes. Reads need the view's `read_scope`,
writes its `write_scope`; neither implies the other. Which tickets a request may touch is
decided by tickets.visibility, after these checks.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from .models import Scope, role_scopes


def request_scopes(request) -> frozenset[str]:
    user = request.user
    if not (user and user.is_authenticated):
        return frozenset()
    allowed = role_scopes(user)
    token = getattr(request, "auth", None)
    if token is None or not hasattr(token, "scopes"):
        return allowed
    return allowed & frozenset(token.scopes)


def token_has(request, scope: str) -> bool:
    return scope in request_scopes(request)


class ScopePermission(BasePermission):
    """Reads need `read_scope`, writes `write_scope` (class attributes, overridable per view
    with the same names). `roles_check` narrows by role: only leads and admins, say."""

    read_scope: str = Scope.TICKETS_READ
    write_scope: str = Scope.TICKETS_WRITE

    def roles_check(self, user) -> bool:
        return True

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not self.roles_check(user):
            self.message = self.role_message
            return False
        reading = request.method in SAFE_METHODS
        scope = getattr(view, "read_scope" if reading else "write_scope", None) or (
            self.read_scope if reading else self.write_scope
        )
        if not token_has(request, scope):
            self.message = f"This request needs the {scope} scope."
            return False
        return True

    role_message = "Your role may not do this."


class TicketScopes(ScopePermission):
    """tickets:read for reads, tickets:write for writes (any role; visibility decides which
    tickets)."""


class IsLeadOrAdmin(ScopePermission):
    """Leads and admins; reads need tickets:read, writes admin."""

    write_scope = Scope.ADMIN
    role_message = "Only team leads and admins may do this."

    def roles_check(self, user) -> bool:
        return user.is_lead_or_admin


class IsAdminOrReadOnly(ScopePermission):
    """Everyone reads (tickets:read); admins change (admin scope)."""

    write_scope = Scope.ADMIN

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method not in SAFE_METHODS and not request.user.is_admin_role:
            self.message = "Only admins may change this."
            return False
        return True


class CanAcknowledgeEscalations(ScopePermission):
    role_message = "Only engineers, leads and admins may acknowledge escalations."

    def roles_check(self, user) -> bool:
        return user.can_acknowledge_escalations
