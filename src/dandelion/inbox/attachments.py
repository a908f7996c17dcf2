"""Inbound attachments: kept when a poll is stored, shown and downloaded from the conversation.

* Bounded: at most ``DANDELION_MAX_ATTACHMENT_BYTES`` a file (default 10 MiB) and ``MAX_PER_MESSAGE`` files a
  message; a larger file is listed (name, type, size) with ``stored=False``.
* The bytes are content-addressed (``<account>/<sha256[:2]>/<sha256>`` in the attachments storage, under
  ``DANDELION_ATTACHMENTS_DIR``, default ``var/attachments``): the sender's file name never reaches a path.
* The file name is sanitised for display and for the download's ``Content-Disposition``; downloads are always
  ``application/octet-stream`` with ``nosniff`` (an HTML or SVG attachment is never rendered by the browser).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from dandelion.connectors.base import InboundEvent

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_PER_MESSAGE = 20
MAX_FILENAME_CHARS = 120
_UNSAFE_RE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def max_bytes() -> int:
    return int(getattr(settings, "DANDELION_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_BYTES))


def storage() -> FileSystemStorage:
    location = getattr(settings, "DANDELION_ATTACHMENTS_DIR", None) or (settings.VAR_DIR / "attachments")
    return FileSystemStorage(location=str(location))


def safe_filename(name: str, *, fallback: str = "attachment") -> str:
    """A file name safe to show and to offer for download: no directories, no control or reserved characters, no
    leading dots, valid Unicode (NFC), at most ``MAX_FILENAME_CHARS`` characters with its extension kept."""
    name = (name or "").encode("utf-8", errors="replace").decode("utf-8")
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_RE.sub("_", name).strip().lstrip(".").strip()
    name = re.sub(r"\s+", " ", name)
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot and stem else ""
        name = name[: MAX_FILENAME_CHARS - len(ext) - 1].rstrip() + ("." + ext if ext else "")
    return name or fallback


def store_event_attachments(account, events: Iterable[InboundEvent]) -> int:
    """Store the attachments of ``events`` for ``account`` (idempotent: a message's files are stored once, so a
    poll that runs again changes nothing); the number of files newly recorded."""
    from dandelion.inbox.models import MessageAttachment

    limit, store, made = max_bytes(), storage(), 0
    for event in events:
        files = list(event.attachments or ())[:MAX_PER_MESSAGE]
        if not files or MessageAttachment.objects.filter(account=account, external_id=event.external_id).exists():
            continue
        rows = []
        for position, item in enumerate(files):
            data = item.data or b""
            keep = bool(data) and len(data) <= limit
            digest = hashlib.sha256(data).hexdigest() if keep else ""
            row = MessageAttachment(account=account, external_id=event.external_id, position=position,
                                    filename=safe_filename(item.filename), content_type=(item.content_type or
                                    "application/octet-stream")[:100], size=max(0, int(item.size or len(data))),
                                    sha256=digest, stored=keep)
            if keep and not store.exists(row.storage_name):
                store.save(row.storage_name, ContentFile(data))
            rows.append(row)
        MessageAttachment.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
    return made


def attachments_by_message(account_id: int, external_ids: Iterable[str]) -> dict[str, list]:
    """``{external_id: [MessageAttachment, ...]}`` for the messages shown (one query)."""
    from dandelion.inbox.models import MessageAttachment

    ids = [i for i in external_ids if i]
    found: dict[str, list] = {}
    if not ids:
        return found
    for row in MessageAttachment.objects.filter(account_id=account_id, external_id__in=ids):
        found.setdefault(row.external_id, []).append(row)
    return found
