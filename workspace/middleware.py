"""Times in the viewer's zone: their profile's choice, else the desk's (DESK_TIME_ZONE)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone


def zone_for(user) -> ZoneInfo:
    name = getattr(user, "timezone", "") if getattr(user, "is_authenticated", False) else ""
    try:
        return ZoneInfo(name or settings.DESK_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):  # a zone the system's tz database dropped
        return ZoneInfo(settings.DESK_TIME_ZONE)


class UserTimeZoneMiddleware:
    """Activate the user's zone for HTML pages (settings.PAGE_MIDDLEWARE: never run for
    the API, which stays in UTC: the same request must answer the same bytes whoever sends
    it, DESIGN §3)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timezone.activate(zone_for(request.user))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
