"""An RFC 5322 message (as fetched from IMAP) → one ``InboundEvent``, tolerantly and within bounds.

* ``external_id``: the Message-ID (``<…>``); a message without one gets a stable digest of its headers and body,
  so fetching it again (a UIDVALIDITY change) never duplicates it.
* ``in_reply_to``: the In-Reply-To id, else the last References id: the inbox threads on it (our replies' ids are
  their Message-IDs), so a customer's answer joins the conversation of the message it answers.
* ``kind``: ``dm`` (a mailbox is a private channel: a new thread from a customer joins that customer's private
  conversation, like a direct message). ``from_account``: sent by the mailbox's own address (an echo).
* text: the text/plain part, else the HTML part sanitised to text (nh3); the quoted history a mail client appends
  ("On … wrote:" and ``>`` lines) is cut; the subject leads the text of a message that starts a thread; attachments
  are listed by name, type and size, and their bytes (up to ``MAX_ATTACHMENT_BYTES`` each, ``MAX_ATTACHMENTS_BYTES``
  a message) travel in ``InboundEvent.attachments`` for the inbox to store (nothing is deleted or moved in the
  mailbox).
* Undecodable charsets fall back to UTF-8 with replacement; dates are clamped; everything is bounded
  (``tolerant``). A message larger than the connector's limit arrives with its headers and a note instead of its body.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.header
import email.policy
import email.utils
import re
from email.message import Message
from typing import Any

from dandelion.connectors.base import InboundAttachment, InboundAuthor, InboundEvent
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text, digest, html_to_text

MSGID_RE = re.compile(r"<[^<>\s]{1,900}>")
_QUOTE_HEADER_RE = re.compile(
    r"^(On .{0,300}wrote:|Le .{0,300}a écrit\s?:|-----\s?Original Message\s?-----|From: .+)$", re.MULTILINE)
MAX_ATTACHMENTS_LISTED = 20
#: Largest attachment whose bytes are kept for the inbox (larger ones are listed only); the inbox applies its own
#: limit too (``DANDELION_MAX_ATTACHMENT_BYTES``).
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Most bytes of attachments kept for one message.
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024
#: Largest part decoded for text (a 40 MB text part is not read into the inbox).
MAX_PART_BYTES = 2 * 1024 * 1024


def _header(msg: Message, name: str) -> str:
    """The header's value as text: raw 8-bit bytes (RFC 6532 UTF-8 headers) decoded as UTF-8, bounded."""
    wanted = name.lower()
    raw = next((value for key, value in getattr(msg, "_headers", []) if key.lower() == wanted), None)
    text = str(raw) if raw is not None else ""
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # the parser kept undecodable bytes as surrogates
        text = text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    return clean_text(text, limit=2000).replace("\n", " ")


def decode_words(value: str) -> str:
    """RFC 2047 encoded words (``=?utf-8?q?…?=``) decoded; the value as is when they are broken."""
    if "=?" not in (value or ""):
        return value or ""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        return value


def message_ids(value: str) -> list[str]:
    """The ``<id>`` tokens of a Message-ID / In-Reply-To / References header, in order."""
    return MSGID_RE.findall(value or "")


def _decode_part(part: Message) -> str:
    try:
        decoded = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001 - broken transfer encoding
        decoded = str(part.get_payload() or "").encode("utf-8", errors="replace")
    if not isinstance(decoded, bytes):
        decoded = str(decoded).encode("utf-8", errors="replace")
    payload = decoded[:MAX_PART_BYTES]
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except (LookupError, UnicodeError):  # unknown charset name
        return payload.decode("utf-8", errors="replace")


def _walk(msg: Message) -> tuple[str, str, list[dict[str, Any]]]:
    plain, html_text = "", ""
    attachments: list[dict[str, Any]] = []
    parts = msg.walk() if msg.is_multipart() else [msg]
    for i, part in enumerate(parts):
        if i > 500:  # a hostile message with thousands of parts
            break
        if part.is_multipart():
            continue
        ctype = (part.get_content_type() or "text/plain").lower()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = part.get_filename()
        if disposition == "attachment" or (filename and not ctype.startswith("text/")) or (
            not ctype.startswith("text/") and ctype != "message/rfc822"
        ):
            if len(attachments) < MAX_ATTACHMENTS_LISTED:
                try:
                    data = part.get_payload(decode=True) or b""
                except Exception:  # noqa: BLE001
                    data = b""
                if not isinstance(data, bytes):
                    data = b""
                attachments.append({"filename": clean_text(decode_words(filename or ""), 200) or "(unnamed)",
                                    "content_type": ctype[:100], "size": len(data), "part": i, "data": data})
            continue
        if ctype == "text/plain" and not plain:
            plain = _decode_part(part)
        elif ctype == "text/html" and not html_text:
            html_text = _decode_part(part)
    return plain, html_text, attachments


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the "On … wrote:" line (or a forwarded header), drop trailing ``>`` lines."""
    match = _QUOTE_HEADER_RE.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    lines = text.rstrip().splitlines()
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines).strip() or text.strip()


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def parse_message(raw: bytes, *, account_address: str, now: dt.datetime, uid: int | None = None,
                  truncated_size: int | None = None) -> InboundEvent:
    """Build the event of one fetched message. ``truncated_size``: the message was over the size limit and only
    its headers were fetched (``raw`` is the header block)."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    ids = message_ids(_header(msg, "Message-ID"))
    subject = clean_text(decode_words(_header(msg, "Subject")), 500)
    try:
        name, address = email.utils.parseaddr(_header(msg, "From"))
    except Exception:  # noqa: BLE001
        name, address = "", ""
    address = clean_text(address, 254).lower()
    name = clean_text(decode_words(name), 200)
    date = None
    try:
        date = email.utils.parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
    except (TypeError, ValueError, IndexError, OverflowError):
        date = None
    created_at = clamp_date(date, now=now)

    parent_ids = message_ids(_header(msg, "In-Reply-To")) or message_ids(_header(msg, "References"))[-1:]
    in_reply_to = bounded_id(parent_ids[0]) if parent_ids else None

    if truncated_size is not None:
        attachments: list[dict[str, Any]] = []
        body = (f"(This message is {_size(truncated_size)}, over the size limit: its body was not imported; it "
                "stays in the mailbox.)")
    else:
        plain, html_text, attachments = _walk(msg)
        body = clean_text(plain, 60_000) if plain.strip() else html_to_text(html_text, 60_000)
        body = strip_quoted(body) if in_reply_to else body
    lines = [subject] if subject and not in_reply_to else []
    if body:
        lines.append(body)
    if attachments:
        lines.append("Attachments: " + ", ".join(f"{a['filename']} ({a['content_type']}, {_size(a['size'])})"
                                                   for a in attachments))
    text = clean_text("\n\n".join(lines)) or "(empty message)"

    files, kept = [], 0
    for a in attachments:
        data = a.pop("data", b"")
        keep = bool(data) and len(data) <= MAX_ATTACHMENT_BYTES and kept + len(data) <= MAX_ATTACHMENTS_BYTES
        kept += len(data) if keep else 0
        a["stored"] = keep
        files.append(InboundAttachment(filename=a["filename"], content_type=a["content_type"], size=a["size"],
                                       data=data if keep else b""))
    if ids:
        external_id = bounded_id(ids[0])
    else:
        external_id = f"<{digest(_header(msg, 'Date'), address, subject, raw[:65536])}@dandelion.no-message-id>"
    return InboundEvent(
        external_id=external_id,
        kind="dm",
        text=text,
        created_at=created_at,
        author=InboundAuthor(external_id=address or "unknown-sender", name=name, handle=address),
        in_reply_to=in_reply_to,
        from_account=bool(address) and address == account_address.strip().lower(),
        raw={"uid": uid, "subject": subject, "message_id": ids[0] if ids else None,
             "references": message_ids(_header(msg, "References"))[-20:], "attachments": attachments,
             "truncated_size": truncated_size},
        attachments=tuple(files),
    )
