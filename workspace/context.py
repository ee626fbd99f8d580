"""Navigation for every page: the queues this user works (one query, only when shown)."""

from .selectors import visible_queues


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_queues": visible_queues(user)}
