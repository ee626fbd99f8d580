"""`python manage.py smtp_receiver`: the SMTP door on SMTP_HOST:SMTP_PORT until stopped."""

import logging
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from mail.smtp import controller


class Command(BaseCommand):
    help = (
        "Receive e-mail over SMTP for SUPPORT_EMAIL, its +tag variants and "
        "SUPPORT_EMAIL_ALIASES; 250 only after the message is committed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.SMTP_PORT)

    def handle(self, *args, host: str, port: int, **options):
        # aiosmtpd logs every command of every session at INFO ("mail.log").
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        receiver = controller(host=host, port=port)
        receiver.start()
        self.stdout.write(f"SMTP receiver on {host}:{port} for {settings.SUPPORT_EMAIL}")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            receiver.stop()
            receiver.handler.close()
            self.stdout.write("SMTP receiver stopped.")
