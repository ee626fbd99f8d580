"""The anonymous visitor: a random id in a signed cookie, set on the first visit.

It only ties one browser's votes, article views and form visits together; it names nobody,
and a forged or tampered cookie is simply replaced by a new id."""

import uuid
from functools import wraps

from django.conf import settings

COOKIE = "hc_visitor"
SALT = "helpcenter.visitor"
MAX_AGE_SECONDS = 365 * 24 * 3600


def visitor_of(request) -> uuid.UUID:
    """The request's visitor id (read once; new if the cookie is absent or not ours)."""
    known = getattr(request, "_hc_visitor", None)
    if known is not None:
        return known
    raw = request.get_signed_cookie(COOKIE, default=None, salt=SALT, max_age=MAX_AGE_SECONDS)
    try:
        visitor, new = uuid.UUID(raw), False
    except (TypeError, ValueError):
        visitor, new = uuid.uuid4(), True
    request._hc_visitor, request._hc_visitor_new = visitor, new
    return visitor


def with_visitor(view):
    """Give the view `request`'s visitor id and set the cookie on the response when new."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        visitor_of(request)
        response = view(request, *args, **kwargs)
        if getattr(request, "_hc_visitor_new", False):
            response.set_signed_cookie(
                COOKIE,
                str(request._hc_visitor),
                salt=SALT,
                max_age=MAX_AGE_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    return wrapper
