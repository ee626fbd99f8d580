"""`python manage.py ingest_email [--file F]`: the pipe door, for an MTA's pipe transport.

Exit 0 once the message is committed, 75 (EX_TEMPFAIL: the MTA retries) when the database
is unavailable, 65 (EX_DATAERR) for input that is not an e-mail. Also re-processes
messages that failed (`--reprocess ID`, `--reprocess-failed`).
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mail.inbound import inbound_reprocess, inbound_store
from mail.models import Door, InboundEmail, InboundStatus
from mail.parsing import looks_like_mail

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one raw e-mail (stdin by default) for processing; or re-process failed ones."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Read the message from this file instead of stdin.")
        parser.add_argument("--sender", default="", help="The envelope sender, if known.")
        parser.add_argument(
            "--recipient", action="append", default=[], help="An envelope recipient."
        )
        parser.add_argument(
            "--reprocess", type=int, action="append", default=[], metavar="ID",
            help="Process the failed inbound message ID again (repeatable).",
        )  # fmt: skip
        parser.add_argument(
            "--reprocess-failed", action="store_true", help="Process every failed message again."
        )

    def handle(self, *args, **options):
        if options["reprocess"] or options["reprocess_failed"]:
            return self._reprocess(options["reprocess"], every=options["reprocess_failed"])
        raw = self._read(options["file"])
        try:
            stored = inbound_store(
                raw=raw,
                door=Door.PIPE,
                envelope_from=options["sender"],
                envelope_to=options["recipient"],
            )
        except DatabaseError as exc:
            self.stderr.write(f"Database unavailable, try again later: {exc.__class__.__name__}")
            sys.exit(EX_TEMPFAIL)
        state = "stored" if stored.created else "already stored (duplicate)"
        self.stdout.write(f"Message {stored.inbound.pk} {state}.")

    def _read(self, path: str | None) -> bytes:
        limit = settings.EMAIL_MAX_BYTES
        try:
            if path:
                with open(path, "rb") as handle:
                    raw = handle.read(limit + 1)
            else:
                raw = sys.stdin.buffer.read(limit + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read the message: {exc}", returncode=EX_DATAERR) from exc
        if len(raw) > limit:
            raise CommandError(
                f"The message is larger than EMAIL_MAX_BYTES ({limit} bytes).",
                returncode=EX_DATAERR,
            )
        if not raw.strip():
            raise CommandError("No message: the input is empty.", returncode=EX_DATAERR)
        if not looks_like_mail(raw):
            raise CommandError(
                "The input is not an e-mail (it does not start with header lines).",
                returncode=EX_DATAERR,
            )
        return raw

    def _reprocess(self, ids: list[int], *, every: bool) -> None:
        if every:
            ids = [
                *ids,
                *InboundEmail.objects.filter(status=InboundStatus.FAILED).values_list(
                    "pk", flat=True
                ),
            ]
        done = sum(inbound_reprocess(inbound_id=pk) for pk in dict.fromkeys(ids))
        self.stdout.write(f"{done} message(s) queued for processing again.")
        if ids and not done:
            raise CommandError("None of those messages had failed.")
