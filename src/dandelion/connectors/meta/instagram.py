"""The ``instagram`` connector: an Instagram professional (business) account on the Instagram Graph API (Facebook
Login flavour: the account is linked to a Facebook Page, called with that Page's token). See
docs/connectors/instagram.md.

Account: ``external_id`` is the Instagram user id (``instagram_business_account.id``), ``handle`` its username;
``config.page_id`` the linked Page. Credentials as for Facebook (``common``).

Inbound: webhooks (``instagram`` object, fields ``comments`` and ``mentions``): a ``comments`` change is a
``comment`` event (``in_reply_to``: ``parent_id`` or the media id; written by the account itself: ``from_account``);
a ``mentions`` change names only the comment (or media) where the account was @mentioned: its text is read back from
the Graph API (``mentioned_comment`` / ``mentioned_media``) and it becomes a ``mention`` event. Polling fallback: the
comments (and their replies) of the most recent media. Outbound: ``POST /{comment-id}/replies``. Moderation: ``hide``
/ ``unhide`` (``hide``), ``delete``; Instagram's API has no block: ``ban_author`` is refused (permanent).
Publishing: an image is required (container ``POST /{ig-user-id}/media`` with ``image_url`` and ``caption``, then
``POST /{ig-user-id}/media_publish``; 2 to 10 images make a carousel); links are not clickable on Instagram and go
into the caption; alt text is not sent (not offered by the content-publishing endpoints Dandelion was written
against); the API cannot delete published media (``delete_post`` is refused). Metrics: followers, follows, media
count, and the day's reach; ``post_metrics``: a media's insights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from dandelion.connectors import validation
from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    ConfigField,
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
    reported_count,
    utcnow,
)
from dandelion.connectors.errors import ConnectorError, PayloadError
from dandelion.connectors.meta.common import MetaConnector, parse_time, unix
from dandelion.connectors.meta.graph import graph_object_gone
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import clean_text

MAX_CAPTION = 2_200
MAX_CAROUSEL = 10
COMMENT_FIELDS = "id,text,timestamp,from{id,username},parent_id"


def _author(value: Any, fallback_username: Any, path: str) -> InboundAuthor:
    if not isinstance(value, Mapping) or not value.get("id"):
        raise PayloadError("must name its author's id", path)
    author_id = validation.check_identifier(str(value["id"]), f"{path}.id", required=True) or ""
    username = clean_text(value.get("username") or fallback_username or "", 150)
    return InboundAuthor(external_id=author_id, handle=username, name=username)


@register
class InstagramConnector(MetaConnector):
    """An Instagram business account: comments and mentions in (webhooks, polling fallback), comment replies,
    hide/delete, publishing (image required), insights."""

    key = "instagram"
    label = "Instagram (Graph API)"
    webhook_object = "instagram"
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
        "pages_read_engagement",
        "business_management",
        "instagram_basic",
        "instagram_manage_comments",
        "instagram_content_publish",
        "instagram_manage_insights",
    )
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        **MetaConnector.config_schema,
        "page_id": ConfigField(str, False, "The Facebook Page the Instagram account is linked to.", ""),
    }

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
            when = parse_time(entry.get("time"), now=now)
            for index, change in enumerate(changes):
                where = f"{path}.changes[{index}]"
                if not isinstance(change, Mapping):
                    raise PayloadError("must be an object", where)
                value = change.get("value")
                if change.get("field") == "comments":
                    events.append(self._comment_event(account, value, f"{where}.value", when))
                elif change.get("field") == "mentions":
                    events.append(self._mention_event(account, value, f"{where}.value", now))
        return validation.validate_events(events, prefix="entry")

    def _comment_event(self, account: AccountRef, value: Any, path: str, when: dt.datetime) -> InboundEvent:
        if not isinstance(value, Mapping):
            raise PayloadError("must be an object", path)
        author = _author(value.get("from"), None, f"{path}.from")
        media = value.get("media")
        media_id = str(media.get("id")) if isinstance(media, Mapping) and media.get("id") else None
        parent = validation.check_identifier(value.get("parent_id"), f"{path}.parent_id", required=False)
        return InboundEvent(
            external_id=validation.check_identifier(value.get("id"), f"{path}.id", required=True) or "",
            kind="comment",
            text=validation.check_text(value.get("text") or "", f"{path}.text", max_chars=MAX_CAPTION)
            or "(no text)",
            created_at=when,
            author=author,
            in_reply_to=parent or (media_id[:150] if media_id else None),
            from_account=author.external_id == account.external_id,
            raw=dict(value),
        )

    def _mention_event(self, account: AccountRef, value: Any, path: str, now: dt.datetime) -> InboundEvent:
        if not isinstance(value, Mapping):
            raise PayloadError("must be an object", path)
        media_id = validation.check_identifier(value.get("media_id"), f"{path}.media_id", required=True) or ""
        comment_id = validation.check_identifier(
            value.get("comment_id"), f"{path}.comment_id", required=False
        )
        if comment_id:
            fields = f"mentioned_comment.comment_id({comment_id}){{id,text,timestamp,username,from}}"
        else:
            fields = f"mentioned_media.media_id({media_id}){{id,caption,timestamp,username}}"
        found = self.api(
            account, "GET", account.external_id, params={"fields": fields}, what="read the mention"
        )
        item = found.get("mentioned_comment" if comment_id else "mentioned_media")
        if not isinstance(item, Mapping):
            raise PayloadError("the mention could not be read back", path)
        username = clean_text(item.get("username"), 150)
        sender = item.get("from") if isinstance(item.get("from"), Mapping) else {"id": f"username:{username}"}
        if not username and not (isinstance(sender, Mapping) and sender.get("id")):
            raise PayloadError("the mention has no author", path)
        return InboundEvent(
            external_id=comment_id or media_id,
            kind="mention",
            text=validation.check_text(
                item.get("text") or item.get("caption") or "", f"{path}.text", max_chars=MAX_CAPTION
            )
            or "(no text)",
            created_at=parse_time(item.get("timestamp"), now=now),
            author=_author(sender, username, path),
            in_reply_to=media_id if comment_id else None,
            raw={"webhook": dict(value), "read": dict(item)},
        )

    # --- inbound: polling fallback --------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        return list(self.poll_cursor(account, {"since": unix(since)} if since else None).events)

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        now = utcnow()
        since = (cursor or {}).get("since")
        if not isinstance(since, int) or isinstance(since, bool):
            since = unix(now - dt.timedelta(hours=config["backfill_hours"]))
        media = (
            self.api(
                account,
                "GET",
                f"{account.external_id}/media",
                what="read recent media",
                params={"fields": "id,timestamp,comments_count", "limit": config["recent_posts"]},
            ).get("data")
            or []
        )
        events: list[InboundEvent] = []
        rejected: list[RejectedItem] = []
        for item in media:
            if not isinstance(item, Mapping) or not item.get("id") or not item.get("comments_count"):
                continue
            media_id = str(item["id"])
            comments = self.pages(
                account,
                f"{media_id}/comments",
                what="read comments",
                params={"fields": f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}", "limit": 50},
            )
            for comment in comments:
                self._collect(account, comment, media_id, now, events, rejected)
                replies = comment.get("replies") if isinstance(comment, Mapping) else None
                for reply in (replies or {}).get("data") or [] if isinstance(replies, Mapping) else []:
                    self._collect(account, reply, media_id, now, events, rejected)
        fresh = [e for e in events if unix(e.created_at) >= since]
        good, bad_items = validation.partition_rejecting(fresh, prefix="poll")
        rejected += bad_items
        good.sort(key=lambda e: e.created_at)
        return PollResult(
            events=good,
            cursor={"since": max((unix(e.created_at) for e in good), default=since)},
            rejected=rejected,
        )

    def _collect(
        self,
        account: AccountRef,
        item: Any,
        media_id: str,
        now: dt.datetime,
        events: list[InboundEvent],
        rejected: list[RejectedItem],
    ) -> None:
        try:
            if not isinstance(item, Mapping):
                raise PayloadError("must be an object", "comment")
            author = _author(item.get("from"), item.get("username"), "comment.from")
            parent = item.get("parent_id")
            events.append(
                InboundEvent(
                    external_id=validation.check_identifier(item.get("id"), "comment.id", required=True)
                    or "",
                    kind="comment",
                    text=validation.check_text(item.get("text") or "", "comment.text", max_chars=MAX_CAPTION)
                    or "(no text)",
                    created_at=parse_time(item.get("timestamp"), now=now),
                    author=author,
                    in_reply_to=str(parent)[:150] if parent else media_id,
                    from_account=author.external_id == account.external_id,
                    raw=dict(item),
                )
            )
        except (PayloadError, ValueError) as exc:
            ref = clean_text(str(item.get("id")) if isinstance(item, Mapping) else "?", 150)
            rejected.append(validation.rejected_item(f"comment {ref}", exc, item, as_json=True))

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        text = clean_text(reply.text, MAX_CAPTION)
        if not text:
            raise ConnectorError("an empty reply", permanent=True)
        if reply.kind == "dm" or not reply.in_reply_to:
            raise ConnectorError(
                "Dandelion answers Instagram comments only (no Instagram DMs yet)", permanent=True
            )
        answer = self.api(
            account,
            "POST",
            f"{reply.in_reply_to}/replies",
            data={"message": text},
            what="reply to the comment",
        )
        return SentMessage(external_id=str(answer.get("id") or ""), sent_at=utcnow())

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        images = list(post.media_urls)
        if not images:
            raise ConnectorError("an Instagram post needs an image", permanent=True)
        if len(images) > MAX_CAROUSEL:
            raise ConnectorError(f"an Instagram carousel holds at most {MAX_CAROUSEL} images", permanent=True)
        caption = (
            post.text if not post.link or post.link in post.text else f"{post.text.rstrip()}\n{post.link}"
        )
        caption = clean_text(caption, 10**6)
        if len(caption) > MAX_CAPTION:
            raise ConnectorError(
                f"an Instagram caption holds at most {MAX_CAPTION} characters", permanent=True
            )
        me = account.external_id
        if len(images) == 1:
            container = self.api(
                account,
                "POST",
                f"{me}/media",
                data={"image_url": images[0], "caption": caption},
                what="create the media container",
            )
        else:
            children = [
                str(
                    self.api(
                        account,
                        "POST",
                        f"{me}/media",
                        what="create a carousel item",
                        data={"image_url": url, "is_carousel_item": "true"},
                    ).get("id")
                )
                for url in images
            ]
            container = self.api(
                account,
                "POST",
                f"{me}/media",
                what="create the carousel",
                data={"media_type": "CAROUSEL", "children": ",".join(children), "caption": caption},
            )
        if not container.get("id"):
            raise ConnectorError("the Graph API created no media container")
        published = self.api(
            account,
            "POST",
            f"{me}/media_publish",
            data={"creation_id": str(container["id"])},
            what="publish the media",
        )
        if not published.get("id"):
            raise ConnectorError("the Graph API accepted the media but returned no id")
        return SentMessage(external_id=str(published["id"]), sent_at=utcnow())

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        raise ConnectorError(
            "Instagram's API cannot delete published media: delete it in the Instagram app", permanent=True
        )

    # --- moderation -----------------------------------------------------------------------------------------------
    def _hidden(self, account: AccountRef, external_id: str, hidden: bool) -> ModerationResult:
        self.api(
            account,
            "POST",
            external_id,
            data={"hide": "true" if hidden else "false"},
            what="hide the comment" if hidden else "unhide the comment",
        )
        return self.result(
            "hide" if hidden else "unhide",
            external_id,
            "hidden on Instagram" if hidden else "shown again on Instagram",
        )

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._hidden(account, external_id, True)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._hidden(account, external_id, False)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        self.api(account, "DELETE", external_id, what="delete the comment")
        return self.result("delete", external_id, "deleted on Instagram")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        raise ConnectorError(
            "Instagram's API cannot block an account: hide or delete their comments, or block "
            "them in the Instagram app",
            permanent=True,
        )

    # --- metrics --------------------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        me = self.api(
            account,
            "GET",
            account.external_id,
            what="read the account's counts",
            params={"fields": "followers_count,follows_count,media_count"},
        )
        extra: dict[str, float] = {}
        try:
            insights = self.api(
                account,
                "GET",
                f"{account.external_id}/insights",
                what="read the account's reach",
                params={"metric": "reach", "period": "day"},
            )
            values = _insight_values(insights)
            if "reach" in values:
                extra["reach_day"] = float(values["reach"])
        except ConnectorError as exc:
            if exc.retry_after or "code 190" in str(exc):
                raise
        return AccountMetrics(
            collected_at=utcnow(),
            followers=_count(me.get("followers_count")),
            following=_count(me.get("follows_count")),
            posts=_count(me.get("media_count")),
            extra=extra,
        )

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Insights of one of the account's media: reach, likes, comments, shares, saved."""
        insights = self.api(
            account,
            "GET",
            f"{external_id}/insights",
            what="read the media's insights",
            params={"metric": "reach,likes,comments,shares,saved"},
        )
        return _insight_values(insights)

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: each media's insights (likes, comments as replies, shares as reposts; a metric
        the answer lacks is not reported); a media the Graph API no longer has (error code 100) is left out."""
        def read(external_id: str) -> PostMetrics:
            found = self.post_metrics(account, external_id)
            return PostMetrics(external_id=external_id, collected_at=utcnow(),
                               likes=reported_count(found.get("likes")),
                               replies=reported_count(found.get("comments")),
                               reposts=reported_count(found.get("shares")))

        return post_metrics_each(external_ids, read, gone=graph_object_gone)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _insight_values(answer: Any) -> dict[str, int]:
    """``{metric: value}`` from an insights answer (``values[-1].value`` or ``total_value.value``)."""
    out: dict[str, int] = {}
    for metric in (answer.get("data") or []) if isinstance(answer, Mapping) else []:
        if not isinstance(metric, Mapping) or not isinstance(metric.get("name"), str):
            continue
        total = metric.get("total_value")
        values = metric.get("values")
        value = (
            total.get("value")
            if isinstance(total, Mapping)
            else (
                values[-1].get("value")
                if isinstance(values, list) and values and isinstance(values[-1], Mapping)
                else None
            )
        )
        counted = _count(value)
        if counted is not None:
            out[clean_text(metric["name"], 50)] = counted
    return out
