"""Reading raw e-mail: card-number masking of the stored bytes, the fields processing needs,
robots (RFC 3834) and delivery status reports (RFC 3464). Pure functions: no database.

Everything uses the standard library's `email` package with `policy.default`.
"""

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage as MimeMessage
from email.message import Message as LegacyMessage
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.utils import getaddresses

from mailparser_reply import EmailReplyParser

from tickets.masking import mask_card_numbers

# Headers whose text an agent sees (a subject can carry a card number as well as a body).
_MASKED_HEADERS = ("Subject", "Thread-Topic")
_ROBOT_LOCAL_PARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+\-].*)?$", re.I
)
_MSGID = re.compile(r"<([^<>\s]+)>")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "pt"]


def looks_like_mail(raw: bytes) -> bool:
    """At least one header line before the body: anything else is not an e-mail. An mbox
    "From " line first (some pipe transports add one) is allowed; the parser drops it."""
    head = raw.lstrip(b"\r\n")[:2000]
    if head.startswith(b"From "):
        head = head.partition(b"\n")[2]
    return bool(_HEADER_LINE.match(head))


def _mask_part_text(part: MimeMessage) -> bool:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        return False
    if not isinstance(text, str):
        return False
    masked = mask_card_numbers(text)
    if masked == text:
        return False
    kwargs = {}
    disposition = part.get_content_disposition()
    if disposition:
        kwargs["disposition"] = disposition
    if part.get_filename():
        kwargs["filename"] = part.get_filename()
    if part["Content-ID"]:
        kwargs["cid"] = str(part["Content-ID"])
    part.set_content(masked, subtype=part.get_content_subtype(), charset="utf-8", **kwargs)
    return True


def _mask_filename(part: MimeMessage) -> bool:
    changed = False
    for param, header in (("filename", "Content-Disposition"), ("name", "Content-Type")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        text = str(value if not isinstance(value, tuple) else part.get_filename() or "")
        masked = mask_card_numbers(text)
        if masked != text:
            part.set_param(param, masked, header=header)
            changed = True
    return changed


def mask_raw(raw: bytes) -> bytes:
    """`raw` with every card number in its subject, decoded text parts (plain, HTML, text
    attachments, enclosed messages) and file names masked, those parts re-encoded. The
    same bytes when there is nothing to mask, so such messages are kept exactly."""
    if not any(mask_card_numbers(chunk) != chunk for chunk in _candidates(raw)):
        return raw
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        for name in _MASKED_HEADERS:
            for header in (message, *(p for p in message.walk() if p is not message)):
                value = header[name]
                if value is not None and mask_card_numbers(str(value)) != str(value):
                    header.replace_header(name, mask_card_numbers(str(value)))
        for part in message.walk():
            if part.is_multipart():
                continue
            _mask_filename(part)
            if part.get_content_maintype() == "text":
                _mask_part_text(part)
        masked = message.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    except Exception:  # a message too broken to rebuild: mask its bytes as they are
        masked = raw
    # What decoding could not reach (a broken part, an unusual encoding) is masked in place.
    return _mask_bytes(masked)


def _candidates(raw: bytes) -> list[str]:
    """Texts in which a card number may hide: the bytes themselves and, cheaply, every
    decoded text part and header (base64 and quoted-printable hide digits)."""
    out = [raw.decode("utf-8", "surrogateescape")]
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        for part in message.walk():
            for name in _MASKED_HEADERS:
                if part[name] is not None:
                    out.append(str(part[name]))
            if part.is_multipart():
                continue
            out.append(part.get_filename() or "")
            if part.get_content_maintype() == "text":
                try:
                    out.append(part.get_content())
                except Exception:
                    continue
    except Exception:
        pass
    return out


def _mask_bytes(raw: bytes) -> bytes:
    text = raw.decode("utf-8", "surrogateescape")
    masked = mask_card_numbers(text)
    return raw if masked is text else masked.encode("utf-8", "surrogateescape")


def header_message_id(raw: bytes) -> str:
    headers = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    return first_msgid(str(headers.get("Message-ID", "") or ""))


def msgids(value: str) -> list[str]:
    """Message-IDs in a header value, without angle brackets, in order."""
    found = _MSGID.findall(value or "")
    if not found and value and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return [m[:990] for m in found]


def first_msgid(value: str) -> str:
    ids = msgids(value)
    return ids[0] if ids else ""


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""


@dataclass
class Bounce:
    original_message_ids: list[str]
    recipients: list[tuple[str, str, str]]  # (address, status "5.1.1", diagnostic)

    @property
    def permanent(self) -> list[str]:
        return [address for address, status, _ in self.recipients if status.startswith("5")]

    def reason(self) -> str:
        return "; ".join(
            f"{address}: {status} {diagnostic}".strip()
            for address, status, diagnostic in self.recipients
        )[:2000]


@dataclass
class Parsed:
    message_id: str
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    in_reply_to: str
    references: list[str]
    text: str
    html: str
    attachments: list[Part] = field(default_factory=list)
    robot: bool = False
    bounce: Bounce | None = None
    delivered_to: list[str] = field(default_factory=list)


class Unparseable(ValueError):
    """The message cannot become a ticket message (kept, marked failed, shown to admins)."""


def _addresses(message: MimeMessage, name: str) -> list[tuple[str, str]]:
    values = [str(v) for v in message.get_all(name, [])]
    out = []
    for display, address in getaddresses(values):
        address = address.strip().lower()
        if "@" in address and len(address) <= 254:
            out.append((display.strip(), address))
    return out


def is_robot(message: MimeMessage, from_address: str) -> bool:
    """RFC 3834 and common practice: mail sent by a program, which must not get an answer."""
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if precedence in ("bulk", "junk", "list"):
        return True
    if message.get("List-Id") is not None or message.get("X-Auto-Response-Suppress") is not None:
        return True
    return bool(_ROBOT_LOCAL_PARTS.match(from_address.partition("@")[0]))


def _is_report(message: MimeMessage) -> bool:
    return (
        message.get_content_type() == "multipart/report"
        and str(message.get_param("report-type", "")).lower() == "delivery-status"
    )


def _bounce(message: MimeMessage) -> Bounce:
    recipients: list[tuple[str, str, str]] = []
    originals: list[str] = []
    for part in message.iter_parts():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            # The email package parses the body into header blocks: the first describes
            # the report, each following one a recipient.
            blocks = part.get_payload()
            if isinstance(blocks, str):
                blocks = _status_blocks(blocks)
            for block in blocks[1:] if len(blocks) > 1 else blocks:
                recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient"))
                address = recipient.partition(";")[2].strip().strip("<>").lower()
                if not address or block.get("Final-Recipient") is None:
                    continue
                status = str(block.get("Status", "") or "").strip()
                action = str(block.get("Action", "") or "").strip().lower()
                if not status:
                    status = "5.0.0" if action == "failed" else "4.0.0"
                if action in ("delivered", "relayed", "expanded"):
                    continue
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "") or "").split())
                recipients.append((address, status, diagnostic[:500]))
        elif ctype == "message/rfc822":
            enclosed = part.get_payload()
            enclosed = enclosed[0] if isinstance(enclosed, list) and enclosed else enclosed
            if isinstance(enclosed, LegacyMessage):
                originals += msgids(str(enclosed.get("Message-ID", "") or ""))
        elif ctype == "text/rfc822-headers":
            try:
                headers = HeaderParser(policy=policy.default).parsestr(part.get_content())
            except Exception:
                continue
            originals += msgids(str(headers.get("Message-ID", "") or ""))
    return Bounce(original_message_ids=originals, recipients=recipients)


def _status_blocks(text: str) -> list:
    parser = HeaderParser(policy=policy.default)
    return [parser.parsestr(chunk) for chunk in re.split(r"\r?\n\s*\r?\n", text) if chunk.strip()]


def _text(part: MimeMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    # PostgreSQL cannot store NUL in text; a stray one must not make the message fail.
    return content.replace("\x00", "") if isinstance(content, str) else ""


def _leaves(message: MimeMessage):
    """Every leaf part; an enclosed message is one leaf (an .eml attachment), not walked."""
    stack = [message]
    while stack:
        part = stack.pop(0)
        if part.get_content_type() == "message/rfc822" and part is not message:
            yield part
        elif part.is_multipart():
            stack[0:0] = list(part.iter_parts())
        else:
            yield part


def parse(raw: bytes) -> Parsed:
    """The fields processing needs; raises Unparseable when there is no usable sender."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        return _parse(message)
    except Unparseable:
        raise
    except Exception as exc:
        raise Unparseable(f"{exc.__class__.__name__}: {exc}") from exc


def _parse(message: MimeMessage) -> Parsed:
    senders = _addresses(message, "From") or _addresses(message, "Sender")
    if not senders:
        raise Unparseable("The message has no valid From address.")
    from_name, from_address = senders[0]
    subject = " ".join(str(message.get("Subject", "") or "").replace("\x00", "").split())
    bounce = _bounce(message) if _is_report(message) else None

    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    text = _text(plain) if plain is not None else ""
    html_text = _text(html) if html is not None else ""
    attachments: list[Part] = []
    for part in _leaves(message):
        if part is plain or part is html:
            continue
        if part.get_content_type() == "message/rfc822":
            enclosed = part.get_payload()
            enclosed = enclosed[0] if isinstance(enclosed, list) else enclosed
            data = enclosed.as_bytes() if isinstance(enclosed, LegacyMessage) else b""
            name = part.get_filename() or "message.eml"
            attachments.append(Part(mask_card_numbers(name), "message/rfc822", data))
            continue
        filename = part.get_filename()
        ctype = part.get_content_type()
        if (
            not filename
            and part.get_content_maintype() == "text"
            and ctype != "text/html"
            and part.get_content_disposition() != "attachment"
            and bounce is None
        ):
            text += "\n\n" + _text(part)  # more inline text (some clients split bodies)
            continue
        data = part.get_payload(decode=True) or b""
        content_id = (str(part.get("Content-ID", "") or "")).strip().strip("<>")
        if not filename:
            extension = {"text/plain": "txt", "text/html": "html"}.get(ctype, "bin")
            filename = f"part-{len(attachments) + 1}.{extension}"
        attachments.append(Part(mask_card_numbers(filename)[:255], ctype, data, content_id))
    to = _addresses(message, "To")
    cc = _addresses(message, "Cc")
    delivered = [
        a for _, a in _addresses(message, "Delivered-To") + _addresses(message, "X-Original-To")
    ]
    return Parsed(
        message_id=first_msgid(str(message.get("Message-ID", "") or "")),
        subject=mask_card_numbers(subject),
        from_address=from_address,
        from_name=mask_card_numbers(from_name.replace("\x00", ""))[:200],
        to=[a for _, a in to],
        cc=[a for _, a in cc],
        in_reply_to=first_msgid(str(message.get("In-Reply-To", "") or "")),
        references=msgids(str(message.get("References", "") or "")),
        text=mask_card_numbers(text.replace("\r\n", "\n").strip()),
        html=mask_card_numbers(html_text),
        attachments=attachments,
        robot=bounce is not None or is_robot(message, from_address),
        bounce=bounce,
        delivered_to=delivered,
    )


def split_reply(text: str) -> tuple[str, str]:
    """(the new text, the quoted history below it); the history is kept, folded away."""
    if not text.strip():
        return "", ""
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text).replies
    except Exception:
        return text, ""
    if not replies:
        return text, ""
    latest = replies[0].content.strip()
    history = "\n\n".join(r.content for r in replies[1:] if r.content).strip()
    if not latest:
        return text, ""
    return latest, history
