from django.core.management.base import BaseCommand, CommandError

from accounts import lockout


class Command(BaseCommand):
    help = (
        "Lift a sign-in lock-out before it ends by itself (LOGIN_LOCKOUT_SECONDS): for a "
        "username, a client address, or both."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", help="The account that was locked.")
        parser.add_argument("--address", help="The client IP address that was locked.")

    def handle(self, *args, username: str | None, address: str | None, **options):
        if not username and not address:
            raise CommandError("Give --username, --address or both.")
        lockout.unlock(username=username, address=address)
        what = " and ".join(
            f"{kind} {value!r}"
            for kind, value in (("user", username), ("address", address))
            if value
        )
        self.stdout.write(self.style.SUCCESS(f"Sign-in unlocked for {what}."))
