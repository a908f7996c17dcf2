"""The one gate for untrusted inbound data: what a connector turns into ``InboundEvent`` DTOs must pass here.

Whatever a network, a bridge or a dataset sends, an accepted event must be storable by the worker, on SQLite and on
PostgreSQL, and harmless to every library it reaches (the understanding models hash its text in a native extension
that crashes the process on a lone surrogate). So the limits below are those of the columns the inbox stores into
and of the Unicode the databases and extensions accept, checked at the edge, where a sender can still be told:

* **JSON** (:func:`load_json`): UTF-8, nesting at most :data:`MAX_DEPTH` levels (checked by a scan *before* parsing,
  so a 100,000-level body is a clean error, never a ``RecursionError``), no ``NaN``/``Infinity``, every number a
  finite float or an integer within signed 64 bits, every string and key free of lone surrogates and NUL.
* **Fields** (the ``check_*`` functions, used by the generic webhook parser on raw JSON values): types, lengths of
  the bounded columns, dates within 1970–2100, counts within the column's range.
* **DTOs** (:func:`validate_event` / :func:`validate_events` / :func:`partition_events`): the same rules on an
  ``InboundEvent`` built by any connector (API clients, dataset readers, future plugins), and again by the worker
  before it stores anything (defence in depth for deliveries stored before a rule existed).

Every failure is a ``PayloadError`` whose ``path`` names the field in the generic webhook's spelling
(``events[3].author.followers``), so the webhook answers 400 with it and the Deliveries page shows it.
This module is pure Python: no Django.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, cast

from dandelion.connectors.base import EVENT_KINDS, EventKind, InboundAuthor, InboundEvent, RejectedItem
from dandelion.connectors.errors import PayloadError

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_COUNT",
    "MAX_DEPTH",
    "MAX_HANDLE_CHARS",
    "MAX_ID_CHARS",
    "MAX_LANGUAGE_CHARS",
    "MAX_NAME_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_YEAR",
    "MIN_YEAR",
    "check_bool",
    "check_count",
    "check_country",
    "check_datetime",
    "check_identifier",
    "check_kind",
    "check_language",
    "check_text",
    "clean_string_error",
    "join",
    "load_json",
    "partition_events",
    "validate_event",
    "validate_events",
]

# --- limits: those of the columns the inbox stores into ------------------------------------------------------------

MAX_DEPTH = 32  # the generic format needs 4 ({"events": [{"author": {}}]}); senders' extra fields get the rest
MAX_TEXT_CHARS = 10_000
MAX_ID_CHARS = 150  # Message.external_id, Message.in_reply_to, AuthorIdentity.external_id
MAX_NAME_CHARS = 200  # Contact.name, AuthorIdentity.name
MAX_HANDLE_CHARS = 150  # AuthorIdentity.handle
MAX_LANGUAGE_CHARS = 35  # a BCP 47 tag ("zh-Hant-TW", "es-419"); the inbox keeps its first 8 characters
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
MAX_COUNT = 2**31 - 1  # followers: a PositiveIntegerField (a signed 32-bit column on every database)
MIN_YEAR = 1970
MAX_YEAR = 2100
_MIN_DATE = dt.datetime(MIN_YEAR, 1, 1, tzinfo=dt.UTC)
_MAX_DATE = dt.datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
_MAX_NUMBER_DIGITS = 25  # longer integer literals are never parsed (Python refuses > 4,300 digits with ValueError)

_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
# the depth scan keeps only the brackets outside strings: every byte but these four is deleted
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# the only ways a lone surrogate or a NUL gets into a decoded string (raw bytes for them are not valid UTF-8 JSON):
# a \uD800-\uDFFF or \u0000 escape. No match: no string needs checking (a match may be a false alarm: "\\u0000")
_SUSPECT_ESCAPE_RE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")


def join(path: str, name: str) -> str:
    """``path.name`` (``name`` alone at the top)."""
    return f"{path}.{name}" if path else name


# --- Unicode --------------------------------------------------------------------------------------------------------


def clean_string_error(value: str) -> str | None:
    """Why ``value`` cannot be stored (a lone surrogate, a NUL), or None when it can."""
    if "\x00" in value:
        return f"must not contain NUL characters (\\u0000, at character {value.index(chr(0)) + 1})"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"must be valid Unicode: lone surrogate \\u{ord(value[exc.start]):04x} at character {exc.start + 1}"
    return None


def _check_clean(value: str, path: str) -> None:
    problem = clean_string_error(value)
    if problem:
        raise PayloadError(problem, path)


# --- JSON -----------------------------------------------------------------------------------------------------------


class _Number:
    """A number JSON allows but no column stores (``NaN``, ``Infinity``, a 100-digit integer): kept as a marker by
    the parser so that the walk that follows can name its path."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def check_depth(body: bytes, max_depth: int = MAX_DEPTH) -> None:
    """``PayloadError`` when ``body`` nests arrays/objects deeper than ``max_depth`` (brackets inside strings do not
    count). Escaped backslashes and quotes are dropped, the strings cut out at their quotes, every other byte but
    brackets deleted (all in C), so the loop only sees the brackets; it stops at the first excess. Exact for valid
    JSON; invalid JSON is refused by the parser anyway."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return
    outside = b"".join(body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[0::2])
    depth = 0
    for byte in outside.translate(None, _NOT_BRACKETS):
        if byte == 91 or byte == 123:  # [ {
            depth += 1
            if depth > max_depth:
                raise PayloadError(f"nested deeper than {max_depth} levels")
        else:
            depth -= 1


def load_json(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode untrusted JSON safely: UTF-8, depth checked before parsing, then every value checked (no lone
    surrogate or NUL in any string or key, numbers finite and integers within signed 64 bits). ``PayloadError``
    (path ``body`` or the offending value's path) otherwise; never ``RecursionError`` or ``ValueError``.

    The walk that names a bad value's path runs only when the body can hold one: a number the parser set aside
    (``NaN``, ``1e999``, an integer beyond 64 bits) or an escape that can decode to a surrogate or a NUL."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"must be UTF-8 encoded JSON (invalid byte at offset {exc.start})") from None
    check_depth(body, max_depth)
    odd: list[_Number] = []

    def parse_int(literal: str) -> int | _Number:
        if len(literal) <= 18:  # always within 64 bits
            return int(literal)
        value = int(literal) if len(literal.lstrip("-")) <= _MAX_NUMBER_DIGITS else None
        if value is not None and INT64_MIN <= value <= INT64_MAX:
            return value
        odd.append(_Number(literal))
        return odd[-1]

    def parse_float(literal: str) -> float | _Number:
        value = float(literal)
        if math.isfinite(value):
            return value
        odd.append(_Number(literal))
        return odd[-1]

    def parse_constant(literal: str) -> _Number:
        odd.append(_Number(literal))
        return odd[-1]

    try:
        data = json.loads(text, parse_int=parse_int, parse_float=parse_float, parse_constant=parse_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (RecursionError, ValueError) as exc:  # not expected after the checks above: still a 400, not a 500
        raise PayloadError(f"invalid JSON ({type(exc).__name__})") from None
    if odd or _SUSPECT_ESCAPE_RE.search(body):
        check_tree(data)
    return data


def check_tree(data: Any, path: str = "") -> None:
    """Walk a decoded JSON value (iteratively) and reject what no column stores, naming its path."""
    stack: list[tuple[Any, str]] = [(data, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            _check_clean(value, where or "body")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise PayloadError("must be an integer within signed 64 bits", where or "body")
        elif isinstance(value, _Number):
            if value.text.lstrip("-").isdigit():
                raise PayloadError("must be an integer within signed 64 bits", where or "body")
            raise PayloadError(f"number out of range: {value.text[:30]}", where or "body")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise PayloadError("number out of range", where or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = clean_string_error(key)
                if problem:
                    raise PayloadError(f"key {problem}", where or "body")
                stack.append((item, join(where, key)))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))


# --- fields ---------------------------------------------------------------------------------------------------------


def check_text(value: Any, path: str, *, max_chars: int, required: bool = False) -> str:
    """A string of at most ``max_chars`` characters, storable (no lone surrogate, no NUL); ``required``: present
    and not blank. None/absent gives ``""`` when not required."""
    if type(value) is str and len(value) <= max_chars and _clean(value) and (not required or not value.isspace()) \
            and (value or not required):
        return value  # the common case, in one test
    if value is None:
        if required:
            raise PayloadError("required", path)
        return ""
    if not isinstance(value, str):
        raise PayloadError("must be a string", path)
    if len(value) > max_chars:
        raise PayloadError(f"must be at most {max_chars:,} characters", path)
    _check_clean(value, path)
    if required and not value.strip():
        raise PayloadError("must not be empty", path)
    return value


def check_identifier(value: Any, path: str, *, required: bool) -> str | None:
    """An external id: a non-blank string (stripped) or an integer within signed 64 bits (as its decimal string),
    at most :data:`MAX_ID_CHARS` characters."""
    if _clean_id(value):
        return value  # the common case, in one test
    if value is None:
        if required:
            raise PayloadError("required", path)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise PayloadError("must be an integer within signed 64 bits", path)
        return str(value)
    if not isinstance(value, str):
        raise PayloadError("must be a string", path)
    value = check_text(value.strip(), path, max_chars=MAX_ID_CHARS)
    if not value:
        raise PayloadError("must not be empty", path)
    return value


def check_count(value: Any, path: str) -> int | None:
    """A non-negative integer the count columns store (≤ :data:`MAX_COUNT`), or None."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError("must be a non-negative integer or null", path)
    if value < 0:
        raise PayloadError("must be a non-negative integer or null", path)
    if value > MAX_COUNT:
        raise PayloadError(f"must be at most {MAX_COUNT:,}", path)
    return value


def check_bool(value: Any, path: str, *, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise PayloadError("must be true or false", path)
    return value


def check_kind(value: Any, path: str) -> EventKind:
    if value is None:
        raise PayloadError("required", path)
    if not isinstance(value, str) or value not in EVENT_KINDS:
        raise PayloadError(f"must be one of {', '.join(sorted(EVENT_KINDS))}", path)
    return cast("EventKind", value)


def check_language(value: Any, path: str) -> str | None:
    """A language tag (``fr``, ``pt-BR``), lower-cased; None when absent."""
    if value is None:
        return None
    if (not isinstance(value, str) or len(value) > MAX_LANGUAGE_CHARS
            or not _LANGUAGE_RE.fullmatch(value)):
        raise PayloadError("must be a language code such as 'fr' or 'pt-BR'", path)
    return value.lower()


def check_country(value: Any, path: str) -> str | None:
    """An ISO 3166-1 alpha-2 code, upper-cased; None when absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not _COUNTRY_RE.fullmatch(value):
        raise PayloadError("must be an ISO 3166-1 alpha-2 code such as 'SN'", path)
    return value.upper()


def check_datetime(value: Any, path: str) -> dt.datetime:
    """An ISO 8601 string (or a datetime) between 1970-01-01 and 2100-12-31 UTC, as an aware UTC datetime. A time
    without an offset is UTC."""
    if value is None:
        raise PayloadError("required", path)
    if isinstance(value, str):
        if len(value) > 64:
            raise PayloadError("must be an ISO 8601 date-time", path)
        _check_clean(value, path)
        try:
            parsed = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise PayloadError(f"not an ISO 8601 date-time: {value[:40]!r}", path) from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise PayloadError("must be an ISO 8601 string", path)
    # the year is checked on the local date first: converting year 1 or 9999 with an offset would overflow
    if not MIN_YEAR - 1 <= parsed.year <= MAX_YEAR + 1:
        raise PayloadError(f"must be between {MIN_YEAR} and {MAX_YEAR}", path)
    try:
        offset = parsed.utcoffset()
    except (ValueError, TypeError):  # a tzinfo that answers nonsense
        raise PayloadError("has an invalid time zone offset", path) from None
    if offset is None:  # documented: a time without offset is UTC
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        utc = parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise PayloadError(f"must be between {MIN_YEAR} and {MAX_YEAR}", path) from None
    if not _MIN_DATE <= utc <= _MAX_DATE:
        raise PayloadError(f"must be between {MIN_YEAR} and {MAX_YEAR}", path)
    return utc


# --- DTOs -----------------------------------------------------------------------------------------------------------


_ZERO = dt.timedelta(0)


def _clean(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _clean_id(value: Any) -> bool:
    return type(value) is str and 0 < len(value) <= MAX_ID_CHARS and value.strip() == value and _clean(value)


def _already_clean(event: Any) -> bool:
    """True when ``event`` passes every rule *and* is already normalised: the common case (events the generic
    parser built, and every stored event the worker reads), checked without building a path or a copy."""
    if type(event) is not InboundEvent or type(event.author) is not InboundAuthor:
        return False
    author = event.author
    created = event.created_at
    return (
        _clean_id(event.external_id) and type(event.kind) is str and event.kind in EVENT_KINDS
        and type(event.text) is str and len(event.text) <= MAX_TEXT_CHARS and _clean(event.text)
        and bool(event.text.strip())
        and isinstance(created, dt.datetime) and created.utcoffset() == _ZERO and _MIN_DATE <= created <= _MAX_DATE
        and (event.in_reply_to is None or _clean_id(event.in_reply_to)) and type(event.from_account) is bool
        and _clean_id(author.external_id)
        and type(author.name) is str and len(author.name) <= MAX_NAME_CHARS and _clean(author.name)
        and type(author.handle) is str and len(author.handle) <= MAX_HANDLE_CHARS and _clean(author.handle)
        and (author.followers is None or (type(author.followers) is int and 0 <= author.followers <= MAX_COUNT))
        and (author.language is None or (type(author.language) is str and len(author.language) <= MAX_LANGUAGE_CHARS
                                         and author.language.islower() and _LANGUAGE_RE.fullmatch(author.language)
                                         is not None))
        and (author.country is None or (type(author.country) is str and author.country.isupper()
                                        and _COUNTRY_RE.fullmatch(author.country) is not None))
    )


def validate_event(event: Any, path: str = "") -> InboundEvent:
    """The gate for an ``InboundEvent`` built by any connector: the same rules as the generic webhook, on the DTO.
    Returns the event with its values normalised (ids stripped, created_at in UTC, language lower-cased, country
    upper-cased; the event itself when it already is), or raises ``PayloadError`` naming the field as the generic
    webhook spells it."""
    if _already_clean(event):
        return event
    if not isinstance(event, InboundEvent):
        raise PayloadError(f"must be an InboundEvent, not {type(event).__name__}", path or "event")
    author = event.author
    a_path = join(path, "author")
    if not isinstance(author, InboundAuthor):
        raise PayloadError("must be an author", a_path)
    clean_author = InboundAuthor(
        external_id=check_identifier(author.external_id or None, join(a_path, "id"), required=True) or "",
        name=check_text(author.name, join(a_path, "name"), max_chars=MAX_NAME_CHARS),
        handle=check_text(author.handle, join(a_path, "handle"), max_chars=MAX_HANDLE_CHARS),
        followers=check_count(author.followers, join(a_path, "followers")),
        language=check_language(author.language or None, join(a_path, "language")),
        country=check_country(author.country or None, join(a_path, "country")),
    )
    return replace(
        event,
        external_id=check_identifier(event.external_id, join(path, "id"), required=True) or "",
        kind=check_kind(event.kind, join(path, "kind")),
        text=check_text(event.text, join(path, "text"), max_chars=MAX_TEXT_CHARS, required=True),
        created_at=check_datetime(event.created_at, join(path, "created_at")),
        author=clean_author,
        in_reply_to=check_identifier(event.in_reply_to or None, join(path, "in_reply_to"), required=False),
        from_account=check_bool(event.from_account, join(path, "from_account")),
    )


def validate_events(events: Iterable[Any], *, prefix: str = "events") -> list[InboundEvent]:
    """:func:`validate_event` on each, paths ``events[i]...``: all pass or the first failure is raised."""
    return [validate_event(e, f"{prefix}[{i}]") for i, e in enumerate(events)]


def partition_events(
    events: Sequence[Any], *, prefix: str = "events"
) -> tuple[list[InboundEvent], list[tuple[int, PayloadError]]]:
    """For sources that cannot be told (a poll, a dataset, the worker): the events that pass, and ``(index,
    error)`` for each one that does not, so a bad item is set aside alone and visibly."""
    good: list[InboundEvent] = []
    bad: list[tuple[int, PayloadError]] = []
    for i, event in enumerate(events):
        try:
            good.append(validate_event(event, f"{prefix}[{i}]"))
        except PayloadError as exc:
            bad.append((i, exc))
    return good, bad


# --- rejected items -------------------------------------------------------------------------------------------------

#: Bounds of a ``RejectedItem``'s fields (the quarantine's columns and the operator's screen).
MAX_REJECT_REF_CHARS = 200
MAX_REJECT_ERROR_CHARS = 500


def rejected_item(ref: Any, error: Any, item: Any = None, *, excerpt_chars: int = 1000, as_json: bool = False,
                  name_type: bool = False) -> RejectedItem:
    """The ``RejectedItem`` for an item a connector could not use, every field cleaned and bounded: ``ref`` locates
    it, ``error`` is a message or the exception (``name_type``: prefixed with its type, ``"KeyError: 'id'"``), and
    the excerpt is a piece of ``item`` (its JSON when ``as_json``, else its ``repr``; a string as it is)."""
    from dandelion.connectors.tolerant import clean_text

    message = f"{type(error).__name__}: {clean_text(str(error), 300)}" if name_type else str(error)
    if item is None:
        excerpt = ""
    elif isinstance(item, str):
        excerpt = item
    elif as_json:
        excerpt = json.dumps(item, default=str)[: excerpt_chars * 2]
    else:
        excerpt = repr(item)[: excerpt_chars * 2]
    return RejectedItem(clean_text(str(ref), MAX_REJECT_REF_CHARS), clean_text(message, MAX_REJECT_ERROR_CHARS),
                        clean_text(excerpt, excerpt_chars))


def partition_rejecting(
    events: Sequence[Any], *, refs: Sequence[str] | None = None, prefix: str = "events"
) -> tuple[list[InboundEvent], list[RejectedItem]]:
    """:func:`partition_events` with its failures as ``RejectedItem``: ``refs[i]`` (default ``item i``) locates
    each, its error names the field, its excerpt is the start of the event's text."""
    good, bad = partition_events(events, prefix=prefix)
    rejected = [
        rejected_item(refs[i] if refs is not None else f"item {i}", error,
                      getattr(events[i], "text", None) if isinstance(getattr(events[i], "text", None), str) else None,
                      excerpt_chars=500)
        for i, error in bad
    ]
    return good, rejected
