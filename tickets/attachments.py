"""Files on messages (DESIGN §8 step 7): checked, named and typed here, stored through
Django's storage (MEDIA_ROOT, var/media/ by default) under a random name.

What a sender says about a file is not trusted: its name only labels the download (no
path parts, no control characters, card numbers masked), and its content type is kept
only when it is a well-formed type; an image type must match the file's first bytes, so a
page cannot pass itself off as a PNG. Downloads are always served with nosniff, and only
PNG, JPEG and GIF ever inline (tickets/api/attachment_views.py)."""

import mimetypes
import re
import unicodedata
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction

from support_desk.errors import InvalidRequest

from .masking import mask_card_numbers
from .models import Attachment, Message, Ticket

OCTET_STREAM = "application/octet-stream"
# The only types a browser is allowed to show in place; never SVG or HTML (they run script).
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
MAX_FILENAME = 255
MAX_PER_MESSAGE = 10


class AttachmentTooLarge(InvalidRequest):
    code = "attachment_too_large"


def attachment_filename(name: str | None) -> str:
    """The label a download gets: the last path part, printable, masked, at most 255."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    name = mask_card_numbers(unicodedata.normalize("NFC", name))
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = (stem if dot else name)[: MAX_FILENAME - len(ext) - 1] + (f".{ext}" if ext else "")
    return name or "attachment"


def attachment_content_type(declared: str | None, filename: str, head: bytes) -> str:
    """The content type to store: the declared one when well-formed (else guessed from the
    name), an image type only when the bytes are that image, octet-stream otherwise."""
    content_type = (declared or "").split(";", 1)[0].strip().lower()
    if not _TYPE.match(content_type) or content_type == OCTET_STREAM:
        content_type = (mimetypes.guess_type(filename)[0] or OCTET_STREAM).lower()
    if content_type in _MAGIC and not head.startswith(_MAGIC[content_type]):
        return OCTET_STREAM
    return content_type


def attachment_check_size(size: int, *, filename: str = "", param: str = "attachments") -> None:
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise AttachmentTooLarge(
            f"{filename or 'The file'} is {size} bytes; the limit is {limit} bytes per file.",
            param=param,
        )


@transaction.atomic
def attachment_add(
    *,
    ticket: Ticket,
    message: Message | None,
    filename: str | None,
    content_type: str | None = None,
    data: bytes | None = None,
    file: IO[bytes] | None = None,
    content_id: str = "",
) -> Attachment:
    """Store one file on a ticket's message; `data` (bytes) or `file` (a file object, e.g.
    an upload). A file over ATTACHMENT_MAX_BYTES is refused (400 attachment_too_large)."""
    if (data is None) == (file is None):
        raise ValueError("Give exactly one of data and file.")
    if message is not None and message.ticket_id != ticket.pk:
        raise ValueError("The message belongs to another ticket.")
    name = attachment_filename(filename)
    if data is not None:
        size, head, content = len(data), data[:16], ContentFile(data)
    else:
        size = getattr(file, "size", None)
        if size is None:
            file.seek(0, 2)
            size = file.tell()
        file.seek(0)
        head = file.read(16)
        file.seek(0)
        content = File(file)
    attachment_check_size(size, filename=name)
    attachment = Attachment(
        ticket=ticket,
        message=message,
        filename=name,
        content_type=attachment_content_type(content_type, name, head),
        size=size,
        content_id=content_id[:255],
    )
    attachment.file.save(name, content, save=False)
    attachment.save()
    return attachment
