"""The connector contract: capability Protocols, the plain dataclasses that cross them, and the ``Connector`` base.

Everything here is pure Python: no Django, no models. The inbox turns its ``SocialAccount`` into an ``AccountRef``,
asks the registry for the account's connector, checks a capability, and calls the matching Protocol method. It never
names a network (conventions, habit 6); network specifics live in ``connectors/<network>/``.

Capabilities (``Capability``) and the Protocol each one promises:

=============  ============================  ==========================================================
capability     Protocol                      methods
=============  ============================  ==========================================================
``inbound``    ``InboundConnector``          ``parse_webhook(account, body, headers) -> list[InboundEvent]``
``poll``       ``PollingConnector``          ``poll(account, since) -> list[InboundEvent]``; optionally
                                             ``poll_cursor(account, cursor) -> PollResult`` (see below)
``reply``      ``ReplyConnector``            ``send_reply(account, reply) -> SentMessage``
``moderation`` ``ModerationConnector``       ``hide`` / ``unhide`` / ``delete`` / ``ban_author``
``metrics``    ``MetricsConnector``          ``fetch_metrics(account) -> AccountMetrics``
``publishing`` ``PublishingConnector``       ``publish(account, post) -> SentMessage``;
                                             ``delete_post(account, external_id) -> None``
``search``     ``SearchConnector``           ``search(account, query, limit=, cursor=) -> SearchResult``
=============  ============================  ==========================================================

Polling with a cursor: a connector that can resume where it stopped (IMAP UIDVALIDITY/UID, a feed's ETag and
Last-Modified) also implements ``CursorPollingConnector.poll_cursor(account, cursor) -> PollResult``: the cursor is
an opaque JSON-able mapping that the caller stores on the account and hands back on the next poll (``None`` the first
time). ``poll_with_cursor(connector, account, cursor)`` is the one call the polling job makes: it adapts connectors
that only know ``poll(account, since)`` (replay, fake) by keeping ``{"since": <last created_at>}`` as their cursor.
Items a connector could not turn into an event come back in ``PollResult.rejected`` (quarantined by the caller,
never silently dropped, never fatal to the rest of the batch).

``Connector.check(account)`` tests an account's credentials and capabilities without side effects and returns
``CheckResult`` lines (``dandelion connectors check ACCOUNT`` prints them).

Every operation may raise ``ConnectorError`` (see ``errors``); inbound parsing raises ``PayloadError`` or
``SignatureError``. Connectors are stateless: the registry hands out one shared instance per key.

Untrusted input is bounded at the edge by one shared validator, ``connectors/validation.py``: a connector decodes
JSON with ``validation.load_json`` (depth, Unicode and numbers checked) and checks fields with its ``check_*``
functions, or passes the DTOs it built through ``validation.validate_events`` / ``partition_events``. The webhook
view and the worker apply ``validate_event`` again, whatever the connector did.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol, get_args, runtime_checkable

from dandelion.connectors.config import ConfigField, normalise_schema, validate_config
from dandelion.connectors.errors import (
    ConfigError,
    ConnectorError,
    PayloadError,
    PayloadTooLarge,
    SignatureError,
    UnknownConnector,
)

__all__ = [
    "EVENT_KINDS",
    "AccountMetrics",
    "AccountRef",
    "Capability",
    "CheckResult",
    "ConfigError",
    "ConfigField",
    "Connector",
    "ConnectorError",
    "CursorPollingConnector",
    "EventKind",
    "InboundAuthor",
    "InboundConnector",
    "InboundEvent",
    "MetricsConnector",
    "ModerationAction",
    "ModerationConnector",
    "ModerationResult",
    "OutboundPost",
    "OutboundReply",
    "PayloadError",
    "PayloadTooLarge",
    "PollResult",
    "PollingConnector",
    "PostMetrics",
    "PostMetricsConnector",
    "PublishingConnector",
    "RejectedItem",
    "ReplyConnector",
    "SearchConnector",
    "SearchResult",
    "SearchStreamingConnector",
    "SentMessage",
    "SignatureError",
    "StreamBatch",
    "StreamingConnector",
    "UnknownConnector",
    "poll_with_cursor",
    "utcnow",
]

EventKind = Literal["comment", "mention", "dm", "reply"]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))
ModerationAction = Literal["hide", "unhide", "delete", "ban_author", "mute_author", "report_author"]


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.UTC)


def _require_aware(value: dt.datetime, name: str) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _require_kind(kind: str) -> None:
    if kind not in EVENT_KINDS:
        raise ValueError(f"kind must be one of {sorted(EVENT_KINDS)}, got {kind!r}")


class Capability(StrEnum):
    """What a connector can do. Values are plain strings, so ``"reply" in connector.capabilities`` works."""

    INBOUND = "inbound"
    POLL = "poll"
    REPLY = "reply"
    MODERATION = "moderation"
    METRICS = "metrics"
    PUBLISHING = "publishing"
    SEARCH = "search"


# --- what crosses the seam ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRef:
    """The account a connector works for, built by the inbox from its ``SocialAccount``.

    ``credentials`` are already decrypted; they and ``webhook_secret`` are kept out of ``repr`` so they never land in
    logs. ``connector`` is the account's connector key ("" means the network's default connector).
    ``credentials_version`` is the version of the stored credentials these were read from and ``token_store`` where a
    connector hands refreshed tokens (``connectors/tokens.py``; None: kept in the process only).
    """

    id: int
    network: str
    external_id: str
    handle: str
    credentials: Mapping[str, str] = field(default_factory=_empty, repr=False)
    config: Mapping[str, Any] = field(default_factory=_empty)
    webhook_secret: str = field(default="", repr=False)
    connector: str = ""
    credentials_version: int = 0
    token_store: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class InboundAuthor:
    """Who wrote an inbound item, as the network describes them. ``language``/``country`` are hints, may be None."""

    external_id: str
    name: str = ""
    handle: str = ""
    followers: int | None = None
    language: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file that came with an inbound item (an e-mail's attachment). ``data`` is empty when the connector did not
    keep the bytes (over its size limit): the file is then listed, not stored. ``filename`` is as the sender wrote it
    (the inbox sanitises it before use)."""

    filename: str
    content_type: str
    size: int
    data: bytes = field(default=b"", repr=False)


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One inbound item (comment, mention, DM or reply) on an account.

    ``external_id`` is the network's id: the inbox's idempotency key. ``in_reply_to`` is the external id of the item
    it answers. ``from_account`` is True when the account itself wrote it (a brand reply made outside Dandelion: an
    echo, to be stored as outbound and not routed). ``raw`` keeps the original payload for audit and debugging.
    """

    external_id: str
    kind: EventKind
    text: str
    created_at: dt.datetime
    author: InboundAuthor
    in_reply_to: str | None = None
    from_account: bool = False
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False, compare=False)
    attachments: tuple[InboundAttachment, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("external_id must not be empty")
        _require_kind(self.kind)
        _require_aware(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class OutboundReply:
    """A reply (public answer or DM) to send. ``in_reply_to`` is the external id answered; ``recipient_external_id``
    is the author to write to for DMs. ``idempotency_key`` lets networks/hooks that support it drop duplicates."""

    text: str
    in_reply_to: str | None = None
    kind: EventKind = "reply"
    recipient_external_id: str | None = None
    idempotency_key: str | None = None

    def __post_init__(self) -> None:
        _require_kind(self.kind)
        if self.kind == "dm" and not (self.recipient_external_id or self.in_reply_to):
            raise ValueError("a DM needs recipient_external_id or in_reply_to")


@dataclass(frozen=True, slots=True)
class OutboundPost:
    """A post to publish (publishing capability). ``idempotency_key`` is stable across retries of the same post
    variant: a connector whose network supports it passes it on (or looks the key up first), so a retry after a
    worker died mid-send never posts twice. ``alt_texts`` match ``media_urls`` one for one."""

    text: str
    media_urls: Sequence[str] = ()
    link: str | None = None
    idempotency_key: str | None = None
    alt_texts: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class SentMessage:
    """What the network answered when a reply or post was accepted."""

    external_id: str
    sent_at: dt.datetime
    url: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.sent_at, "sent_at")


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """The outcome of one moderation action on an item (or, for ``ban_author``, on an author)."""

    action: ModerationAction
    target_external_id: str
    performed_at: dt.datetime
    detail: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.performed_at, "performed_at")


@dataclass(frozen=True, slots=True)
class AccountMetrics:
    """A snapshot of an account's audience figures. ``None`` means the network does not report that figure."""

    collected_at: dt.datetime
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    extra: Mapping[str, float] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        _require_aware(self.collected_at, "collected_at")


@dataclass(frozen=True, slots=True)
class PostMetrics:
    """A snapshot of the engagement of one post we published (``external_id``: the network's id of it). ``None``
    means the network does not report that figure (never 0)."""

    external_id: str
    collected_at: dt.datetime
    likes: int | None = None
    replies: int | None = None
    reposts: int | None = None
    quotes: int | None = None

    def __post_init__(self) -> None:
        _require_aware(self.collected_at, "collected_at")


def reported_count(value: Any) -> int | None:
    """A count a network reported (a non-negative int, or its decimal string as Google's APIs send), else None:
    a figure not reported is not 0."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def post_metrics_each(external_ids: Sequence[str], read: Callable[[str], PostMetrics | None], *,
                      gone: Callable[[ConnectorError], bool] | None = None) -> list[PostMetrics]:
    """``PostMetricsConnector.fetch_post_metrics`` for networks that read one post per call: ``read(id)`` for each
    distinct non-empty id, in order; ``None``, or a ``ConnectorError`` that ``gone`` says means "no such post"
    (deleted), leaves the post out. Any other ``ConnectorError`` ends the batch (credentials, rate limit: the next
    post would fail alike)."""
    out = []
    for external_id in dict.fromkeys(str(i).strip() for i in external_ids):
        if not external_id:
            continue
        try:
            found = read(external_id)
        except ConnectorError as exc:
            if gone is None or not exc.permanent or not gone(exc):
                raise
            found = None
        if found is not None:
            out.append(found)
    return out


@dataclass(frozen=True, slots=True)
class RejectedItem:
    """An inbound item a connector could not turn into an event: ``ref`` locates it on the network (an IMAP UID, a
    feed entry id), ``error`` says why, ``excerpt`` keeps a bounded piece of it for the operator."""

    ref: str
    error: str
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one cursor poll brought: the new events (oldest first), the cursor to store for the next poll, the
    items rejected, and ``more=True`` when the connector stopped at its batch limit with items still waiting."""

    events: Sequence[InboundEvent] = ()
    cursor: Mapping[str, Any] = field(default_factory=_empty)
    rejected: Sequence[RejectedItem] = ()
    more: bool = False


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One page of a network search (for listening): the posts found as events (newest first, as networks answer)
    and the opaque ``cursor`` of the next page (``None``: no more)."""

    events: Sequence[InboundEvent] = ()
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of ``Connector.check``: what was tried (``name``), whether it worked, and what was seen."""

    name: str
    ok: bool
    detail: str = ""


# --- capability Protocols ----------------------------------------------------------------------------------------


@runtime_checkable
class InboundConnector(Protocol):
    """Turns one webhook delivery into events. Verifies authenticity first: raises ``SignatureError`` for an
    unsigned/forged delivery and ``PayloadError`` (its ``path`` naming the field) for a malformed one, or one that
    fails the shared validator (``connectors/validation.py``); never returns a partial batch."""

    def parse_webhook(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[InboundEvent]: ...


@runtime_checkable
class PollingConnector(Protocol):
    """Fetches events created after ``since`` (all it can, oldest first, when ``since`` is None); optional."""

    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]: ...


@runtime_checkable
class CursorPollingConnector(Protocol):
    """Resumes polling from an opaque cursor it returned last time (``None``: first poll)."""

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult: ...


def poll_with_cursor(connector: Any, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
    """Poll ``account`` from ``cursor``: natively for a ``CursorPollingConnector``; otherwise through
    ``poll(account, since)`` with ``{"since": ISO datetime of the newest event seen}`` as the cursor."""
    if isinstance(connector, CursorPollingConnector):
        return connector.poll_cursor(account, cursor)
    since = None
    raw = (cursor or {}).get("since")
    if isinstance(raw, str):
        try:
            since = dt.datetime.fromisoformat(raw)
        except ValueError:
            since = None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    events = list(connector.poll(account, since))
    newest = max((e.created_at for e in events), default=since)
    return PollResult(events=events, cursor={"since": newest.isoformat()} if newest else {})


@runtime_checkable
class ReplyConnector(Protocol):
    """Sends a reply or DM answer on the account's behalf."""

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage: ...


@runtime_checkable
class ModerationConnector(Protocol):
    """Acts on an item (hide, unhide, delete) or its author (ban) on the network."""

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult: ...

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult: ...

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult: ...

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult: ...


@runtime_checkable
class MetricsConnector(Protocol):
    """Reads the account's audience figures."""

    def fetch_metrics(self, account: AccountRef) -> AccountMetrics: ...


@runtime_checkable
class PostMetricsConnector(Protocol):
    """The metrics capability's second half, optional: the engagement of posts the account published. A connector
    with the ``metrics`` capability that also has this method reports it; callers check with ``isinstance``. Posts
    the network no longer knows are left out of the answer (not an error)."""

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]: ...


@runtime_checkable
class PublishingConnector(Protocol):
    """Publishes a post on the account, and deletes one it published. ``publish`` raises ``ConnectorError``
    (``permanent=True`` for content the network refuses, bad credentials...)."""

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage: ...

    def delete_post(self, account: AccountRef, external_id: str) -> None: ...


@runtime_checkable
class SearchConnector(Protocol):
    """Searches the network's public posts (listening): ``query`` in the network's own syntax, at most ``limit``
    results, ``cursor`` from the previous page."""

    def search(
        self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None
    ) -> SearchResult: ...


# --- optional abilities (not capabilities of the registry: checked with ``isinstance``) -------------------------


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """Dandelion's OAuth app on one network or instance (``credentials``: client id and secret, never logged)."""

    instance: str
    redirect_uri: str
    credentials: Mapping[str, str] = field(default_factory=_empty, repr=False)


@dataclass(frozen=True, slots=True)
class OAuthGrant:
    """What an authorisation-code exchange gives: the account it is for and the credentials to store (encrypted)."""

    external_id: str
    handle: str
    credentials: Mapping[str, str] = field(default_factory=_empty, repr=False)
    config: Mapping[str, Any] = field(default_factory=_empty)
    display_name: str = ""
    url: str = ""
    expires_at: dt.datetime | None = None


@runtime_checkable
class OAuthConnector(Protocol):
    """Connects an account through the network's OAuth 2 authorisation-code flow, the redirect handled by Dandelion:
    ``oauth_register`` registers Dandelion as a client (once per instance, for federated networks),
    ``oauth_authorize_url`` is where the user consents (``state`` is checked on the way back by the caller),
    ``oauth_exchange`` trades the returned code for the account's credentials. Errors are ``ConnectorError``."""

    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient: ...

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str: ...

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant: ...


@runtime_checkable
class MuteConnector(Protocol):
    """Mutes an author for the account (their posts no longer reach it; the author is not told)."""

    def mute_author(self, account: AccountRef, author_external_id: str) -> ModerationResult: ...


@runtime_checkable
class ReportConnector(Protocol):
    """Reports an author (and some of their items) to the network's moderators, with a comment."""

    def report_author(self, account: AccountRef, author_external_id: str, external_ids: Sequence[str], *,
                      comment: str = "") -> ModerationResult: ...


@runtime_checkable
class WebhookChallengeConnector(Protocol):
    """Answers a network's webhook handshake (a ``GET`` on the account's webhook URL: Meta's ``hub.challenge``
    subscription verification, X's ``crc_token`` check): ``(content type, body)`` to send back; ``SignatureError``
    when the request is not the network's (wrong verify token, no challenge)."""

    def answer_challenge(self, account: AccountRef, params: Mapping[str, str]) -> tuple[str, str]: ...


@runtime_checkable
class AppWebhookConnector(Protocol):
    """Receives the webhooks of a whole network *app* at one URL (``/hooks/app/<app id>/``): one delivery may concern
    several accounts of the app (Meta batches the entries of every Page and Instagram account subscribed to it).
    The accounts of an app say so in their connector config (``app_id``).

    ``app_webhook_targets`` checks the delivery's signature with the app secret ``account`` (any account of the app)
    holds (``SignatureError``) and returns the external ids of the accounts its entries concern, distinct, in order
    (``PayloadError`` for a body that is not the network's envelope). Each concerned account's events are then parsed
    by its own ``parse_webhook``, exactly as on its own URL."""

    def app_webhook_targets(self, account: AccountRef, body: bytes, headers: Mapping[str, str]) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class StreamBatch:
    """What a live connection brought: events the network pushed (validated like a poll's), items it could not read
    (``rejected``: quarantined one by one), and ``poll=True`` when the network only said that something changed (the
    caller then polls with the stored cursor, as the periodic job would). An empty batch is a heartbeat."""

    events: Sequence[InboundEvent] = ()
    rejected: Sequence[RejectedItem] = ()
    poll: bool = False


@runtime_checkable
class StreamingConnector(Protocol):
    """Keeps a live connection for an account (IMAP IDLE, a streaming API) and yields what it pushes.

    ``stream`` connects, yields a ``StreamBatch`` per push (and an empty one at least every few seconds, so the
    caller can stop it) until ``stop`` is set, and raises ``ConnectorError`` when the connection fails or drops: the
    caller reconnects with backoff and polls once to catch up on what the gap missed (streamed and polled items carry
    the same external ids: the inbox stores each once). ``stream_enabled(config)`` says whether an account with this
    config is streamed (polling alone otherwise)."""

    def stream_enabled(self, config: Mapping[str, Any] | None) -> bool: ...

    def stream(self, account: AccountRef, *, stop: threading.Event) -> Iterator[StreamBatch]: ...


@runtime_checkable
class SearchStreamingConnector(Protocol):
    """A live search (listening): the network's public posts matching any of ``terms`` (the terms a search would be
    given, see ``SearchConnector``), yielded as ``StreamBatch`` events until ``stop`` is set; errors as ``stream``.
    ``stream_search_terms(terms)`` says which of the terms it can follow live (the others are left to ``search``)."""

    def stream_search_terms(self, terms: Sequence[str]) -> list[str]: ...

    def stream_search(self, account: AccountRef, terms: Sequence[str], *,
                      stop: threading.Event) -> Iterator[StreamBatch]: ...


#: Author actions beyond ``ModerationConnector.ban_author``, by name, and the Protocol that offers each.
AUTHOR_ACTIONS: Mapping[str, type] = MappingProxyType({"mute_author": MuteConnector,
                                                      "report_author": ReportConnector})


def supports_author_action(connector: Any, action: str) -> bool:
    """True when ``connector`` offers the author action ``action`` (``mute_author``, ``report_author``)."""
    protocol = AUTHOR_ACTIONS.get(action)
    return protocol is not None and isinstance(connector, protocol)


PROTOCOLS: Mapping[str, type] = MappingProxyType(
    {
        Capability.INBOUND: InboundConnector,
        Capability.POLL: PollingConnector,
        Capability.REPLY: ReplyConnector,
        Capability.MODERATION: ModerationConnector,
        Capability.METRICS: MetricsConnector,
        Capability.PUBLISHING: PublishingConnector,
        Capability.SEARCH: SearchConnector,
    }
)


# --- the plugin base class ---------------------------------------------------------------------------------------


class Connector:
    """Base class of every connector plugin.

    Subclasses set ``key`` (a short slug, stored on ``SocialAccount.connector``), ``label``, ``capabilities`` (the
    most it can do) and ``config_schema``, and implement the Protocol methods of each capability they declare
    (``registry.register`` checks this). A connector whose abilities depend on an account's config overrides
    ``capabilities_for``.
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset()
    config_schema: ClassVar[Mapping[str, ConfigField]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = frozenset(Capability(c) for c in cls.capabilities)  # rejects unknown names
        cls.config_schema = MappingProxyType(normalise_schema(cls.config_schema, owner=cls.__name__))

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """A clean copy of ``config`` with defaults filled in; ``ConfigError`` lists every bad field."""
        return validate_config(self.config_schema, config)

    def capabilities_for(self, config: Mapping[str, Any] | None = None) -> frozenset[str]:
        """What this connector can do for an account with this config (default: everything it declares)."""
        return self.capabilities

    #: Seconds between two automatic polls of an account (the periodic polling job); ``None``: never polled
    #: automatically (replay and fake accounts are polled by their commands and tests only).
    poll_interval_s: ClassVar[int | None] = None

    #: For an ``OAuthConnector`` whose network has one OAuth server (not a federation of instances): its address,
    #: so "Connect an account" needs no instance typed; "" when the user must say which server.
    oauth_instance: ClassVar[str] = ""

    def check(self, account: AccountRef) -> list[CheckResult]:
        """Test the account's configuration, credentials and capabilities without side effects (nothing sent).

        The default validates the config only; connectors that reach a network override it and add a line per
        thing they tried (login, mailbox, feed...)."""
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        return [CheckResult("config", True, "valid"),
                CheckResult("network", True, "nothing to reach: this connector does not talk to a network")]

    def supports(self, capability: str, config: Mapping[str, Any] | None = None) -> bool:
        """True when the connector offers ``capability`` for an account with this config."""
        return capability in self.capabilities_for(config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} key={self.key!r}>"
