from django.core.management.base import BaseCommand, CommandError

from accounts.models import Scope, User
from accounts.services import InvalidScopes, api_token_create


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print it once, alone on the last line. "
        f"Scopes: {', '.join(Scope.values)}."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the token's owner.")
        parser.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated, e.g. tickets:read,tickets:write",
        )
        parser.add_argument("--name", default="", help="What the token is for (optional).")

    def handle(self, *args, user: str, scopes: str, name: str, **options):
        owner = User.objects.filter(username=user, is_active=True).first()
        if owner is None:
            raise CommandError(f'No active user "{user}".')
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        try:
            token, raw = api_token_create(user=owner, scopes=wanted, name=name)
        except InvalidScopes as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Token {token.key_prefix}… for {owner.username} with scopes {', '.join(token.scopes)}."
            " It is shown once; store it now."
        )
        self.stdout.write(raw)
