"""Writes the workspace owns: the user's own display settings."""

from zoneinfo import available_timezones

from accounts.models import User
from support_desk.errors import InvalidRequest


def user_set_timezone(*, user: User, zone: str) -> User:
    """Show this user's times in `zone` (an IANA name); "" follows the desk's zone."""
    if zone and zone not in available_timezones():
        raise InvalidRequest(f"“{zone}” is not a time zone we know.", param="timezone")
    user.timezone = zone
    user.save(update_fields=["timezone"])
    return user
