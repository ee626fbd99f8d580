import getpass
import os
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, User

PASSWORD_ENV = "DJANGO_ADMIN_PASSWORD"


def admin_create(*, username: str, email: str, password: str) -> User:
    """A desk admin: role admin, and staff + superuser so the Django admin opens fully."""
    user = User(username=username, email=email, role=Role.ADMIN, is_staff=True)
    user.is_superuser = True
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise CommandError("Password refused: " + " ".join(exc.messages)) from None
    user.set_password(password)
    user.save()
    return user


class Command(BaseCommand):
    help = (
        "Create the first admin (role admin, Django superuser). The password comes from "
        f"${PASSWORD_ENV}, or is asked for twice when run in a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Succeed without changes when the user already exists (for one-shot set-ups).",
        )

    def handle(self, *args, username: str, email: str, if_missing: bool, **options):
        username = username.strip()
        if not username:
            raise CommandError("--username must not be empty.")
        if User.objects.filter(username__iexact=username).exists():
            if if_missing:
                self.stdout.write(f"User {username!r} already exists; nothing changed.")
                return
            raise CommandError(
                f"User {username!r} already exists. Change it in /admin/ or with "
                "`manage.py changepassword`."
            )
        password = os.environ.get(PASSWORD_ENV) or self._ask()
        with transaction.atomic():
            admin_create(username=username, email=email.strip(), password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created; sign in at /login/."))

    def _ask(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError(f"No password: set {PASSWORD_ENV} or run this in a terminal.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        if not password:
            raise CommandError("The password must not be empty.")
        return password
