"""The ``website`` connector: the blog of one of Dandelion's own websites, seen as a network.

Account: ``external_id`` and ``handle`` are the website's hostname (``sites.blog.create_blog`` registers the
account for the site's unit). The "network" is the ``sites`` app in the same process: the connector reaches it only
through the plain functions of ``dandelion.sites.blog`` (handed over by ``set_blog_api`` at start-up) (the blog's API), exchanging plain dicts, never its models.

* poll (``poll_cursor``): the visitors' comments newer than the cursor ``{"after": <last comment id>}``, oldest
  first, at most ``BATCH`` at a time (``more`` when others wait). A new comment also triggers a poll of its account
  once committed (``sites.jobs.fetch_blog_comments``), so it is in the inbox at once; the periodic poll (every
  ``poll_interval_s``) catches anything missed. Each comment is a ``comment`` event whose ``external_id`` is
  ``comment-<id>``; a visitor's answer to another comment carries ``in_reply_to``.
* reply (``send_reply``): the agent's answer is published under the comment answered, as the site (idempotent by
  the reply's ``idempotency_key``: a retry never posts twice).
* moderation: ``hide`` / ``unhide`` / ``delete`` change what the blog shows; ``ban_author`` refuses the author's
  next comments on this site and hides those already there.

Errors: an unknown site or comment is a permanent ``ConnectorError`` (shown on the account's health).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    ConfigField,
    Connector,
    InboundAuthor,
    InboundEvent,
    ModerationResult,
    OutboundReply,
    PollResult,
    SentMessage,
    utcnow,
)
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.registry import register

BATCH = 200


_blog_api: Any = None


def set_blog_api(api: Any) -> None:
    """The websites app hands its blog's API here when it starts (``SitesConfig.ready``): connectors sit below the
    apps and never import them."""
    global _blog_api
    _blog_api = api


def _blog():
    if _blog_api is None:
        raise ConnectorError("the websites app is not installed: no blog to reach", permanent=True)
    return _blog_api


def _event(item: Mapping[str, Any]) -> InboundEvent:
    return InboundEvent(
        external_id=item["external_id"],
        kind="comment",
        text=item["text"],
        created_at=item["created_at"],
        author=InboundAuthor(external_id=f"visitor-{item['author_key'][:40]}", name=item["author_name"]),
        in_reply_to=item.get("in_reply_to"),
        raw={"post": item["post_title"], "url": item["url"]},
    )


@register
class WebsiteConnector(Connector):
    """The comments of a Dandelion website's blog: polled, answered and moderated on the site itself."""

    key = "website"
    label = "Website comments"
    capabilities = frozenset({Capability.POLL, Capability.REPLY, Capability.MODERATION})
    poll_interval_s = 300
    config_schema: ClassVar[Mapping[str, ConfigField]] = {}

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except LookupError as exc:
            raise ConnectorError(str(exc), permanent=True) from exc

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        after = int((cursor or {}).get("after", 0) or 0)
        items, last_id, more = self._call(_blog().comments_since, account.external_id, after, BATCH)
        return PollResult(events=[_event(i) for i in items], cursor={"after": max(after, last_id)}, more=more)

    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        items, _last, _more = self._call(_blog().comments_since, account.external_id, 0, BATCH)
        return [_event(i) for i in items if since is None or i["created_at"] > since]

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        if not reply.in_reply_to:
            raise ConnectorError("a blog reply answers a comment: in_reply_to is required", permanent=True)
        sent = self._call(
            _blog().publish_reply,
            account.external_id,
            reply.in_reply_to,
            reply.text,
            reply.idempotency_key or "",
        )
        return SentMessage(external_id=sent["external_id"], sent_at=sent["created_at"], url=sent["url"])

    def _moderate(self, action: str, account: AccountRef, external_id: str) -> ModerationResult:
        self._call(_blog().moderate_comment, account.external_id, external_id, action)
        return ModerationResult(action=cast(Any, action), target_external_id=external_id, performed_at=utcnow())

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("hide", account, external_id)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("unhide", account, external_id)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._moderate("delete", account, external_id)

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        key = author_external_id.removeprefix("visitor-")
        hidden = self._call(_blog().ban_author, account.external_id, key)
        return ModerationResult(
            action="ban_author",
            target_external_id=author_external_id,
            performed_at=utcnow(),
            detail=f"{hidden} comment(s) hidden",
        )
