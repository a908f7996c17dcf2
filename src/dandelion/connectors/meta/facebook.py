"""The ``facebook`` connector: a Facebook Page on the Graph API. See docs/connectors/facebook.md.

Account: ``external_id`` is the Page id; credentials and OAuth in ``common`` / ``oauth``.

Inbound: webhooks (``page`` object, app subscribed to the Page's ``feed`` and ``messages`` fields): ``feed``
changes with ``item: comment, verb: add`` become ``comment`` events (``in_reply_to``: the parent comment, or the
post); visitor posts (``item: status|post|photo``, ``verb: add``, not by the Page) become ``mention`` events;
``messaging`` entries with a ``message`` become ``dm`` events (``is_echo``: written by the Page, ``from_account``).
Other fields, items and verbs (reactions, edits, removals, read receipts...) are ignored. Polling fallback
(``poll_cursor``, cursor ``{"since": unix seconds}``): the comments of the Page's recent posts and the Messenger
conversations updated since the cursor.

Outbound: a comment reply is ``POST /{comment-or-post-id}/comments``; a DM is the Send API
(``POST /{page-id}/messages``, ``messaging_type: RESPONSE``: within Messenger's 24-hour window). Moderation:
``hide``/``unhide`` (``is_hidden``), ``delete``, ``ban_author`` (``POST /{page-id}/blocked``). Publishing: text and
link on ``/{page-id}/feed``; images through ``/{page-id}/photos`` (``alt_text_custom``), several images attached
to one feed post (``attached_media``). Metrics: ``followers_count`` and ``fan_count``; ``post_metrics`` reads a
post's reactions, comments and shares.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dandelion.connectors import validation
from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    InboundAuthor,
    InboundEvent,
    ModerationResult,
    OutboundPost,
    OutboundReply,
    PollResult,
    PostMetrics,
    RejectedItem,
    SentMessage,
    post_metrics_each,
    utcnow,
)
from dandelion.connectors.errors import ConnectorError, PayloadError
from dandelion.connectors.meta.common import MAX_TEXT, MetaConnector, parse_time, unix
from dandelion.connectors.meta.graph import graph_object_gone
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import clean_text

logger = logging.getLogger(__name__)

COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id}"
VISITOR_ITEMS = frozenset({"status", "post", "photo", "video"})
MAX_IMAGES = 10


def _author(value: Any, path: str) -> InboundAuthor:
    if not isinstance(value, Mapping) or not value.get("id"):
        raise PayloadError("must name its author's id", path)
    author_id = validation.check_identifier(str(value["id"]), f"{path}.id", required=True)
    return InboundAuthor(external_id=author_id or "", name=clean_text(value.get("name"), 200))


@register
class FacebookConnector(MetaConnector):
    """A Facebook Page: comments, visitor posts and Messenger DMs in (webhooks, polling fallback), replies, DMs,
    moderation, publishing, metrics."""

    key = "facebook"
    label = "Facebook Page (Graph API)"
    webhook_object = "page"
    capabilities = frozenset(
        {
            Capability.INBOUND,
            Capability.POLL,
            Capability.REPLY,
            Capability.MODERATION,
            Capability.METRICS,
            Capability.PUBLISHING,
        }
    )
    oauth_scopes = (
        "pages_show_list",
        "pages_manage_metadata",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_posts",
        "pages_manage_engagement",
        "pages_messaging",
        "read_insights",
    )

    # --- inbound: webhooks ----------------------------------------------------------------------------------------
    def parse_webhook(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[InboundEvent]:
        now = utcnow()
        events: list[InboundEvent] = []
        for path, entry in self.envelope(account, body, headers):
            changes = entry.get("changes") or []
            if not isinstance(changes, list):
                raise PayloadError("must be a list", f"{path}.changes")
            for index, change in enumerate(changes):
                where = f"{path}.changes[{index}]"
                if not isinstance(change, Mapping):
                    raise PayloadError("must be an object", where)
                if change.get("field") != "feed":
                    continue
                event = self._feed_event(account, change.get("value"), f"{where}.value", now)
                if event is not None:
                    events.append(event)
            messaging = entry.get("messaging") or []
            if not isinstance(messaging, list):
                raise PayloadError("must be a list", f"{path}.messaging")
            for index, item in enumerate(messaging):
                event = self._message_event(account, item, f"{path}.messaging[{index}]", now)
                if event is not None:
                    events.append(event)
        return validation.validate_events(events, prefix="entry")

    def _feed_event(
        self, account: AccountRef, value: Any, path: str, now: dt.datetime
    ) -> InboundEvent | None:
        if not isinstance(value, Mapping):
            raise PayloadError("must be an object", path)
        item, verb = value.get("item"), value.get("verb")
        if verb != "add" or (item != "comment" and item not in VISITOR_ITEMS):
            return None  # edits, removals, hides, reactions, likes...: nothing for the inbox
        author = _author(value.get("from"), f"{path}.from")
        from_page = author.external_id == account.external_id
        created = parse_time(value.get("created_time"), now=now)
        if item == "comment":
            external_id = validation.check_identifier(
                value.get("comment_id"), f"{path}.comment_id", required=True
            )
            post_id = validation.check_identifier(value.get("post_id"), f"{path}.post_id", required=False)
            parent = validation.check_identifier(value.get("parent_id"), f"{path}.parent_id", required=False)
            text = validation.check_text(value.get("message") or "", f"{path}.message", max_chars=MAX_TEXT)
            return InboundEvent(
                external_id=external_id or "",
                kind="comment",
                text=text or "(no text)",
                created_at=created,
                author=author,
                in_reply_to=parent or post_id,
                from_account=from_page,
                raw=dict(value),
            )
        if from_page:
            return None  # the Page's own posts are publishing's, not the inbox's
        external_id = validation.check_identifier(value.get("post_id"), f"{path}.post_id", required=True)
        text = validation.check_text(value.get("message") or "", f"{path}.message", max_chars=MAX_TEXT)
        return InboundEvent(
            external_id=external_id or "",
            kind="mention",
            text=text or "(no text)",
            created_at=created,
            author=author,
            raw=dict(value),
        )

    def _message_event(
        self, account: AccountRef, item: Any, path: str, now: dt.datetime
    ) -> InboundEvent | None:
        if not isinstance(item, Mapping):
            raise PayloadError("must be an object", path)
        message = item.get("message")
        if message is None:
            return None  # deliveries, reads, postbacks, reactions...
        if not isinstance(message, Mapping):
            raise PayloadError("must be an object", f"{path}.message")
        sender = item.get("sender")
        recipient = item.get("recipient")
        echo = message.get("is_echo") is True
        customer = recipient if echo else sender
        if not isinstance(customer, Mapping) or not customer.get("id"):
            raise PayloadError("must name the customer's id", f"{path}.{'recipient' if echo else 'sender'}")
        mid = validation.check_identifier(message.get("mid"), f"{path}.message.mid", required=True)
        text = validation.check_text(message.get("text") or "", f"{path}.message.text", max_chars=MAX_TEXT)
        if not text and message.get("attachments"):
            text = "(attachment)"
        reply_to = message.get("reply_to")
        in_reply_to = (
            str(reply_to.get("mid"))[:150] if isinstance(reply_to, Mapping) and reply_to.get("mid") else None
        )
        return InboundEvent(
            external_id=mid or "",
            kind="dm",
            text=text or "(no text)",
            created_at=parse_time(item.get("timestamp"), now=now),
            author=_author(customer, f"{path}.sender"),
            in_reply_to=in_reply_to,
            from_account=echo,
            raw=dict(item),
        )

    # --- inbound: polling fallback --------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        cursor = {"since": unix(since)} if since else None
        return list(self.poll_cursor(account, cursor).events)

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        now = utcnow()
        since = (cursor or {}).get("since")
        if not isinstance(since, int) or isinstance(since, bool):
            since = unix(now - dt.timedelta(hours=config["backfill_hours"]))
        page = account.external_id
        events: list[InboundEvent] = []
        rejected: list[RejectedItem] = []
        posts = self.pages(
            account,
            f"{page}/feed",
            # the most recent posts (``since`` would filter on their creation, not on their newest comment)
            params={"fields": "id,updated_time", "limit": config["recent_posts"]},
            what="read the Page's posts",
            max_pages=1,
        )
        for post in posts:
            post_id = str(post.get("id") or "") if isinstance(post, Mapping) else ""
            if not post_id or unix(parse_time(post.get("updated_time"), now=now)) < since:
                continue
            comments = self.pages(
                account,
                f"{post_id}/comments",
                what="read comments",
                params={
                    "fields": COMMENT_FIELDS,
                    "filter": "stream",
                    "order": "chronological",
                    "since": since,
                    "limit": 100,
                },
            )
            for comment in comments:
                self._collect(account, comment, "comment", post_id, now, events, rejected)
        conversations = self.pages(
            account,
            f"{page}/conversations",
            what="read Messenger conversations",
            params={
                "platform": "messenger",
                "fields": "id,updated_time,messages.limit(25){id,message,created_time,from}",
                "limit": 25,
            },
            max_pages=2,
        )
        for conversation in conversations:
            if not isinstance(conversation, Mapping):
                continue
            if unix(parse_time(conversation.get("updated_time"), now=now)) < since:
                continue
            for message in (conversation.get("messages") or {}).get("data") or []:
                self._collect(account, message, "dm", None, now, events, rejected)
        fresh = [e for e in events if unix(e.created_at) >= since]
        good, bad_items = validation.partition_rejecting(fresh, prefix="poll")
        rejected += bad_items
        newest = max((unix(e.created_at) for e in good), default=since)
        good.sort(key=lambda e: e.created_at)
        return PollResult(events=good, cursor={"since": newest}, rejected=rejected)

    def _collect(
        self,
        account: AccountRef,
        item: Any,
        kind: str,
        post_id: str | None,
        now: dt.datetime,
        events: list[InboundEvent],
        rejected: list[RejectedItem],
    ) -> None:
        try:
            if not isinstance(item, Mapping):
                raise PayloadError("must be an object", kind)
            author = _author(item.get("from"), f"{kind}.from")
            parent = item.get("parent")
            in_reply_to = str(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") else post_id
            events.append(
                InboundEvent(
                    external_id=validation.check_identifier(item.get("id"), f"{kind}.id", required=True)
                    or "",
                    kind=kind,  # type: ignore[arg-type]
                    text=validation.check_text(
                        item.get("message") or "", f"{kind}.message", max_chars=MAX_TEXT
                    )
                    or "(no text)",
                    created_at=parse_time(item.get("created_time"), now=now),
                    author=author,
                    in_reply_to=in_reply_to if kind == "comment" else None,
                    from_account=author.external_id == account.external_id,
                    raw=dict(item),
                )
            )
        except (PayloadError, ValueError) as exc:
            ref = clean_text(str(item.get("id") if isinstance(item, Mapping) else "?"), 150)
            rejected.append(validation.rejected_item(f"{kind} {ref}", exc, item, as_json=True))

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        text = clean_text(reply.text, MAX_TEXT)
        if not text:
            raise ConnectorError("an empty reply", permanent=True)
        if reply.kind == "dm":
            if not reply.recipient_external_id:
                raise ConnectorError("a Messenger reply needs the customer's page-scoped id", permanent=True)
            answer = self.api(
                account,
                "POST",
                f"{account.external_id}/messages",
                what="send a Messenger message",
                json_body={
                    "recipient": {"id": reply.recipient_external_id},
                    "messaging_type": "RESPONSE",
                    "message": {"text": text},
                },
            )
            return SentMessage(external_id=str(answer.get("message_id") or ""), sent_at=utcnow())
        if not reply.in_reply_to:
            raise ConnectorError(
                "a Facebook reply answers a comment or a post: in_reply_to is missing", permanent=True
            )
        answer = self.api(
            account,
            "POST",
            f"{reply.in_reply_to}/comments",
            data={"message": text},
            what="reply to the comment",
        )
        return SentMessage(external_id=str(answer.get("id") or ""), sent_at=utcnow())

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        text = clean_text(post.text, 63_206)
        page = account.external_id
        images = list(post.media_urls)
        if len(images) > MAX_IMAGES:
            raise ConnectorError(
                f"Dandelion attaches at most {MAX_IMAGES} images to a Facebook post", permanent=True
            )
        alts = list(post.alt_texts)
        if len(images) == 1:
            data = {"url": images[0], "caption": f"{text}\n{post.link}".strip() if post.link else text}
            if alts and alts[0]:
                data["alt_text_custom"] = clean_text(alts[0], 1000)
            answer = self.api(account, "POST", f"{page}/photos", data=data, what="publish a photo")
            external_id = str(answer.get("post_id") or answer.get("id") or "")
        else:
            data = {"message": text}
            if post.link:
                data["link"] = post.link
            for index, url in enumerate(images):
                photo = {"url": url, "published": "false"}
                if index < len(alts) and alts[index]:
                    photo["alt_text_custom"] = clean_text(alts[index], 1000)
                uploaded = self.api(account, "POST", f"{page}/photos", data=photo, what="upload a photo")
                data[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(uploaded.get("id"))})
            answer = self.api(account, "POST", f"{page}/feed", data=data, what="publish a post")
            external_id = str(answer.get("id") or "")
        if not external_id:
            raise ConnectorError("the Graph API accepted the post but returned no id")
        return SentMessage(
            external_id=external_id, sent_at=utcnow(), url=f"https://www.facebook.com/{external_id}"
        )

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        self.api(account, "DELETE", external_id, what="delete the post")

    # --- moderation -----------------------------------------------------------------------------------------------
    def _hidden(self, account: AccountRef, external_id: str, hidden: bool) -> ModerationResult:
        self.api(
            account,
            "POST",
            external_id,
            data={"is_hidden": "true" if hidden else "false"},
            what="hide the comment" if hidden else "unhide the comment",
        )
        return self.result(
            "hide" if hidden else "unhide",
            external_id,
            "hidden on Facebook (its author and their friends still see it)"
            if hidden
            else "shown again on Facebook",
        )

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._hidden(account, external_id, True)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._hidden(account, external_id, False)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        self.api(account, "DELETE", external_id, what="delete the comment")
        return self.result("delete", external_id, "deleted on Facebook")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        self.api(
            account,
            "POST",
            f"{account.external_id}/blocked",
            data={"user": author_external_id},
            what="block the author",
        )
        return self.result("ban_author", author_external_id, "blocked from the Page")

    # --- metrics --------------------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        page = self.api(
            account,
            "GET",
            account.external_id,
            params={"fields": "followers_count,fan_count"},
            what="read the Page's counts",
        )
        fans = page.get("fan_count")
        return AccountMetrics(
            collected_at=utcnow(),
            followers=_count(page.get("followers_count")),
            extra={"fans": float(fans)} if isinstance(fans, int) else {},
        )

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Engagement of one of the Page's posts: reactions, comments, shares."""
        post = self.api(
            account,
            "GET",
            external_id,
            what="read the post's engagement",
            params={"fields": "shares,comments.summary(true).limit(0),reactions.summary(true).limit(0)"},
        )
        return {
            "reactions": _count(((post.get("reactions") or {}).get("summary") or {}).get("total_count")) or 0,
            "comments": _count(((post.get("comments") or {}).get("summary") or {}).get("total_count")) or 0,
            "shares": _count((post.get("shares") or {}).get("count")) or 0,
        }

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: ``post_metrics`` for each post (reactions as likes, comments as replies, shares
        as reposts); a post the Graph API no longer has (error code 100) is left out."""
        def read(external_id: str) -> PostMetrics:
            found = self.post_metrics(account, external_id)
            return PostMetrics(external_id=external_id, collected_at=utcnow(), likes=found["reactions"],
                               replies=found["comments"], reposts=found["shares"])

        return post_metrics_each(external_ids, read, gone=graph_object_gone)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
