"""The ``sandbox`` connector: the generic webhook format in, and replies and moderation that reach no network.

For demo, training and staging accounts: agents can take, answer, hide and delete exactly as on a real account,
and the connector answers like a network would (an id and a time), but nothing leaves the machine. Each action is
logged under ``dandelion.connectors.sandbox`` so an operator can see what would have been sent.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping
from typing import ClassVar

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    ConfigField,
    Connector,
    InboundEvent,
    ModerationAction,
    ModerationResult,
    OutboundPost,
    OutboundReply,
    SentMessage,
    utcnow,
)
from dandelion.connectors.generic import webhook
from dandelion.connectors.registry import register

log = logging.getLogger(__name__)

#: What the sandbox "published" in this process: external id -> (account id, SentMessage, OutboundPost).
PUBLISHED: dict[str, tuple[int, SentMessage, OutboundPost]] = {}
_published_lock = threading.Lock()


@register
class SandboxConnector(Connector):
    """Inbound through the generic webhook; replies, posts and moderation are accepted and logged, never sent.

    ``PUBLISHED`` keeps what this process "published" (idempotency key -> the post), so a retried publish answers
    with the same id, as a network honouring idempotency keys would, and demos and tests can read it back."""

    key = "sandbox"
    label = "Sandbox (demo and training: nothing is sent)"
    capabilities = frozenset({Capability.INBOUND, Capability.REPLY, Capability.MODERATION, Capability.PUBLISHING})
    config_schema: ClassVar[Mapping[str, ConfigField]] = {}

    def parse_webhook(self, account: AccountRef, body: bytes, headers: Mapping[str, str]) -> list[InboundEvent]:
        return webhook.parse_delivery(body, headers, account.webhook_secret)

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        # the idempotency key makes the id stable: a retried send answers with the same id, like a real network
        external_id = f"sandbox-{uuid.uuid5(uuid.NAMESPACE_URL, f'{account.id}:{reply.idempotency_key}').hex[:16]}"
        log.info("sandbox reply on %s (account %s) in reply to %s: %d chars", account.handle, account.id,
                 reply.in_reply_to, len(reply.text))
        return SentMessage(external_id=external_id, sent_at=utcnow())

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        key = post.idempotency_key or uuid.uuid4().hex
        external_id = f"sandbox-post-{uuid.uuid5(uuid.NAMESPACE_URL, f'{account.id}:{key}').hex[:16]}"
        with _published_lock:
            known = PUBLISHED.get(external_id)
            if known is not None:
                return known[1]
            sent = SentMessage(external_id=external_id, sent_at=utcnow())
            PUBLISHED[external_id] = (account.id, sent, post)
        log.info("sandbox post on %s (account %s): %d chars, %d media", account.handle, account.id,
                 len(post.text), len(post.media_urls))
        return sent

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        with _published_lock:
            PUBLISHED.pop(external_id, None)
        log.info("sandbox delete of post %s on %s (account %s)", external_id, account.handle, account.id)

    def _moderate(self, action: ModerationAction, account: AccountRef, target: str) -> ModerationResult:
        log.info("sandbox %s of %s on %s (account %s)", action, target, account.handle, account.id)
        return ModerationResult(action=action, target_external_id=target, performed_at=utcnow(), detail="sandbox")

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("hide", account, external_id)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("unhide", account, external_id)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("delete", account, external_id)

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        return self._moderate("ban_author", account, author_external_id)


