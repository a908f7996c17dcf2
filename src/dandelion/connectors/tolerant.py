"""Tolerant, bounded construction of ``InboundEvent`` fields from what a network (a mailbox, a feed) sends.

The e-mail and feed connectors read input written by anyone: these helpers never raise on content. Text is made
valid Unicode (lone surrogates and undecodable bytes replaced, NUL and other control characters dropped) and cut at a
bound; dates are clamped to what the inbox can use; identifiers that do not fit the inbox's columns are replaced by a
stable digest. (The shared InboundEvent validator of ``connectors/validation.py``, when present, runs after these on
the inbox side; these keep each connector safe on its own.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re

import nh3

#: Longest text kept for one inbound item (the generic webhook's bound).
MAX_TEXT_CHARS = 10_000
#: Longest external id the inbox stores (``Message.external_id``); longer ones become a digest.
MAX_ID_CHARS = 150
#: Oldest date accepted for an item: anything before is a broken clock or a forged header.
MIN_DATE = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
#: How far in the future a sender's clock may be before its date is replaced by the reception time.
FUTURE_SLACK = dt.timedelta(hours=1)

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES_RE = re.compile(r"\n{3,}")
_SPACES_RE = re.compile(r"[ \t\u00a0]+")


def _valid_unicode(text: str) -> str:
    """``text`` with every lone surrogate replaced by ``?`` (what UTF-8, a database column or nh3 can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def clean_text(value: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Valid Unicode without control characters (newlines and tabs kept), stripped, at most ``limit`` chars
    (an ellipsis marks a cut)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value)
    text = _valid_unicode(text)  # lone surrogates -> '?'
    text = _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text


def html_to_text(markup: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Readable plain text of untrusted HTML: sanitised by nh3 down to no tags at all (scripts, styles and their
    content dropped), entities decoded, blank runs collapsed."""
    if not markup:
        return ""
    if isinstance(markup, bytes):
        markup = markup.decode("utf-8", errors="replace")
    # bound the sanitiser's work on a hostile document; nh3 (Rust) refuses lone surrogates: replace them first
    markup = _valid_unicode(str(markup)[: limit * 20])
    block = re.sub(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", "\n", markup)
    stripped = nh3.clean(block, tags=set(), attributes={}, clean_content_tags={"script", "style", "head", "title"},
                         strip_comments=True)
    text = html.unescape(stripped)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.splitlines()]
    return clean_text(_BLANK_LINES_RE.sub("\n\n", "\n".join(lines)), limit)


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 string as an aware datetime (UTC when it names no zone); None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def clamp_date(value: dt.datetime | None, *, now: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime within [MIN_DATE, now + FUTURE_SLACK]; ``now`` when absent or absurd."""
    if value is None:
        return now
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        value = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return now
    if value < MIN_DATE or value > now + FUTURE_SLACK:
        return now
    return value


def bounded_id(value: str, *, prefix: str = "") -> str:
    """``value`` if it fits ``MAX_ID_CHARS``; otherwise a stable digest of it (same input, same id)."""
    value = clean_text(value, limit=10_000).replace("\n", " ")
    if value and len(value) <= MAX_ID_CHARS:
        return value
    return f"{prefix}sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def digest(*parts: object) -> str:
    """A short stable digest of ``parts`` (for items without an id of their own)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(str(part).encode("utf-8", errors="replace"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]
