from collections.abc import Iterable

from django.db import transaction

from .models import ApiToken, Scope, User, hash_token, role_scopes


class InvalidScopes(ValueError):
    pass


@transaction.atomic
def api_token_create(*, user: User, scopes: Iterable[str], name: str = "") -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value (the only time it is known)."""
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in Scope.values]
    if unknown or not scopes:
        raise InvalidScopes(
            f"unknown scopes {unknown}; choose from {', '.join(Scope.values)}"
            if unknown
            else f"at least one scope is required; choose from {', '.join(Scope.values)}"
        )
    beyond = [s for s in scopes if s not in role_scopes(user)]
    if beyond:
        raise InvalidScopes(
            f"an {user.get_role_display().lower()}'s token cannot carry {', '.join(beyond)}; "
            f"allowed: {', '.join(sorted(role_scopes(user))) or 'none'}"
        )
    raw = ApiToken.generate_raw()
    token = ApiToken.objects.create(
        user=user, name=name, scopes=scopes, key_prefix=raw[:10], key_hash=hash_token(raw)
    )
    return token, raw
