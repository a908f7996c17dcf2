"""The generic webhook format: signature check and payload parsing (documented in docs/connectors/generic-webhook.md).

A delivery is ``POST /hooks/<account-id>/`` with a JSON body, signed in the header
``X-Dandelion-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the account's webhook secret>``.
The body is one event object or ``{"events": [event, ...]}`` (1 to ``MAX_BATCH`` events). Unknown fields are
ignored (and kept in ``InboundEvent.raw``), so senders may add their own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from dandelion.connectors.base import EVENT_KINDS, InboundAuthor, InboundEvent
from dandelion.connectors.errors import PayloadError, PayloadTooLarge, SignatureError

MAX_BODY_BYTES = 256 * 1024
MAX_BATCH = 100
MAX_TEXT_CHARS = 10_000
MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200
SIGNATURE_HEADER = "X-Dandelion-Signature"
SIGNATURE_PREFIX = "sha256="

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
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


# --- payload -----------------------------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _id(obj: Mapping[str, Any], name: str, path: str, *, required: bool) -> str | None:
    """An external id: a non-empty string or an integer (converted to str), at most MAX_ID_CHARS."""
    value = obj.get(name)
    where = _join(path, name)
    if value is None:
        if required:
            raise PayloadError("required", where)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PayloadError("must be a string", where)
    value = value.strip()
    if not value:
        raise PayloadError("must not be empty", where)
    if len(value) > MAX_ID_CHARS:
        raise PayloadError(f"must be at most {MAX_ID_CHARS} characters", where)
    return value


def _str(obj: Mapping[str, Any], name: str, path: str, *, max_len: int, required: bool = False) -> str:
    value = obj.get(name)
    where = _join(path, name)
    if value is None:
        if required:
            raise PayloadError("required", where)
        return ""
    if not isinstance(value, str):
        raise PayloadError("must be a string", where)
    if required and not value.strip():
        raise PayloadError("must not be empty", where)
    if len(value) > max_len:
        raise PayloadError(f"must be at most {max_len:,} characters", where)
    return value


def _created_at(obj: Mapping[str, Any], path: str) -> dt.datetime:
    where = _join(path, "created_at")
    value = obj.get("created_at")
    if value is None:
        raise PayloadError("required", where)
    if not isinstance(value, str):
        raise PayloadError("must be an ISO 8601 string", where)
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(f"not an ISO 8601 date-time: {value[:40]!r}", where) from None
    if parsed.tzinfo is None:  # documented: a time without offset is UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _author(obj: Mapping[str, Any], path: str) -> InboundAuthor:
    where = _join(path, "author")
    value = obj.get("author")
    if value is None:
        raise PayloadError("required", where)
    if not isinstance(value, dict):
        raise PayloadError("must be an object", where)
    followers = value.get("followers")
    if followers is not None and (
        not isinstance(followers, int) or isinstance(followers, bool) or followers < 0
    ):
        raise PayloadError("must be a non-negative integer or null", _join(where, "followers"))
    language = value.get("language")
    if language is not None and (not isinstance(language, str) or not _LANGUAGE_RE.match(language)):
        raise PayloadError("must be a language code such as 'fr' or 'pt-BR'", _join(where, "language"))
    country = value.get("country")
    if country is not None and (not isinstance(country, str) or not _COUNTRY_RE.match(country)):
        raise PayloadError("must be an ISO 3166-1 alpha-2 code such as 'SN'", _join(where, "country"))
    return InboundAuthor(
        external_id=_id(value, "id", where, required=True) or "",
        name=_str(value, "name", where, max_len=MAX_NAME_CHARS),
        handle=_str(value, "handle", where, max_len=MAX_NAME_CHARS),
        followers=followers,
        language=language.lower() if language else None,
        country=country.upper() if country else None,
    )


def parse_event(obj: Any, path: str = "") -> InboundEvent:
    """Validate one event object; ``PayloadError`` names the first bad field by its path."""
    if not isinstance(obj, dict):
        raise PayloadError("must be an object", path or "body")
    kind = obj.get("kind")
    if kind is None:
        raise PayloadError("required", _join(path, "kind"))
    if kind not in EVENT_KINDS:
        raise PayloadError(f"must be one of {', '.join(sorted(EVENT_KINDS))}", _join(path, "kind"))
    from_account = obj.get("from_account", False)
    if not isinstance(from_account, bool):
        raise PayloadError("must be true or false", _join(path, "from_account"))
    return InboundEvent(
        external_id=_id(obj, "id", path, required=True) or "",
        kind=kind,
        text=_str(obj, "text", path, max_len=MAX_TEXT_CHARS, required=True),
        created_at=_created_at(obj, path),
        author=_author(obj, path),
        in_reply_to=_id(obj, "in_reply_to", path, required=False),
        from_account=from_account,
        raw=obj,
    )


def parse_payload(body: bytes) -> list[InboundEvent]:
    """Decode and validate a body (one event or a batch) without checking its signature."""
    check_size(body)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("must be UTF-8 encoded JSON") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
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
