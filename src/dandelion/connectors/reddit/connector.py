"""The ``reddit`` connector: a Reddit account (and the subreddit it runs), on PRAW. See docs/connectors/reddit.md.

Account: ``handle`` is the user name (``u/name`` or ``name``), ``external_id`` the account's id (``t2_…``).
Credentials and errors: see ``client``. Config: ``subreddit``, the subreddit the brand posts to and, when the account
moderates it, moderates (without one, no publishing and no moderation beyond deleting the account's own items).

Inbound (``poll_cursor``): the inbox (``GET /message/inbox``: username mentions, replies to the account's comments and
posts, private messages), newest first, walked with ``after`` until an item older than the cursor's watermark (at
most ``max_pages`` pages; ``more`` when a backlog remains). External ids are Reddit fullnames (``t1_…`` comments,
``t4_…`` messages, ``t3_…`` posts), so a reply can answer any of them. Items that cannot be read are ``rejected``.

Outbound: ``send_reply`` posts ``/api/comment`` on the answered fullname (a comment, a post, or a message: Reddit
answers a private message the same way). ``publish`` submits a text post (title: the first line) or a link post to
the subreddit (``/api/submit``); images are refused (Reddit's media upload is not implemented). ``delete_post`` and
``delete`` of the account's own items use ``/api/del``. Moderation, where the account moderates the subreddit:
``hide`` removes an item (``/api/remove``), ``unhide`` approves it (``/api/approve``), ``delete`` removes others'
items, ``ban_author`` bans the author from the subreddit. Metrics: the account's karma and followers
(``/api/v1/me``), the subreddit's subscribers; ``post_metrics``: score, comments, upvote ratio. ``search``: the
subreddit's (or all of Reddit's) posts, newest first.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    CheckResult,
    ConfigField,
    Connector,
    EventKind,
    InboundAuthor,
    InboundEvent,
    ModerationResult,
    OAuthClient,
    OAuthGrant,
    OutboundPost,
    OutboundReply,
    PollResult,
    RejectedItem,
    SearchResult,
    SentMessage,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.reddit import client as clients
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text
from dandelion.connectors.validation import partition_events, partition_rejecting, rejected_item

logger = logging.getLogger(__name__)

MAX_PAGE = 100
SEEN_KEEP = 200
MAX_COMMENT_CHARS = 10_000
MAX_TITLE_CHARS = 300
MAX_SELF_CHARS = 40_000
REDDIT_INSTANCE = "https://www.reddit.com"
_FULLNAME_RE = re.compile(r"^t[1-6]_[a-z0-9]{1,16}$")
_SUBREDDIT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_INBOX_KINDS: dict[str, EventKind] = {
    "username_mention": "mention",
    "comment_reply": "reply",
    "post_reply": "reply",
}


def _time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _count(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**62) < number < 2**62 else None


def _fullname(value: str, what: str = "item") -> str:
    if not _FULLNAME_RE.match(value or ""):
        raise ConnectorError(f"{value!r} is not a Reddit {what} fullname (t1_…, t3_…, t4_…)", permanent=True)
    return value


def _children(listing: Any) -> list[Any]:
    data = listing.get("data") if isinstance(listing, Mapping) else None
    children = data.get("children") if isinstance(data, Mapping) else None
    return children if isinstance(children, list) else []


def _things(answer: Any) -> list[Any]:
    """The ``things`` of an ``api_type=json`` answer (``{"json": {"errors": [], "data": {"things": [...]}}}``)."""
    body = answer.get("json") if isinstance(answer, Mapping) else None
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if errors:
        detail = clean_text(repr(errors), 300)
        for error in errors if isinstance(errors, list) else []:
            if isinstance(error, list) and error and error[0] == "RATELIMIT":
                message = str(error[1] if len(error) > 1 else "")
                raise ConnectorError(
                    f"Reddit says: {clean_text(message, 200)}", retry_after=clients.api_retry_after(message)
                )
        raise ConnectorError(f"Reddit refused it: {detail}", permanent=True)
    data = body.get("data") if isinstance(body, Mapping) else None
    things = data.get("things") if isinstance(data, Mapping) else None
    return things if isinstance(things, list) else []


@register
class RedditConnector(Connector):
    """A Reddit account: its inbox in (polled with a cursor), replies, posts, moderation of its subreddit, metrics,
    search."""

    key = "reddit"
    label = "Reddit"
    capabilities = frozenset(
        {
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
        "subreddit": ConfigField(
            str,
            False,
            "The subreddit posted to and, if the account moderates it, moderated (without r/).",
            "",
        ),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "page_size": ConfigField(int, False, "Inbox items read per request (1 to 100).", MAX_PAGE),
        "max_pages": ConfigField(int, False, "Pages of the inbox read by one poll.", 5),
        "backfill": ConfigField(bool, False, "Read the latest page of the inbox on the first poll.", True),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 30).", 60),
    }

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        clean["subreddit"] = re.sub(r"^/?r/", "", clean["subreddit"].strip())
        if clean["subreddit"] and not _SUBREDDIT_RE.match(clean["subreddit"]):
            errors["subreddit"] = "must be a subreddit name (letters, digits, underscores)"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1 <= clean["page_size"] <= MAX_PAGE:
            errors["page_size"] = f"must be between 1 and {MAX_PAGE}"
        if not 1 <= clean["max_pages"] <= 50:
            errors["max_pages"] = "must be between 1 and 50"
        if clean["poll_interval_s"] < 30:
            errors["poll_interval_s"] = "must be at least 30"
        if errors:
            raise ConfigError(errors)
        return clean

    def capabilities_for(self, config: Mapping[str, Any] | None = None) -> frozenset[str]:
        try:
            subreddit = self.validate_config(config)["subreddit"]
        except ConfigError:
            subreddit = ""
        if subreddit:
            return self.capabilities
        return self.capabilities - {Capability.PUBLISHING, Capability.MODERATION}

    # --- clients --------------------------------------------------------------------------------------------------
    @staticmethod
    def _user(account: AccountRef) -> str:
        return re.sub(r"^/?u/|^@", "", account.handle.strip()) or "dandelion"

    def client(self, account: AccountRef) -> clients.Client:
        config = self.validate_config(account.config)
        return clients.client_for(
            account.id, account.credentials, user=self._user(account), timeout=config["timeout_s"]
        )

    def _request(
        self,
        account: AccountRef,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> Any:
        own = self.client(account)
        query = {"raw_json": 1, **(params or {})}
        return clients.call(
            own,
            what,
            lambda reddit: reddit.request(
                method=method, path=path, params=query, data=dict(data) if data else None
            ),
        )

    def _subreddit(self, account: AccountRef, what: str) -> str:
        subreddit = self.validate_config(account.config)["subreddit"]
        if not subreddit:
            raise ConnectorError(f"{what}: no subreddit configured for this Reddit account", permanent=True)
        return subreddit

    # --- OAuth ----------------------------------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        """Reddit apps are created at reddit.com/prefs/apps, not by API: read from the environment."""
        client_id = os.environ.get("DANDELION_REDDIT_CLIENT_ID", "")
        client_secret = os.environ.get("DANDELION_REDDIT_CLIENT_SECRET", "")
        if not client_id or not client_secret:
            raise ConnectorError(
                "no Reddit app configured: set DANDELION_REDDIT_CLIENT_ID and "
                "DANDELION_REDDIT_CLIENT_SECRET (docs/connectors/reddit.md)",
                permanent=True,
            )
        return OAuthClient(
            REDDIT_INSTANCE, redirect_uri, {"client_id": client_id, "client_secret": client_secret}
        )

    @staticmethod
    def _oauth_reddit(client: OAuthClient) -> Any:
        return clients.make_reddit(
            client_id=client.credentials.get("client_id", ""),
            client_secret=client.credentials.get("client_secret", ""),
            redirect_uri=client.redirect_uri,
        )

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        try:
            return self._oauth_reddit(client).auth.url(
                scopes=list(clients.SCOPES), state=state, duration="permanent"
            )
        except Exception as exc:
            raise clients.map_error(exc, "build the authorisation URL") from exc

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        if not code:
            raise ConnectorError("Reddit sent no authorisation code (was access denied?)", permanent=True)
        reddit = self._oauth_reddit(client)
        try:
            refresh_token = reddit.auth.authorize(code)
            me = reddit.request(method="GET", path="/api/v1/me", params={"raw_json": 1})
        except Exception as exc:
            raise clients.map_error(exc, "exchange the authorisation code") from exc
        if not refresh_token:
            raise ConnectorError(
                "Reddit issued no refresh token (duration=permanent refused?)", permanent=True
            )
        if not isinstance(me, Mapping) or not me.get("name") or not me.get("id"):
            raise ConnectorError("Reddit did not say which account was connected", permanent=True)
        name = clean_text(me["name"], 40)
        return OAuthGrant(
            external_id=f"t2_{clean_text(me['id'], 20)}",
            handle=name,
            credentials={
                "refresh_token": str(refresh_token),
                "client_id": client.credentials.get("client_id", ""),
                "client_secret": client.credentials.get("client_secret", ""),
            },
            display_name=name,
            url=f"https://www.reddit.com/user/{name}/",
        )

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        state = dict(cursor or {})
        watermark = _time(state.get("since")) if state.get("since") is not None else None
        seen = {str(i) for i in state.get("seen") or []}
        first = not state
        items: list[Any] = []
        rejected: list[RejectedItem] = []
        after: str | None = None
        more = False
        for _page in range(config["max_pages"]):
            params: dict[str, Any] = {"limit": config["page_size"]}
            if after:
                params["after"] = after
            listing = self._request(account, "read the inbox", "GET", "/message/inbox", params=params)
            children = _children(listing)
            reached = False
            for child in children:
                created = (
                    _time(child.get("data", {}).get("created_utc"))
                    if isinstance(child, Mapping) and isinstance(child.get("data"), Mapping)
                    else None
                )
                if watermark is not None and created is not None and created < watermark:
                    reached = True
                    break
                items.append(child)
            data = listing.get("data") if isinstance(listing, Mapping) else None
            after = (
                data.get("after")
                if isinstance(data, Mapping) and isinstance(data.get("after"), str)
                else None
            )
            if reached or not after or first:
                break
        else:
            more = True
        now = utcnow()
        own = self._user(account).lower()
        events: list[InboundEvent] = []
        for child in items:
            try:
                events.append(self.event_from_inbox(child, own=own, now=now))
            except (ValueError, TypeError, KeyError) as exc:
                name = (
                    child.get("data", {}).get("name")
                    if isinstance(child, Mapping) and isinstance(child.get("data"), Mapping)
                    else None
                )
                rejected.append(rejected_item(f"inbox item {clean_text(str(name), 100)}", exc, child))
        if first and not config["backfill"]:
            events = []
        if watermark is not None:
            events = [e for e in events if not (e.created_at == watermark and e.external_id in seen)]
        good, bad_items = partition_rejecting(events, refs=[e.external_id for e in events], prefix="inbox")
        rejected += bad_items
        good.sort(key=lambda e: e.created_at)
        newest = max((e.created_at for e in good), default=watermark)
        if first and not config["backfill"]:
            newest = now
        keep = seen if newest == watermark else set()
        seen_now = sorted(keep | {e.external_id for e in good if e.created_at == newest})[-SEEN_KEEP:]
        return PollResult(
            events=good,
            rejected=rejected,
            more=more,
            cursor={"since": newest.timestamp() if newest else None, "seen": seen_now},
        )

    @staticmethod
    def event_from_inbox(child: Any, *, own: str, now: dt.datetime) -> InboundEvent:
        """An ``InboundEvent`` from an inbox listing child (``{"kind": "t1"|"t4", "data": {...}}``)."""
        if not isinstance(child, Mapping) or not isinstance(child.get("data"), Mapping):
            raise TypeError("an inbox item that is not a thing")
        thing, data = child.get("kind"), child["data"]
        name = data.get("name")
        if not isinstance(name, str) or not _FULLNAME_RE.match(name):
            raise ValueError("an inbox item without a valid fullname")
        kind: EventKind | None
        if thing == "t4":
            kind = "dm"
            parent = data.get("parent_id") or data.get("first_message_name")
        elif thing == "t1":
            kind = _INBOX_KINDS.get(str(data.get("type") or ""))
            if kind is None:
                raise ValueError(f"an inbox comment of unknown type {clean_text(data.get('type'), 40)!r}")
            parent = data.get("parent_id")
        else:
            raise ValueError(f"an inbox item of unknown kind {clean_text(thing, 20)!r}")
        author = clean_text(data.get("author") or "", 40) or "[deleted]"
        text = clean_text(data.get("body") or "")
        if kind == "dm" and data.get("subject"):
            text = clean_text(f"{clean_text(data.get('subject'), 300)}\n\n{text}")
        return InboundEvent(
            external_id=name,
            kind=kind,
            text=text,
            created_at=clamp_date(_time(data.get("created_utc")), now=now),
            author=InboundAuthor(external_id=author, name=author, handle=f"u/{author}"),
            in_reply_to=bounded_id(parent) if isinstance(parent, str) and parent else None,
            from_account=author.lower() == own,
            raw={
                "name": name,
                "subreddit": clean_text(data.get("subreddit") or "", 40),
                "context": clean_text(data.get("context") or "", 500),
                "type": clean_text(data.get("type"), 40),
            },
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        target = reply.in_reply_to
        if not target:
            raise ConnectorError(
                "a Reddit reply answers an item: in_reply_to is required (a new private message is not sent)",
                permanent=True,
            )
        _fullname(target)
        text = reply.text.strip()
        if not text or len(text) > MAX_COMMENT_CHARS:
            raise ConnectorError(
                f"a Reddit comment holds 1 to {MAX_COMMENT_CHARS} characters", permanent=True
            )
        answer = self._request(
            account,
            "reply",
            "POST",
            "/api/comment",
            data={"thing_id": target, "text": text, "api_type": "json"},
        )
        things = _things(answer)
        data = things[0].get("data") if things and isinstance(things[0], Mapping) else None
        if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
            raise ConnectorError("Reddit accepted the reply but returned no id")
        permalink = data.get("permalink")
        return SentMessage(
            external_id=data["name"],
            sent_at=clamp_date(_time(data.get("created_utc")), now=utcnow()),
            url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
        )

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        subreddit = self._subreddit(account, "publish")
        if post.media_urls:
            raise ConnectorError(
                "Reddit image posts are not supported by Dandelion's connector: publish a link or "
                "a text post",
                permanent=True,
            )
        title, _, body = post.text.strip().partition("\n")
        title = title.strip()
        if not title or len(title) > MAX_TITLE_CHARS:
            raise ConnectorError(
                f"a Reddit post needs a title (its first line) of 1 to {MAX_TITLE_CHARS} characters",
                permanent=True,
            )
        data: dict[str, Any] = {
            "sr": subreddit,
            "title": title,
            "api_type": "json",
            "resubmit": "true",
            "sendreplies": "true",
        }
        if post.link:
            data.update(kind="link", url=post.link)
        else:
            if len(body) > MAX_SELF_CHARS:
                raise ConnectorError(
                    f"a Reddit text post holds at most {MAX_SELF_CHARS} characters", permanent=True
                )
            data.update(kind="self", text=body.strip())
        answer = self._request(account, "submit the post", "POST", "/api/submit", data=data)
        body_json = answer.get("json") if isinstance(answer, Mapping) else None
        if isinstance(body_json, Mapping) and body_json.get("errors"):
            _things(answer)  # raises with Reddit's errors
        made = body_json.get("data") if isinstance(body_json, Mapping) else None
        if not isinstance(made, Mapping) or not isinstance(made.get("name"), str):
            raise ConnectorError("Reddit accepted the post but returned no id")
        url = made.get("url")
        return SentMessage(
            external_id=made["name"], sent_at=utcnow(), url=url if isinstance(url, str) else None
        )

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        self._request(
            account, "delete the post", "POST", "/api/del", data={"id": _fullname(external_id, "post")}
        )

    # --- moderation -----------------------------------------------------------------------------------------------
    def _author_of(self, account: AccountRef, fullname: str) -> str:
        listing = self._request(account, "read the item", "GET", "/api/info", params={"id": fullname})
        children = _children(listing)
        data = children[0].get("data") if children and isinstance(children[0], Mapping) else None
        if not isinstance(data, Mapping):
            raise ConnectorError(f"{fullname} is not on Reddit (deleted?)", permanent=True)
        return str(data.get("author") or "")

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._request(
            account,
            "remove the item",
            "POST",
            "/api/remove",
            data={"id": _fullname(external_id), "spam": "false"},
        )
        return ModerationResult("hide", external_id, utcnow(), "removed by a moderator on Reddit")

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._request(
            account, "approve the item", "POST", "/api/approve", data={"id": _fullname(external_id)}
        )
        return ModerationResult("unhide", external_id, utcnow(), "approved on Reddit")

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        _fullname(external_id)
        if self._author_of(account, external_id).lower() == self._user(account).lower():
            self._request(account, "delete the item", "POST", "/api/del", data={"id": external_id})
            return ModerationResult("delete", external_id, utcnow(), "deleted on Reddit")
        self._request(
            account, "remove the item", "POST", "/api/remove", data={"id": external_id, "spam": "false"}
        )
        return ModerationResult("delete", external_id, utcnow(), "removed by a moderator on Reddit")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        subreddit = self._subreddit(account, "ban the author")
        name = re.sub(r"^/?u/", "", author_external_id.strip())
        if not re.fullmatch(r"[A-Za-z0-9_-]{3,20}", name):
            raise ConnectorError(f"{author_external_id!r} is not a Reddit user name", permanent=True)
        answer = self._request(
            account,
            "ban the author",
            "POST",
            f"/r/{subreddit}/api/friend",
            data={"name": name, "type": "banned", "api_type": "json", "ban_reason": "Dandelion moderation"},
        )
        _things(answer)  # raises on Reddit's errors
        return ModerationResult("ban_author", name, utcnow(), f"banned from r/{subreddit}")

    # --- metrics and search ---------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        me = self._request(account, "read the account", "GET", "/api/v1/me")
        if not isinstance(me, Mapping):
            raise ConnectorError("Reddit returned no account")
        profile = me.get("subreddit")
        if not isinstance(profile, Mapping):
            profile = {}
        extra: dict[str, float] = {}
        for name in ("total_karma", "link_karma", "comment_karma"):
            value = _count(me.get(name))
            if value is not None:
                extra[name] = float(value)
        subreddit = self.validate_config(account.config)["subreddit"]
        if subreddit:
            about = self._request(account, "read the subreddit", "GET", f"/r/{subreddit}/about")
            subscribers = (
                _count(about.get("data", {}).get("subscribers"))
                if isinstance(about, Mapping) and isinstance(about.get("data"), Mapping)
                else None
            )
            if subscribers is not None:
                extra["subreddit_subscribers"] = float(subscribers)
        return AccountMetrics(
            collected_at=utcnow(), followers=_count(profile.get("subscribers")), extra=extra
        )

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Engagement counts of one of the account's posts: score, comments, upvote ratio (per cent)."""
        listing = self._request(
            account, "read the post", "GET", "/api/info", params={"id": _fullname(external_id, "post")}
        )
        children = _children(listing)
        data = children[0].get("data") if children and isinstance(children[0], Mapping) else None
        if not isinstance(data, Mapping):
            raise ConnectorError(f"{external_id} is not on Reddit (deleted?)", permanent=True)
        try:
            ratio = round(float(data.get("upvote_ratio") or 0) * 100)
        except (TypeError, ValueError):
            ratio = 0
        return {
            "score": _count(data.get("score")) or 0,
            "comments": _count(data.get("num_comments")) or 0,
            "upvote_ratio_pct": ratio,
        }

    def search(
        self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None
    ) -> SearchResult:
        query = clean_text(query, 512)
        if not query:
            raise ConnectorError("an empty search", permanent=True)
        limit = max(1, min(int(limit), MAX_PAGE))
        subreddit = self.validate_config(account.config)["subreddit"]
        params: dict[str, Any] = {"q": query, "sort": "new", "limit": limit, "type": "link"}
        if cursor:
            params["after"] = cursor
        path = "/search"
        if subreddit:
            path, params["restrict_sr"] = f"/r/{subreddit}/search", "1"
        listing = self._request(account, "search Reddit", "GET", path, params=params)
        now = utcnow()
        events: list[InboundEvent] = []
        for child in _children(listing):
            data = child.get("data") if isinstance(child, Mapping) else None
            if (
                not isinstance(data, Mapping)
                or child.get("kind") != "t3"
                or not isinstance(data.get("name"), str)
            ):
                continue
            author = clean_text(data.get("author") or "", 40) or "[deleted]"
            try:
                events.append(
                    InboundEvent(
                        external_id=bounded_id(data["name"]),
                        kind="mention",
                        text=clean_text(
                            f"{clean_text(data.get('title'), 300)}\n\n{clean_text(data.get('selftext'))}"
                        ),
                        created_at=clamp_date(_time(data.get("created_utc")), now=now),
                        author=InboundAuthor(external_id=author, name=author, handle=f"u/{author}"),
                        raw={
                            "subreddit": clean_text(data.get("subreddit") or "", 40),
                            "permalink": clean_text(data.get("permalink") or "", 500),
                        },
                    )
                )
            except ValueError as exc:
                logger.info("search result skipped: %s", exc)
        good, _bad = partition_events(events, prefix="posts")
        data = listing.get("data") if isinstance(listing, Mapping) else None
        after = data.get("after") if isinstance(data, Mapping) else None
        return SearchResult(events=good, cursor=after if isinstance(after, str) and after else None)

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            config = self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            me = self._request(account, "read the account", "GET", "/api/v1/me")
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        name = str(me.get("name") if isinstance(me, Mapping) else "")
        results.append(CheckResult("token", name.lower() == self._user(account).lower(), f"u/{name}"))
        if config["subreddit"]:
            try:
                about = self._request(account, "read the subreddit", "GET", f"/r/{config['subreddit']}/about")
                is_mod = (
                    bool(about.get("data", {}).get("user_is_moderator"))
                    if isinstance(about, Mapping)
                    else False
                )
                results.append(CheckResult("moderator", is_mod, f"r/{config['subreddit']}"))
            except ConnectorError as exc:
                results.append(CheckResult("subreddit", False, str(exc)))
        own = self.client(account)
        results.append(
            CheckResult(
                "rate limit",
                own.wait_s() == 0,
                f"{own.remaining()} requests left"
                if own.remaining() is not None
                else "no rate-limit headers seen",
            )
        )
        return results
