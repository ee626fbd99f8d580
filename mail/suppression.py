"""Addresses we must not write to: a permanent bounce (5.x.x) suppresses an address until an
agent clears it (DESIGN §8). Other apps (surveys) ask `is_suppressed` before sending."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Suppression


def normalise(address: str) -> str:
    return address.strip().lower()


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(address=normalise(address), cleared_at__isnull=True).exists()


def suppressed_among(addresses: Iterable[str]) -> set[str]:
    """The suppressed ones among `addresses` (normalised), in one query."""
    wanted = {normalise(a) for a in addresses if a}
    if not wanted:
        return set()
    return set(
        Suppression.objects.filter(address__in=wanted, cleared_at__isnull=True).values_list(
            "address", flat=True
        )
    )


@transaction.atomic
def suppress(address: str, reason: str) -> Suppression:
    """Suppress `address` (again, if it was cleared before)."""
    row, created = Suppression.objects.select_for_update().get_or_create(
        address=normalise(address),
        defaults={"reason": reason[:2000], "created_at": timezone.now()},
    )
    if not created and row.cleared_at is not None:
        row.reason, row.created_at = reason[:2000], timezone.now()
        row.cleared_at, row.cleared_by = None, None
        row.save(update_fields=["reason", "created_at", "cleared_at", "cleared_by"])
    return row


@transaction.atomic
def clear(address: str, user) -> bool:
    """Allow mail to `address` again; False when it was not suppressed."""
    return bool(
        Suppression.objects.filter(address=normalise(address), cleared_at__isnull=True).update(
            cleared_at=timezone.now(), cleared_by=user
        )
    )
