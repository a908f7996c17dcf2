"""An in-memory connector (key ``fake``) for tests and demos: every capability, no network.

What it "sends" is recorded in the module-level ``STORE`` (``reset()`` empties it); ids are generated as
``fake-1``, ``fake-2``...; ``FakeConnector.fail_next(n, permanent=False, retry_after=1.0)`` makes the next ``n``
outbound operations raise ``ConnectorError``; ``FakeConnector.queue_inbound(account_id, events)`` feeds ``poll``.
Webhook deliveries use the generic format and signature, so tests of the inbox view can use ``generic.sign``.

Usage in a test::

    from dandelion.connectors import fake
    fake.reset()
    fake.FakeConnector.fail_next(1, retry_after=2.0)
    ... call the service that sends a reply ...
    assert fake.STORE.replies[0].reply.text == "Thanks!"
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    Connector,
    EventKind,
    InboundAuthor,
    InboundEvent,
    ModerationAction,
    ModerationResult,
    OutboundPost,
    OutboundReply,
    PostMetrics,
    SearchResult,
    SentMessage,
    utcnow,
)
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.generic import webhook
from dandelion.connectors.registry import register
from dandelion.connectors.validation import validate_events


@dataclass(frozen=True, slots=True)
class SentReply:
    account_id: int
    reply: OutboundReply
    sent: SentMessage


@dataclass(frozen=True, slots=True)
class ModerationRecord:
    account_id: int
    result: ModerationResult


@dataclass(frozen=True, slots=True)
class PublishedPost:
    account_id: int
    post: OutboundPost
    sent: SentMessage


@dataclass(frozen=True, slots=True)
class _Failure:
    permanent: bool
    retry_after: float | None
    message: str


@dataclass
class FakeStore:
    """Everything the fake connector did, in order. Read it in assertions; ``reset()`` between tests."""

    replies: list[SentReply] = field(default_factory=list)
    moderation: list[ModerationRecord] = field(default_factory=list)
    published: list[PublishedPost] = field(default_factory=list)
    deleted_posts: list[tuple[int, str]] = field(default_factory=list)
    inbound: dict[int, list[InboundEvent]] = field(default_factory=dict)
    metrics: dict[int, AccountMetrics] = field(default_factory=dict)
    post_metrics: dict[str, PostMetrics] = field(default_factory=dict)
    searchable: list[InboundEvent] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    failures: list[_Failure] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def clear(self) -> None:
        """Empty every list in place (so references to ``STORE`` held elsewhere stay valid)."""
        fresh = FakeStore()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))


STORE = FakeStore()
_lock = threading.RLock()


def reset() -> None:
    """Forget everything recorded, queued or scripted, and restart ids at ``fake-1``."""
    with _lock:
        STORE.clear()


def next_id(prefix: str = "fake") -> str:
    """A fresh external id (``fake-1``, ``fake-2``...)."""
    with _lock:
        return f"{prefix}-{next(STORE.ids)}"


def make_event(
    text: str = "Hello!",
    *,
    kind: EventKind = "comment",
    external_id: str | None = None,
    author_id: str = "author-1",
    author_name: str = "Ada Author",
    language: str | None = None,
    country: str | None = None,
    followers: int | None = None,
    in_reply_to: str | None = None,
    from_account: bool = False,
    created_at: dt.datetime | None = None,
) -> InboundEvent:
    """Build an ``InboundEvent`` with sensible defaults (a test-data helper for the inbox)."""
    return InboundEvent(
        external_id=external_id or next_id(),
        kind=kind,
        text=text,
        created_at=created_at or utcnow(),
        author=InboundAuthor(
            external_id=author_id,
            name=author_name,
            handle=f"@{author_id}",
            followers=followers,
            language=language,
            country=country,
        ),
        in_reply_to=in_reply_to,
        from_account=from_account,
        raw={"source": "fake"},
    )


@register
class FakeConnector(Connector):
    """Supports every capability; records instead of sending; can be scripted to fail."""

    key = "fake"
    label = "Fake (tests and demos)"
    capabilities = frozenset(Capability)

    # --- scripting -----------------------------------------------------------------------------------------------
    @staticmethod
    def fail_next(
        n: int = 1,
        *,
        permanent: bool = False,
        retry_after: float | None = 1.0,
        message: str = "scripted failure",
    ) -> None:
        """Make the next ``n`` outbound operations (reply, moderation, metrics, publish, poll) raise."""
        with _lock:
            STORE.failures.extend(_Failure(permanent, retry_after, message) for _ in range(n))

    @staticmethod
    def queue_inbound(account_id: int, events: Iterable[InboundEvent]) -> None:
        """Events that the next ``poll`` of this account returns (filtered by ``since``)."""
        with _lock:
            STORE.inbound.setdefault(account_id, []).extend(events)

    @staticmethod
    def index_for_search(events: Iterable[InboundEvent]) -> None:
        """Public posts that ``search`` finds (case-insensitive substring match on the text)."""
        with _lock:
            STORE.searchable.extend(events)

    @staticmethod
    def set_metrics(account_id: int, metrics: AccountMetrics) -> None:
        with _lock:
            STORE.metrics[account_id] = metrics

    @staticmethod
    def set_post_metrics(metrics: PostMetrics) -> None:
        with _lock:
            STORE.post_metrics[metrics.external_id] = metrics

    @staticmethod
    def _call(name: str) -> None:
        with _lock:
            STORE.calls.append(name)
            if STORE.failures:
                failure = STORE.failures.pop(0)
                raise ConnectorError(
                    f"{name}: {failure.message}", permanent=failure.permanent, retry_after=failure.retry_after
                )

    # --- capabilities ---------------------------------------------------------------------------------------------
    def parse_webhook(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[InboundEvent]:
        return webhook.parse_delivery(body, headers, account.webhook_secret)

    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        self._call("poll")
        with _lock:
            queued = STORE.inbound.pop(account.id, [])
        events = validate_events(queued)  # the shared gate: a test that queues a bad event is told at once
        return sorted(
            (e for e in events if since is None or e.created_at > since), key=lambda e: e.created_at
        )

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        self._call("send_reply")
        sent = SentMessage(external_id=next_id(), sent_at=utcnow())
        with _lock:
            STORE.replies.append(SentReply(account.id, reply, sent))
        return sent

    def _moderate(self, action: ModerationAction, account: AccountRef, target: str) -> ModerationResult:
        self._call(action)
        result = ModerationResult(action=action, target_external_id=target, performed_at=utcnow())
        with _lock:
            STORE.moderation.append(ModerationRecord(account.id, result))
        return result

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("hide", account, external_id)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("unhide", account, external_id)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("delete", account, external_id)

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        return self._moderate("ban_author", account, author_external_id)

    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        self._call("fetch_metrics")
        with _lock:
            stored = STORE.metrics.get(account.id)
        return stored or AccountMetrics(
            collected_at=utcnow(), followers=1000 + account.id, following=10, posts=42
        )

    def fetch_post_metrics(self, account: AccountRef, external_ids) -> list[PostMetrics]:
        """The engagement set by ``set_post_metrics``, else a fixed figure per post (posts this fake published)."""
        self._call("fetch_post_metrics")
        now = utcnow()
        out = []
        with _lock:
            for external_id in external_ids:
                stored = STORE.post_metrics.get(external_id)
                if stored is not None:
                    out.append(stored)
                elif external_id.startswith("fake-"):
                    n = sum(map(ord, external_id))
                    out.append(PostMetrics(external_id=external_id, collected_at=now, likes=n % 17,
                                           replies=n % 5, reposts=n % 3))
        return out

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        self._call("publish")
        with _lock:
            if post.idempotency_key:  # a retried publish answers with the post already made, like a network would
                for done in STORE.published:
                    if done.account_id == account.id and done.post.idempotency_key == post.idempotency_key:
                        return done.sent
            sent = SentMessage(external_id=next_id(), sent_at=utcnow())
            STORE.published.append(PublishedPost(account.id, post, sent))
        return sent

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        self._call("delete_post")
        with _lock:
            STORE.deleted_posts.append((account.id, external_id))
    def search(self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None) -> SearchResult:
        self._call("search")
        with _lock:
            STORE.searches.append(query)
            found = sorted((e for e in STORE.searchable if query.lower() in e.text.lower()),
                           key=lambda e: e.created_at, reverse=True)
        start = int(cursor or 0)
        page = found[start:start + limit]
        return SearchResult(events=page, cursor=str(start + limit) if start + limit < len(found) else None)


__all__ = [
    "STORE",
    "FakeConnector",
    "FakeStore",
    "ModerationRecord",
    "PublishedPost",
    "SentReply",
    "make_event",
    "next_id",
    "reset",
]
