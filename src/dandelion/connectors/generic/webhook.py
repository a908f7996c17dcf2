"""The generic webhook format: signature check and payload parsing (documented in docs/connectors/generic-webhook.md).

A delivery is ``POST /hooks/<account-id>/`` with a JSON body, signed in the header
``X-Dandelion-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the account's webhook secret>``.
The body is one event object or ``{"events": [event, ...]}`` (1 to ``MAX_BATCH`` events). Unknown fields are
ignored (and kept in ``InboundEvent.raw``), so senders may add their own. Every limit (nesting, Unicode, lengths,
dates, integers) is the shared validator's, :mod:`dandelion.connectors.validation`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

from dandelion.connectors import validation
from dandelion.connectors.base import InboundAuthor, InboundEvent
from dandelion.connectors.errors import PayloadError, PayloadTooLarge, SignatureError

MAX_BODY_BYTES = 256 * 1024
MAX_BATCH = 100
MAX_TEXT_CHARS = validation.MAX_TEXT_CHARS
MAX_ID_CHARS = validation.MAX_ID_CHARS
MAX_NAME_CHARS = validation.MAX_NAME_CHARS
MAX_DEPTH = validation.MAX_DEPTH
SIGNATURE_HEADER = "X-Dandelion-Signature"
SIGNATURE_PREFIX = "sha256="

_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


def sign(body: bytes, secret: str) -> str:
    """The header value a sender puts in ``X-Dandelion-Signature`` for ``body``: ``"sha256=<hex>"``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (works for dicts, Django's ``request.headers`` and WSGI-style ``HTTP_*`` keys)."""
    wanted = name.lower()
    wsgi = "http_" + wanted.replace("-", "_")
    for key, value in headers.items():
        if key.lower() in (wanted, wsgi):
            return value
    return None


def check_size(body: bytes) -> None:
    """``PayloadTooLarge`` when ``body`` exceeds ``MAX_BODY_BYTES`` (the view should also cap what it reads)."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {len(body)} bytes, the limit is {MAX_BODY_BYTES}")


def verify_signature(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    """Check the delivery's signature in constant time; ``SignatureError`` when missing, malformed or wrong."""
    if not secret:
        raise SignatureError("the account has no webhook secret; deliveries cannot be verified")
    value = _header(headers, SIGNATURE_HEADER)
    if not value:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", missing=True)
    value = value.strip()
    if not value.startswith(SIGNATURE_PREFIX) or not _HEX64_RE.match(value[len(SIGNATURE_PREFIX) :].lower()):
        raise SignatureError(f"{SIGNATURE_HEADER} must look like 'sha256=<64 hex digits>'")
    expected = sign(body, secret)
    if not hmac.compare_digest(expected.encode("ascii"), value.lower().encode("ascii")):
        raise SignatureError("signature does not match the body")


# --- payload: every rule is the shared validator's (connectors/validation.py) -----------------------------------


def _object(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        raise PayloadError("required", path)
    if not isinstance(value, dict):
        raise PayloadError("must be an object", path)
    return value


def _author(obj: Mapping[str, Any], path: str) -> InboundAuthor:
    where = validation.join(path, "author")
    value = _object(obj.get("author"), where)
    return InboundAuthor(
        external_id=validation.check_identifier(value.get("id"), validation.join(where, "id"), required=True) or "",
        name=validation.check_text(value.get("name"), validation.join(where, "name"), max_chars=MAX_NAME_CHARS),
        handle=validation.check_text(value.get("handle"), validation.join(where, "handle"),
                                     max_chars=validation.MAX_HANDLE_CHARS),
        followers=validation.check_count(value.get("followers"), validation.join(where, "followers")),
        language=validation.check_language(value.get("language"), validation.join(where, "language")),
        country=validation.check_country(value.get("country"), validation.join(where, "country")),
    )


def parse_event(obj: Any, path: str = "") -> InboundEvent:
    """Validate one event object; ``PayloadError`` names the first bad field by its path."""
    if not isinstance(obj, dict):
        raise PayloadError("must be an object", path or "body")
    j = validation.join
    kind = validation.check_kind(obj.get("kind"), j(path, "kind"))
    external_id = validation.check_identifier(obj.get("id"), j(path, "id"), required=True) or ""
    text = validation.check_text(obj.get("text"), j(path, "text"), max_chars=MAX_TEXT_CHARS, required=True)
    created_at = validation.check_datetime(obj.get("created_at"), j(path, "created_at"))
    author = _author(obj, path)
    in_reply_to = validation.check_identifier(obj.get("in_reply_to"), j(path, "in_reply_to"), required=False)
    from_account = validation.check_bool(obj.get("from_account"), j(path, "from_account"))
    return InboundEvent(external_id=external_id, kind=kind, text=text, created_at=created_at, author=author,
                        in_reply_to=in_reply_to, from_account=from_account, raw=obj)


def parse_payload(body: bytes) -> list[InboundEvent]:
    """Decode and validate a body (one event or a batch) without checking its signature."""
    check_size(body)
    data = validation.load_json(body)
    if isinstance(data, dict) and "events" in data:
        events = data["events"]
        if not isinstance(events, list):
            raise PayloadError("must be a list", "events")
        if not 1 <= len(events) <= MAX_BATCH:
            raise PayloadError(f"must hold 1 to {MAX_BATCH} events, got {len(events)}", "events")
        return [parse_event(item, f"events[{i}]") for i, item in enumerate(events)]
    return [parse_event(data)]


def parse_delivery(body: bytes, headers: Mapping[str, str], secret: str) -> list[InboundEvent]:
    """The whole inbound check, cheapest first: size, then signature, then payload."""
    check_size(body)
    verify_signature(body, headers, secret)
    return parse_payload(body)
