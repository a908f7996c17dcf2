"""The ``x`` connector: an X (Twitter) account on the X API v2 through ``tweepy``. See docs/connectors/x.md.

Account: ``external_id`` is the user id, ``handle`` the username. Credentials (stored encrypted): ``access_token``,
``refresh_token`` (scope ``offline.access``), ``client_id`` / ``client_secret`` (to refresh), ``consumer_secret``
(the app's API key secret: X signs Account Activity webhooks and CRC checks with it). Calls, rate limits, refresh:
see ``api``.

Inbound: polling (``poll_cursor``, cursor ``{"since_id", "dm_since_id"}``): the mentions timeline
(``GET /2/users/:id/mentions`` with ``since_id``, paged with ``pagination_token``, ``more`` when ``max_pages`` was
not enough) and the DM events (``GET /2/dm_events``, ``MessageCreate``, kept when newer than ``dm_since_id``). Webhooks
(Account Activity API): ``GET ?crc_token=`` answered with ``{"response_token": "sha256=…"}``; deliveries checked
against ``x-twitter-webhooks-signature`` (constant time); ``tweet_create_events`` become mentions (the account's
own tweets: ``from_account``), ``direct_message_events`` of type ``message_create`` become DMs; other event types
are ignored. Outbound: ``create_tweet`` with ``in_reply_to_tweet_id``; DMs with ``POST /2/dm_conversations/with/
:participant_id/messages``. Moderation: ``hide``/``unhide`` replies (``PUT /2/tweets/:id/hidden``), ``delete`` (own
tweets), ``mute_author``; X's API v2 no longer offers blocking to most apps: ``ban_author`` is refused. Publishing:
images uploaded with ``POST /2/media/upload`` (alt text with ``/2/media/metadata``), then ``create_tweet``; delete
with ``delete_tweet``. Search: ``search_recent_tweets`` (the last 7 days). Metrics: ``public_metrics``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import mimetypes
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import requests

from dandelion.connectors import validation
from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    CheckResult,
    ConfigField,
    Connector,
    InboundAuthor,
    InboundEvent,
    ModerationAction,
    ModerationResult,
    OAuthClient,
    OAuthGrant,
    OutboundPost,
    OutboundReply,
    PollResult,
    PostMetrics,
    RejectedItem,
    SearchResult,
    SentMessage,
    post_metrics_each,
    reported_count,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError, PayloadError, SignatureError
from dandelion.connectors.registry import register
from dandelion.connectors.text_limits import measure
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text
from dandelion.connectors.x import api

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "lang",
    "author_id",
]
USER_FIELDS = ["username", "name", "public_metrics"]
DM_FIELDS = ["id", "text", "created_at", "sender_id", "dm_conversation_id", "event_type"]
MAX_TEXT = 25_000
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
SCOPES = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "offline.access",
    "dm.read",
    "dm.write",
    "tweet.moderate.write",
    "mute.write",
    "media.write",
)
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"


def snowflake(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def _time(value: Any, now: dt.datetime) -> dt.datetime:
    moment = None
    if isinstance(value, str) and value:
        try:
            moment = dt.datetime.fromisoformat(value[:40])
        except ValueError:
            try:  # v1.1 (Account Activity): "Wed Oct 10 20:19:24 +0000 2018"
                moment = dt.datetime.strptime(value[:40], "%a %b %d %H:%M:%S %z %Y")
            except ValueError:
                moment = None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    return clamp_date(moment, now=now)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return ""


@register
class XConnector(Connector):
    """An X account: mentions and DMs in (polling, Account Activity webhooks), replies, DMs, hidden replies,
    deletion, mutes, publishing with images, recent search, metrics."""

    key = "x"
    label = "X (API v2)"
    oauth_instance = "https://x.com"
    capabilities = frozenset(
        {
            Capability.INBOUND,
            Capability.POLL,
            Capability.REPLY,
            Capability.MODERATION,
            Capability.METRICS,
            Capability.PUBLISHING,
            Capability.SEARCH,
        }
    )
    poll_interval_s = 60
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "page_size": ConfigField(int, False, "Mentions read per request (5 to 100).", 100),
        "max_pages": ConfigField(int, False, "Pages of mentions read by one poll.", 5),
        "backfill": ConfigField(int, False, "Mentions read on the first poll (0: only new ones).", 20),
        "poll_dms": ConfigField(bool, False, "Also read direct messages (needs dm.read).", True),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 15).", 60),
    }

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 5 <= clean["page_size"] <= 100:
            errors["page_size"] = "must be between 5 and 100"
        if not 1 <= clean["max_pages"] <= 50:
            errors["max_pages"] = "must be between 1 and 50"
        if not 0 <= clean["backfill"] <= 100:
            errors["backfill"] = "must be between 0 and 100"
        if clean["poll_interval_s"] < 15:
            errors["poll_interval_s"] = "must be at least 15"
        if errors:
            raise ConfigError(errors)
        return clean

    def _call(self, account: AccountRef, endpoint: str, fn: Any) -> Any:
        return api.call(account, endpoint, fn, timeout=self.validate_config(account.config)["timeout_s"])

    # --- parsing --------------------------------------------------------------------------------------------------
    def _tweet_event(
        self, account: AccountRef, tweet: Any, users: Mapping[str, Any], path: str, now: dt.datetime
    ) -> InboundEvent:
        """A v2 tweet (``data`` item, authors in ``includes.users``) as an event."""
        if not isinstance(tweet, Mapping):
            raise PayloadError("must be an object", path)
        tweet_id = validation.check_identifier(tweet.get("id"), f"{path}.id", required=True) or ""
        author_id = (
            validation.check_identifier(tweet.get("author_id"), f"{path}.author_id", required=True) or ""
        )
        user = _mapping(users.get(author_id))
        metrics = _mapping(user.get("public_metrics"))
        followers = metrics.get("followers_count")
        in_reply_to = None
        for ref in tweet.get("referenced_tweets") or []:
            if isinstance(ref, Mapping) and ref.get("type") == "replied_to" and ref.get("id"):
                in_reply_to = str(ref["id"])[:150]
        text = validation.check_text(tweet.get("text") or "", f"{path}.text", max_chars=MAX_TEXT)
        return InboundEvent(
            external_id=tweet_id,
            kind="mention",
            text=text or "(no text)",
            created_at=_time(tweet.get("created_at"), now),
            author=InboundAuthor(
                external_id=author_id,
                name=clean_text(user.get("name"), 200),
                handle=clean_text(user.get("username"), 100),
                followers=followers if isinstance(followers, int) and followers >= 0 else None,
            ),
            in_reply_to=in_reply_to,
            from_account=author_id == account.external_id,
            raw=dict(tweet),
        )

    def _dm_event(
        self, account: AccountRef, item: Any, users: Mapping[str, Any], path: str, now: dt.datetime
    ) -> InboundEvent:
        if not isinstance(item, Mapping):
            raise PayloadError("must be an object", path)
        event_id = validation.check_identifier(item.get("id"), f"{path}.id", required=True) or ""
        sender = validation.check_identifier(item.get("sender_id"), f"{path}.sender_id", required=True) or ""
        user = _mapping(users.get(sender))
        text = validation.check_text(item.get("text") or "", f"{path}.text", max_chars=MAX_TEXT)
        return InboundEvent(
            external_id=f"dm:{event_id}",
            kind="dm",
            text=text or "(no text)",
            created_at=_time(item.get("created_at"), now),
            author=InboundAuthor(
                external_id=sender,
                name=clean_text(user.get("name"), 200),
                handle=clean_text(user.get("username"), 100),
            ),
            from_account=sender == account.external_id,
            raw=dict(item),
        )

    @staticmethod
    def _users(answer: Any) -> dict[str, Any]:
        includes = answer.get("includes") if isinstance(answer, Mapping) else None
        users = includes.get("users") if isinstance(includes, Mapping) else None
        return {str(u.get("id")): u for u in users or [] if isinstance(u, Mapping)}

    def _events(
        self,
        account: AccountRef,
        items: list[tuple[str, Any, dict[str, Any]]],
        *,
        dm: bool,
        now: dt.datetime,
        rejected: list[RejectedItem],
    ) -> list[InboundEvent]:
        events = []
        for path, item, users in items:
            try:
                make = self._dm_event if dm else self._tweet_event
                events.append(make(account, item, users, path, now))
            except (PayloadError, ValueError) as exc:
                ref = clean_text(str(item.get("id")) if isinstance(item, Mapping) else "?", 100)
                rejected.append(validation.rejected_item(f"{'dm' if dm else 'tweet'} {ref}", exc, item, as_json=True))
        return events

    # --- inbound: polling -----------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        now = utcnow()
        state = dict(cursor or {})
        since_id = state.get("since_id")
        rejected: list[RejectedItem] = []
        items: list[tuple[str, Any, dict[str, Any]]] = []
        # a backlog larger than ``max_pages`` is read on across polls: X answers newest first, so ``since_id``
        # stays where it was until the walk (resumed with ``resume_token``) reaches it
        token = state.get("resume_token") if since_id is not None else None
        newest = state.get("pending_newest") if token else since_id
        more = False
        pages = 1 if since_id is None else config["max_pages"]
        for page in range(pages):
            size = max(5, config["backfill"]) if since_id is None else config["page_size"]

            def read(client: Any, t: Any = token, s: int = size) -> Any:
                return client.get_users_mentions(
                    account.external_id,
                    since_id=since_id,
                    max_results=s,
                    pagination_token=t,
                    expansions=["author_id"],
                    tweet_fields=TWEET_FIELDS,
                    user_fields=USER_FIELDS,
                    user_auth=False,
                )

            answer = self._call(account, "mentions", read)
            meta = answer.get("meta") if isinstance(answer, Mapping) else {}
            meta = meta if isinstance(meta, Mapping) else {}
            users = self._users(answer)
            data = answer.get("data") if isinstance(answer, Mapping) else None
            for index, tweet in enumerate(data if isinstance(data, list) else []):
                items.append((f"mentions[{page}][{index}]", tweet, users))
            if meta.get("newest_id") and snowflake(meta["newest_id"]) > snowflake(newest):
                newest = str(meta["newest_id"])
            token = meta.get("next_token")
            if not token:
                break
        else:
            more = bool(token) and since_id is not None
        mention_cursor = (
            {"since_id": since_id, "resume_token": token, "pending_newest": newest}
            if more
            else {"since_id": newest}
        )
        if since_id is None and not config["backfill"]:
            items = []
        events = self._events(account, items, dm=False, now=now, rejected=rejected)
        dm_since = state.get("dm_since_id")
        if config["poll_dms"]:
            dm_events, dm_since = self._poll_dms(
                account,
                dm_since,
                first=since_id is None and not config["backfill"],
                now=now,
                rejected=rejected,
            )
            events += dm_events
        good, bad_items = validation.partition_rejecting(events, prefix="poll")
        rejected += bad_items
        good.sort(key=lambda e: (e.created_at, snowflake(e.external_id.removeprefix("dm:"))))
        return PollResult(
            events=good, cursor={**mention_cursor, "dm_since_id": dm_since}, rejected=rejected, more=more
        )

    def _poll_dms(
        self, account: AccountRef, since: Any, *, first: bool, now: dt.datetime, rejected: list[RejectedItem]
    ) -> tuple[list[InboundEvent], Any]:
        answer = self._call(
            account,
            "dm_events",
            lambda client: client.get_direct_message_events(
                event_types="MessageCreate",
                dm_event_fields=DM_FIELDS,
                expansions=["sender_id"],
                user_fields=["username", "name"],
                max_results=100,
                user_auth=False,
            ),
        )
        users = self._users(answer)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        fresh = [
            (f"dm_events[{i}]", item, users)
            for i, item in enumerate(data if isinstance(data, list) else [])
            if isinstance(item, Mapping) and snowflake(item.get("id")) > snowflake(since)
        ]
        top = max([snowflake(item.get("id")) for _p, item, _u in fresh] + [snowflake(since)])
        if first:
            fresh = []
        return self._events(account, fresh, dm=True, now=now, rejected=rejected), (
            str(top) if top >= 0 else None
        )

    # --- inbound: Account Activity webhooks -----------------------------------------------------------------------
    def answer_challenge(self, account: AccountRef, params: Mapping[str, str]) -> tuple[str, str]:
        """X's CRC check: ``{"response_token": "sha256=<base64 HMAC of crc_token with the consumer secret>"}``."""
        secret = account.credentials.get("consumer_secret", "")
        token = params.get("crc_token") or ""
        if not secret:
            raise SignatureError("the account has no consumer secret to answer X's CRC check with")
        if not token or len(token) > 500:
            raise SignatureError("no crc_token", missing=True)
        return "application/json", json.dumps({"response_token": api.crc_response(token, secret)})

    def parse_webhook(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[InboundEvent]:
        secret = account.credentials.get("consumer_secret", "")
        if not secret:
            raise SignatureError("the account has no consumer secret to check X's signature with")
        signature = _header(headers, "x-twitter-webhooks-signature").strip()
        if not signature:
            raise SignatureError("no x-twitter-webhooks-signature header", missing=True)
        expected = (
            "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        )
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise SignatureError("x-twitter-webhooks-signature does not match the body")
        data = validation.load_json(body)
        if not isinstance(data, Mapping):
            raise PayloadError("must be a JSON object", "body")
        if str(data.get("for_user_id") or "") != account.external_id:
            raise PayloadError("is not this account's id", "for_user_id")
        now = utcnow()
        events: list[InboundEvent] = []
        tweets = data.get("tweet_create_events") or []
        if not isinstance(tweets, list):
            raise PayloadError("must be a list", "tweet_create_events")
        for index, tweet in enumerate(tweets):
            events.append(self._v1_tweet(account, tweet, f"tweet_create_events[{index}]", now))
        messages = data.get("direct_message_events") or []
        if not isinstance(messages, list):
            raise PayloadError("must be a list", "direct_message_events")
        users = _mapping(data.get("users"))
        for index, message in enumerate(messages):
            event = self._v1_dm(account, message, users, f"direct_message_events[{index}]", now)
            if event is not None:
                events.append(event)
        return validation.validate_events(events, prefix="events")

    def _v1_tweet(self, account: AccountRef, tweet: Any, path: str, now: dt.datetime) -> InboundEvent:
        if not isinstance(tweet, Mapping):
            raise PayloadError("must be an object", path)
        user = tweet.get("user")
        if not isinstance(user, Mapping):
            raise PayloadError("required", f"{path}.user")
        author_id = (
            validation.check_identifier(user.get("id_str"), f"{path}.user.id_str", required=True) or ""
        )
        extended = tweet.get("extended_tweet")
        full = extended.get("full_text") if isinstance(extended, Mapping) else None
        text = validation.check_text(
            full or tweet.get("full_text") or tweet.get("text") or "", f"{path}.text", max_chars=MAX_TEXT
        )
        followers = user.get("followers_count")
        return InboundEvent(
            external_id=validation.check_identifier(tweet.get("id_str"), f"{path}.id_str", required=True)
            or "",
            kind="mention",
            text=text or "(no text)",
            created_at=_time(tweet.get("created_at"), now),
            author=InboundAuthor(
                external_id=author_id,
                name=clean_text(user.get("name"), 200),
                handle=clean_text(user.get("screen_name"), 100),
                followers=followers if isinstance(followers, int) and followers >= 0 else None,
            ),
            in_reply_to=validation.check_identifier(
                tweet.get("in_reply_to_status_id_str"), f"{path}.in_reply_to_status_id_str", required=False
            ),
            from_account=author_id == account.external_id,
            raw=dict(tweet),
        )

    def _v1_dm(
        self, account: AccountRef, message: Any, users: Mapping[str, Any], path: str, now: dt.datetime
    ) -> InboundEvent | None:
        if not isinstance(message, Mapping):
            raise PayloadError("must be an object", path)
        if message.get("type") != "message_create":
            return None
        create = message.get("message_create")
        if not isinstance(create, Mapping):
            raise PayloadError("required", f"{path}.message_create")
        sender = (
            validation.check_identifier(
                create.get("sender_id"), f"{path}.message_create.sender_id", required=True
            )
            or ""
        )
        data = _mapping(create.get("message_data"))
        user = _mapping(users.get(sender))
        created = message.get("created_timestamp")
        created = (
            int(created) if isinstance(created, str) and created.isdigit() and len(created) < 16 else created
        )
        text = validation.check_text(
            data.get("text") or "", f"{path}.message_create.message_data.text", max_chars=MAX_TEXT
        )
        return InboundEvent(
            external_id="dm:"
            + (validation.check_identifier(message.get("id"), f"{path}.id", required=True) or ""),
            kind="dm",
            text=text or "(no text)",
            created_at=_time(created, now),
            author=InboundAuthor(
                external_id=sender,
                name=clean_text(user.get("name"), 200),
                handle=clean_text(user.get("screen_name"), 100),
            ),
            from_account=sender == account.external_id,
            raw=dict(message),
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def _check_length(self, text: str) -> None:
        size = measure("x", text)
        if size.length > size.limit:
            raise ConnectorError(
                f"the post is {size.length} characters as X counts them; the limit is {size.limit}",
                permanent=True,
            )

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        text = clean_text(reply.text, MAX_TEXT)
        if not text:
            raise ConnectorError("an empty reply", permanent=True)
        if reply.kind == "dm":
            recipient = reply.recipient_external_id
            if not recipient:
                raise ConnectorError("an X direct message needs the recipient's user id", permanent=True)
            answer = self._call(
                account,
                "dm_send",
                lambda client: client.create_direct_message(
                    participant_id=recipient, text=text, user_auth=False
                ),
            )
            data = answer.get("data") or {}
            return SentMessage(external_id=f"dm:{data.get('dm_event_id')}", sent_at=utcnow())
        self._check_length(text)
        answer = self._call(
            account,
            "tweet",
            lambda client: client.create_tweet(
                text=text, in_reply_to_tweet_id=reply.in_reply_to, user_auth=False
            ),
        )
        tweet_id = str((answer.get("data") or {}).get("id") or "")
        return SentMessage(
            external_id=tweet_id, sent_at=utcnow(), url=f"https://x.com/i/web/status/{tweet_id}"
        )

    def _upload(self, account: AccountRef, url: str, alt: str | None, timeout: float) -> str:
        if urlsplit(url).scheme not in ("https", "http"):
            raise ConnectorError(f"the image {url[:200]!r} is not an http(s) URL", permanent=True)
        try:
            with requests.get(url, timeout=timeout, stream=True) as response:
                if response.status_code >= 400:
                    raise ConnectorError(
                        f"the image {url[:200]} answered HTTP {response.status_code}",
                        permanent=400 <= response.status_code < 500,
                    )
                data = b""
                for chunk in response.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise ConnectorError(f"the image {url[:200]} is larger than 5 MB", permanent=True)
                mime = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot read the image {url[:200]} ({type(exc).__name__})") from exc
        mime = mime or mimetypes.guess_type(url)[0] or ""
        if not mime.startswith("image/"):
            raise ConnectorError(f"{url[:200]} is not an image ({mime or 'unknown type'})", permanent=True)
        answer = api.raw(
            account,
            "media_upload",
            "POST",
            "/2/media/upload",
            timeout=timeout,
            files={"media": ("image", data, mime)},
            data={"media_category": "tweet_image"},
        )
        media_id = str((answer.get("data") or {}).get("id") or "")
        if not media_id:
            raise ConnectorError("X accepted the image but returned no media id")
        if alt:
            api.raw(
                account,
                "media_metadata",
                "POST",
                "/2/media/metadata",
                timeout=timeout,
                json={"id": media_id, "metadata": {"alt_text": {"text": clean_text(alt, 1000)}}},
            )
        return media_id

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        config = self.validate_config(account.config)
        text = post.text
        if post.link and post.link not in text:
            text = f"{text.rstrip()}\n{post.link}" if text.strip() else post.link
        text = clean_text(text, MAX_TEXT)
        self._check_length(text)
        if len(post.media_urls) > MAX_IMAGES:
            raise ConnectorError(f"X attaches at most {MAX_IMAGES} images to a post", permanent=True)
        media_ids = [
            self._upload(
                account, url, post.alt_texts[i] if i < len(post.alt_texts) else None, config["timeout_s"]
            )
            for i, url in enumerate(post.media_urls)
        ]
        answer = self._call(
            account,
            "tweet",
            lambda client: client.create_tweet(text=text, media_ids=media_ids or None, user_auth=False),
        )
        tweet_id = str((answer.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise ConnectorError("X accepted the post but returned no id")
        return SentMessage(
            external_id=tweet_id, sent_at=utcnow(), url=f"https://x.com/i/web/status/{tweet_id}"
        )

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        self._call(account, "tweet_delete", lambda client: client.delete_tweet(external_id, user_auth=False))

    # --- moderation -----------------------------------------------------------------------------------------------
    @staticmethod
    def _result(action: ModerationAction, target: str, detail: str) -> ModerationResult:
        return ModerationResult(
            action=action,
            target_external_id=target,
            performed_at=utcnow(),
            detail=detail,
        )

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._call(account, "hide_reply", lambda client: client.hide_reply(external_id, user_auth=False))
        return self._result("hide", external_id, "reply hidden on X (behind 'hidden replies')")

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._call(account, "hide_reply", lambda client: client.unhide_reply(external_id, user_auth=False))
        return self._result("unhide", external_id, "reply shown again on X")

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        if external_id.startswith("dm:"):
            raise ConnectorError("Dandelion does not delete X direct messages", permanent=True)
        self._call(account, "tweet_delete", lambda client: client.delete_tweet(external_id, user_auth=False))
        return self._result("delete", external_id, "deleted on X (X deletes only the account's own posts)")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        raise ConnectorError(
            "X's API v2 no longer lets apps block accounts: mute the author, or block them in the X app",
            permanent=True,
        )

    def mute_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        self._call(account, "mute", lambda client: client.mute(author_external_id, user_auth=False))
        return self._result("mute_author", author_external_id, "muted on X")

    # --- search and metrics ---------------------------------------------------------------------------------------
    def search(
        self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None
    ) -> SearchResult:
        query = clean_text(query, 512)
        if not query:
            raise ConnectorError("an empty search", permanent=True)
        size = max(10, min(int(limit), 100))
        answer = self._call(
            account,
            "search",
            lambda client: client.search_recent_tweets(
                query,
                max_results=size,
                next_token=cursor or None,
                expansions=["author_id"],
                tweet_fields=TWEET_FIELDS,
                user_fields=USER_FIELDS,
                user_auth=False,
            ),
        )
        users = self._users(answer)
        data = answer.get("data") if isinstance(answer, Mapping) else None
        items = [(f"search[{i}]", t, users) for i, t in enumerate(data if isinstance(data, list) else [])]
        events = self._events(account, items, dm=False, now=utcnow(), rejected=[])
        good, _bad = validation.partition_events(events[:limit], prefix="search")
        meta = answer.get("meta") if isinstance(answer.get("meta"), Mapping) else {}
        return SearchResult(events=good, cursor=str(meta["next_token"]) if meta.get("next_token") else None)

    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        answer = self._call(
            account, "me", lambda client: client.get_me(user_fields=["public_metrics"], user_auth=False)
        )
        metrics = (answer.get("data") or {}).get("public_metrics") or {}

        def count(name: str) -> int | None:
            value = metrics.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

        listed = count("listed_count")
        return AccountMetrics(
            collected_at=utcnow(),
            followers=count("followers_count"),
            following=count("following_count"),
            posts=count("tweet_count"),
            extra={"listed": float(listed)} if listed is not None else {},
        )

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Public metrics of one of the account's posts (retweets, replies, likes, quotes, bookmarks, impressions)."""
        answer = self._call(
            account,
            "tweet_lookup",
            lambda client: client.get_tweet(external_id, tweet_fields=["public_metrics"], user_auth=False),
        )
        metrics = (answer.get("data") or {}).get("public_metrics") or {}
        return {k.removesuffix("_count"): v for k, v in metrics.items() if isinstance(v, int) and v >= 0}

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: each post's ``public_metrics`` (``like_count``, ``reply_count``,
        ``retweet_count``, ``quote_count``); a post X no longer returns (deleted: no ``data``) is left out."""
        def read(external_id: str) -> PostMetrics | None:
            answer = self._call(
                account,
                "tweet_lookup",
                lambda client: client.get_tweet(external_id, tweet_fields=["public_metrics"], user_auth=False),
            )
            data = answer.get("data")
            if not data:
                return None
            metrics = data.get("public_metrics") or {}
            return PostMetrics(external_id=external_id, collected_at=utcnow(),
                               likes=reported_count(metrics.get("like_count")),
                               replies=reported_count(metrics.get("reply_count")),
                               reposts=reported_count(metrics.get("retweet_count")),
                               quotes=reported_count(metrics.get("quote_count")))

        return post_metrics_each(external_ids, read)

    # --- connecting: OAuth 2 with PKCE ----------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        client_id = os.environ.get("DANDELION_X_CLIENT_ID", "").strip()
        secret = os.environ.get("DANDELION_X_CLIENT_SECRET", "").strip()
        if not client_id:
            raise ConnectorError(
                "set DANDELION_X_CLIENT_ID (and DANDELION_X_CLIENT_SECRET for a confidential "
                "client): your X app's OAuth 2.0 client, from developer.x.com",
                permanent=True,
            )
        credentials = {
            "client_id": client_id,
            "client_secret": secret,
            "consumer_secret": os.environ.get("DANDELION_X_CONSUMER_SECRET", "").strip(),
        }
        return OAuthClient(instance="https://x.com", redirect_uri=redirect_uri, credentials=credentials)

    @staticmethod
    def code_verifier(client: OAuthClient) -> str:
        """The PKCE verifier: derived from the app's secret (or client id) and redirect URI, so the exchange, which
        is not given the ``state``, can recompute it. Never sent but in the token request."""
        key = (client.credentials.get("client_secret") or client.credentials.get("client_id") or "").encode()
        digest = hmac.new(key, f"dandelion-pkce:{client.redirect_uri}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest + digest[:16]).rstrip(b"=").decode()  # 64 characters

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.code_verifier(client).encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.credentials.get("client_id", ""),
                "redirect_uri": client.redirect_uri,
                "scope": " ".join(SCOPES),
                "state": state,
                "code_challenge": challenge.rstrip(b"=").decode(),
                "code_challenge_method": "S256",
            }
        )
        return f"{AUTHORIZE_URL}?{query}"

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        if not code:
            raise ConnectorError("X sent no authorisation code (was access denied?)", permanent=True)
        client_id, secret = (
            client.credentials.get("client_id", ""),
            client.credentials.get("client_secret", ""),
        )
        try:
            response = requests.post(
                api.TOKEN_URL,
                timeout=20,
                auth=(client_id, secret) if secret else None,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": client.redirect_uri,
                    "client_id": client_id,
                    "code_verifier": self.code_verifier(client),
                },
            )
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach X to exchange the code ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            raise ConnectorError(
                f"X refused the authorisation code (HTTP {response.status_code})", permanent=True
            )
        tokens = response.json()
        credentials = {
            "access_token": str(tokens.get("access_token") or ""),
            "refresh_token": str(tokens.get("refresh_token") or ""),
            "client_id": client_id,
            "client_secret": secret,
            "consumer_secret": client.credentials.get("consumer_secret", ""),
        }
        probe = AccountRef(id=0, network="x", external_id="", handle="", credentials=credentials)
        me = api.call(probe, "me", lambda c: c.get_me(user_auth=False)).get("data") or {}
        if not me.get("id"):
            raise ConnectorError("X did not say whose token this is")
        expires = tokens.get("expires_in")
        return OAuthGrant(
            external_id=bounded_id(str(me["id"])),
            handle=clean_text(me.get("username"), 100),
            credentials=credentials,
            display_name=clean_text(me.get("name"), 200),
            url=f"https://x.com/{clean_text(me.get('username'), 100)}",
            expires_at=utcnow() + dt.timedelta(seconds=int(expires)) if isinstance(expires, int) else None,
        )

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [
            CheckResult("config", True, "valid"),
            CheckResult(
                "consumer secret",
                bool(account.credentials.get("consumer_secret")),
                "set"
                if account.credentials.get("consumer_secret")
                else "missing: Account Activity webhooks cannot be verified (polling works)",
            ),
        ]
        try:
            me = self._call(account, "me", lambda client: client.get_me(user_auth=False)).get("data") or {}
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        results.append(
            CheckResult(
                "token",
                str(me.get("id")) == account.external_id,
                f"@{me.get('username')} (id {me.get('id')})",
            )
        )
        limits = api.last_limits.get(account.id, {}).get("me")
        results.append(
            CheckResult(
                "rate limit",
                not limits or limits["remaining"] > 0,
                f"{limits['remaining']} of {limits['limit']} left"
                if limits
                else "no rate-limit headers seen",
            )
        )
        return results
