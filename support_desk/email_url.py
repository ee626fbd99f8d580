"""EMAIL_URL -> Django's e-mail settings, refusing what it cannot mean.

    smtp://user:password@host:port    plain SMTP (port 25 by default)
    smtp+tls://user:password@host     SMTP with STARTTLS (port 587 by default)
    smtps://user:password@host        SMTP over TLS (port 465 by default)
    file:///absolute/path             one file per message batch in that folder
    console:  locmem:  dummy:         Django's console, in-memory and no-op backends

User and password are percent-decoded (write "@" as %40). Unset or empty: mail is written
to files under var/mail/outbox/, so a development desk neither needs a mail server nor
floods its console.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}
SMTP_PORTS = {"smtp": 25, "smtp+tls": 587, "smtps": 465}


@dataclass(frozen=True)
class EmailConfig:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    file_path: str = ""


def email_config(url: str, *, default_file_path: Path) -> EmailConfig:
    if not url:
        return EmailConfig(backend=BACKENDS["file"], file_path=str(default_file_path))
    scheme = url.partition(":")[0].lower()
    if scheme in SMTP_PORTS:
        parts = urlsplit(url)
        try:
            port = parts.port or SMTP_PORTS[scheme]
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL has an invalid port: {url!r}") from None
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL needs a host, e.g. smtp://mail.example.com:25")
        return EmailConfig(
            backend=SMTP,
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=scheme == "smtp+tls",
            use_ssl=scheme == "smtps",
        )
    if scheme == "file":
        path = urlsplit(url).path
        if not path.startswith("/"):
            raise ImproperlyConfigured("EMAIL_URL file:// needs an absolute path: file:///path")
        return EmailConfig(backend=BACKENDS["file"], file_path=path)
    if scheme in BACKENDS:
        return EmailConfig(backend=BACKENDS[scheme])
    raise ImproperlyConfigured(
        "EMAIL_URL must start with smtp://, smtp+tls://, smtps://, file://, console:, "
        f"locmem: or dummy:, got {scheme!r}"
    )
