"""The ``youtube`` connector: a YouTube channel's comments, on the Data API v3. See docs/connectors/youtube.md.

Account: ``external_id`` is the channel id (``UC...``), ``handle`` its ``@handle``. Credentials and errors: see
``client``. Connect: Google's OAuth 2 authorisation-code flow with offline access (``oauth_authorize_url`` asks for
``access_type=offline`` and ``prompt=consent`` so a refresh token is always issued); Dandelion's OAuth client comes
from the environment (``DANDELION_YOUTUBE_CLIENT_ID`` / ``DANDELION_YOUTUBE_CLIENT_SECRET``).

Inbound (``poll_cursor``): ``commentThreads.list(allThreadsRelatedToChannelId=<channel>, order=time)``, newest
first, paged with ``pageToken`` until a thread older than the cursor's watermark (at most ``max_pages`` pages;
``more`` when a backlog remains). A top-level comment is a ``comment`` answering its video; the replies shown with
the thread are ``reply`` events answering the top-level comment. The cursor keeps the newest ``publishedAt`` seen
and the ids seen at that instant. Items that cannot be read are ``rejected`` (quarantined), never fatal.

Outbound: ``send_reply`` is ``comments.insert`` with ``parentId`` (a reply to a reply answers its thread: YouTube
threads are one level deep). Moderation: ``hide`` holds a comment for review, ``unhide`` publishes it, ``delete``
rejects it (``comments.setModerationStatus``); ``ban_author`` rejects the author's latest comment on the channel
with ``banAuthor=true`` (YouTube bans through a comment). Metrics: ``channels.list`` statistics (subscribers,
videos, views); ``post_metrics``: a video's statistics (views, likes, comments). ``search``: ``search.list``
(videos; 100 quota units a call). No publishing: uploading videos is out of scope.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from dandelion.connectors.base import (
    AccountMetrics,
    AccountRef,
    Capability,
    CheckResult,
    ConfigField,
    Connector,
    InboundAuthor,
    InboundEvent,
    ModerationResult,
    OAuthClient,
    OAuthGrant,
    OutboundReply,
    PollResult,
    PostMetrics,
    RejectedItem,
    SearchResult,
    SentMessage,
    reported_count,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text
from dandelion.connectors.validation import partition_events, partition_rejecting, rejected_item
from dandelion.connectors.youtube import client as yt

logger = logging.getLogger(__name__)

MAX_PAGE = 100  # commentThreads.list maxResults
MAX_SEARCH = 50  # search.list maxResults
SEEN_KEEP = 200
MAX_COMMENT_CHARS = 10_000  # YouTube's comment length limit
GOOGLE_INSTANCE = "https://accounts.google.com"


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(name)
    return obj


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _count(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**63 else None


@register
class YouTubeConnector(Connector):
    """A YouTube channel: comment threads on its videos in (polled with a cursor), replies, moderation, statistics,
    search."""

    key = "youtube"
    label = "YouTube"
    capabilities = frozenset(
        {Capability.POLL, Capability.REPLY, Capability.MODERATION, Capability.METRICS, Capability.SEARCH}
    )
    poll_interval_s = 120
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "page_size": ConfigField(int, False, "Comment threads read per request (1 to 100).", MAX_PAGE),
        "max_pages": ConfigField(int, False, "Pages read by one poll (each costs 1 quota unit).", 5),
        "backfill": ConfigField(bool, False, "Read the latest page of comments on the first poll.", True),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 60: quota).", 120),
    }

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1 <= clean["page_size"] <= MAX_PAGE:
            errors["page_size"] = f"must be between 1 and {MAX_PAGE}"
        if not 1 <= clean["max_pages"] <= 50:
            errors["max_pages"] = "must be between 1 and 50"
        if clean["poll_interval_s"] < 60:
            errors["poll_interval_s"] = "must be at least 60"
        if errors:
            raise ConfigError(errors)
        return clean

    # --- clients --------------------------------------------------------------------------------------------------
    def service(self, account: AccountRef) -> Any:
        config = self.validate_config(account.config)
        creds = yt.credentials_for(account.id, account.credentials, ref=account)
        return yt.service_for(creds, timeout=config["timeout_s"])

    @staticmethod
    def _channel(account: AccountRef) -> str:
        if not account.external_id.startswith("UC"):
            raise ConnectorError(
                f"{account.external_id!r} is not a YouTube channel id (UC...)", permanent=True
            )
        return account.external_id

    # --- OAuth ----------------------------------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        """Google OAuth clients are created in the Cloud console, not by API: read from the environment."""
        client_id = os.environ.get("DANDELION_YOUTUBE_CLIENT_ID", "")
        client_secret = os.environ.get("DANDELION_YOUTUBE_CLIENT_SECRET", "")
        if not client_id or not client_secret:
            raise ConnectorError(
                "no Google OAuth client configured: set DANDELION_YOUTUBE_CLIENT_ID and "
                "DANDELION_YOUTUBE_CLIENT_SECRET (docs/connectors/youtube.md)",
                permanent=True,
            )
        return OAuthClient(
            GOOGLE_INSTANCE, redirect_uri, {"client_id": client_id, "client_secret": client_secret}
        )

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        params = {
            "client_id": client.credentials.get("client_id", ""),
            "redirect_uri": client.redirect_uri,
            "response_type": "code",
            "scope": " ".join(yt.SCOPES),
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "state": state,
        }
        return f"{yt.AUTH_URI}?{urlencode(params)}"

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        if not code:
            raise ConnectorError("Google sent no authorisation code (was access denied?)", permanent=True)
        body = urlencode(
            {
                "code": code,
                "client_id": client.credentials.get("client_id", ""),
                "client_secret": client.credentials.get("client_secret", ""),
                "redirect_uri": client.redirect_uri,
                "grant_type": "authorization_code",
            }
        )
        try:
            resp, content = yt.new_http().request(
                yt.TOKEN_URI, "POST", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
            )
        except Exception as exc:
            raise yt.map_error(exc, "exchange the authorisation code") from exc
        try:
            token = json.loads(content)
        except ValueError:
            token = {}
        if int(resp.status) != 200 or not isinstance(token, dict) or not token.get("access_token"):
            error = token.get("error") if isinstance(token, dict) else None
            raise ConnectorError(
                f"Google refused the authorisation code (HTTP {resp.status}, {error})",
                permanent=int(resp.status) < 500,
            )
        if not token.get("refresh_token"):
            raise ConnectorError(
                "Google issued no refresh token (offline access not granted): connect again", permanent=True
            )
        expires_at = utcnow() + dt.timedelta(seconds=int(token.get("expires_in") or 3600))
        credentials = {
            "access_token": str(token["access_token"]),
            "refresh_token": str(token["refresh_token"]),
            "expires_at": expires_at.isoformat(),
            "client_id": client.credentials.get("client_id", ""),
            "client_secret": client.credentials.get("client_secret", ""),
        }
        creds = yt.Credentials(
            token=credentials["access_token"],
            refresh_token=credentials["refresh_token"],
            token_uri=yt.TOKEN_URI,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],
            expiry=expires_at.astimezone(dt.UTC).replace(tzinfo=None),
        )
        service = yt.service_for(creds)
        found = yt.call(
            "read the channel", lambda: service.channels().list(part="snippet", mine=True).execute()
        )
        items = found.get("items") if isinstance(found, dict) else None
        if not items:
            raise ConnectorError("this Google account has no YouTube channel", permanent=True)
        channel = items[0]
        handle = clean_text(_get(channel, "snippet", "customUrl") or "", 100) or str(channel.get("id"))
        return OAuthGrant(
            external_id=str(channel.get("id")),
            handle=handle,
            credentials=credentials,
            display_name=clean_text(_get(channel, "snippet", "title") or "", 200),
            url=f"https://www.youtube.com/channel/{channel.get('id')}",
            expires_at=None,
        )

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        channel = self._channel(account)
        service = self.service(account)
        state = dict(cursor or {})
        watermark = _time(state.get("since"))
        seen = {str(i) for i in state.get("seen") or []}
        first = watermark is None and not state
        raw_items: list[tuple[str, Any, str | None]] = []  # (ref, comment resource, parent id)
        rejected: list[RejectedItem] = []
        page_token: str | None = None
        more = False
        for page_no in range(config["max_pages"]):

            def read(token: str | None = page_token) -> Any:
                return (
                    service.commentThreads()
                    .list(
                        part="snippet,replies",
                        allThreadsRelatedToChannelId=channel,
                        order="time",
                        maxResults=config["page_size"],
                        pageToken=token,
                        textFormat="plainText",
                    )
                    .execute()
                )

            page = yt.call("list the channel's comment threads", read)
            threads = page.get("items") if isinstance(page, dict) else None
            if not isinstance(threads, list):
                rejected.append(rejected_item(f"page {page_no}", "a comment thread page without items", page))
                break
            reached = False
            for thread in threads:
                top = _get(thread, "snippet", "topLevelComment")
                if not isinstance(top, Mapping):
                    rejected.append(rejected_item(f"thread {clean_text(str(_get(thread, 'id')), 100)}",
                                                  "a comment thread without its top-level comment", thread))
                    continue
                published = _time(_get(top, "snippet", "publishedAt"))
                replies = _get(thread, "replies", "comments")
                newest_reply = (
                    max(
                        (
                            _time(_get(r, "snippet", "publishedAt")) or dt.datetime.min.replace(tzinfo=dt.UTC)
                            for r in replies
                            if isinstance(r, Mapping)
                        ),
                        default=None,
                    )
                    if isinstance(replies, list)
                    else None
                )
                latest = max(filter(None, (published, newest_reply)), default=None)
                if watermark is not None and latest is not None and latest < watermark:
                    reached = True
                    break
                if first and not config["backfill"]:
                    continue
                raw_items.append((f"comment {clean_text(str(top.get('id')), 100)}", top, None))
                if isinstance(replies, list):
                    for reply in reversed(replies):  # the API lists a thread's replies newest first
                        parent = _get(reply, "snippet", "parentId") or top.get("id")
                        raw_items.append(
                            (f"reply {clean_text(str(_get(reply, 'id')), 100)}", reply, str(parent))
                        )
            page_token = page.get("nextPageToken") if isinstance(page.get("nextPageToken"), str) else None
            if reached or not page_token or first:
                break
        else:
            more = True
        now = utcnow()
        events: list[InboundEvent] = []
        for ref, comment, parent in raw_items:
            try:
                event = self.event_from_comment(comment, channel=channel, parent=parent, now=now)
            except (ValueError, TypeError, ConnectorError) as exc:
                rejected.append(rejected_item(ref, exc, comment))
                continue
            if watermark is not None and (
                event.created_at < watermark or (event.created_at == watermark and event.external_id in seen)
            ):
                continue
            events.append(event)
        good, bad_items = partition_rejecting(events, refs=[e.external_id for e in events], prefix="comments")
        rejected += bad_items
        good.sort(key=lambda e: e.created_at)
        newest = max((e.created_at for e in good), default=watermark)
        if first and not config["backfill"]:
            newest = now  # only comments written from now on
        if newest is not None and newest == watermark:
            seen_now = sorted(seen | {e.external_id for e in good if e.created_at == newest})[-SEEN_KEEP:]
        else:
            seen_now = sorted({e.external_id for e in good if e.created_at == newest})[-SEEN_KEEP:]
        return PollResult(
            events=good,
            cursor={"since": newest.isoformat() if newest else None, "seen": seen_now},
            rejected=rejected,
            more=more,
        )

    @staticmethod
    def event_from_comment(
        comment: Any, *, channel: str, parent: str | None, now: dt.datetime
    ) -> InboundEvent:
        """An ``InboundEvent`` from a ``comment`` resource (``parent``: the top-level comment it answers)."""
        snippet = comment.get("snippet") if isinstance(comment, Mapping) else None
        if not isinstance(snippet, Mapping):
            raise TypeError("a comment without its snippet")
        raw_id = comment.get("id")
        if not isinstance(raw_id, str) or not raw_id.strip():
            raise ValueError("a comment without an id")
        comment_id = bounded_id(raw_id)
        author_id = clean_text(_get(snippet, "authorChannelId", "value") or "", 100)
        text = clean_text(snippet.get("textOriginal") or snippet.get("textDisplay") or "")
        video = clean_text(snippet.get("videoId") or "", 100) or None
        return InboundEvent(
            external_id=comment_id,
            kind="reply" if parent else "comment",
            text=text,
            created_at=clamp_date(_time(snippet.get("publishedAt")), now=now),
            author=InboundAuthor(
                external_id=author_id or "unknown",
                name=clean_text(snippet.get("authorDisplayName") or "", 200),
                handle=clean_text(snippet.get("authorDisplayName") or "", 200),
            ),
            in_reply_to=bounded_id(parent) if parent else video,
            from_account=bool(author_id) and author_id == channel,
            raw={
                "id": comment_id,
                "videoId": video,
                "parentId": parent,
                "likeCount": _count(snippet.get("likeCount")),
                "moderationStatus": clean_text(snippet.get("moderationStatus") or "", 40),
            },
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        if reply.kind == "dm":
            raise ConnectorError("YouTube has no direct messages", permanent=True)
        if not reply.in_reply_to:
            raise ConnectorError("a YouTube reply answers a comment: in_reply_to is required", permanent=True)
        text = reply.text.strip()
        if not text or len(text) > MAX_COMMENT_CHARS:
            raise ConnectorError(
                f"a YouTube comment holds 1 to {MAX_COMMENT_CHARS} characters", permanent=True
            )
        parent = reply.in_reply_to.split(".", 1)[0]  # a reply's id is "<thread id>.<reply id>"
        service = self.service(account)
        body = {"snippet": {"parentId": parent, "textOriginal": text}}
        made = yt.call(
            "reply to the comment", lambda: service.comments().insert(part="snippet", body=body).execute()
        )
        external_id = str(_get(made, "id") or "")
        if not external_id:
            raise ConnectorError("YouTube accepted the reply but returned no id")
        return SentMessage(
            external_id=external_id,
            sent_at=clamp_date(_time(_get(made, "snippet", "publishedAt")), now=utcnow()),
        )

    # --- moderation -----------------------------------------------------------------------------------------------
    def _moderate(self, account: AccountRef, comment_id: str, status: str, *, ban: bool = False) -> None:
        service = self.service(account)
        yt.call(
            f"set the comment's moderation status to {status}",
            lambda: (
                service.comments()
                .setModerationStatus(id=comment_id, moderationStatus=status, banAuthor=ban)
                .execute()
            ),
        )

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._moderate(account, external_id, "heldForReview")
        return ModerationResult("hide", external_id, utcnow(), "held for review on YouTube")

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._moderate(account, external_id, "published")
        return ModerationResult("unhide", external_id, utcnow(), "published again on YouTube")

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        self._moderate(account, external_id, "rejected")
        return ModerationResult(
            "delete", external_id, utcnow(), "rejected on YouTube (removed from the video)"
        )

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        """YouTube bans an author through one of their comments: the latest on the channel, rejected with
        ``banAuthor``."""
        channel = self._channel(account)
        service = self.service(account)
        token: str | None = None
        for _page in range(3):

            def read(t: str | None = token) -> Any:
                return (
                    service.commentThreads()
                    .list(
                        part="snippet",
                        allThreadsRelatedToChannelId=channel,
                        order="time",
                        maxResults=MAX_PAGE,
                        pageToken=t,
                    )
                    .execute()
                )

            page = yt.call("find the author's comments", read)
            threads = page.get("items") if isinstance(page, dict) else None
            for thread in threads if isinstance(threads, list) else []:
                top = _get(thread, "snippet", "topLevelComment")
                if _get(top, "snippet", "authorChannelId", "value") == author_external_id:
                    comment_id = str(top.get("id"))
                    self._moderate(account, comment_id, "rejected", ban=True)
                    return ModerationResult(
                        "ban_author",
                        author_external_id,
                        utcnow(),
                        f"banned from the channel through comment {comment_id}",
                    )
            token = page.get("nextPageToken") if isinstance(page, dict) else None
            if not isinstance(token, str):
                break
        raise ConnectorError(
            "no recent comment of this author on the channel: YouTube bans through a comment", permanent=True
        )

    # --- metrics and search ---------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        channel = self._channel(account)
        service = self.service(account)
        found = yt.call(
            "read the channel statistics",
            lambda: service.channels().list(part="statistics", id=channel).execute(),
        )
        stats = _get((found.get("items") or [{}])[0], "statistics") if isinstance(found, dict) else None
        if not isinstance(stats, Mapping):
            raise ConnectorError("YouTube returned no statistics for the channel", permanent=True)
        hidden = bool(stats.get("hiddenSubscriberCount"))
        views = _count(stats.get("viewCount"))
        return AccountMetrics(
            collected_at=utcnow(),
            followers=None if hidden else _count(stats.get("subscriberCount")),
            posts=_count(stats.get("videoCount")),
            extra={"views": float(views)} if views is not None else {},
        )

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Engagement counts of one of the channel's videos (views, likes, comments)."""
        service = self.service(account)
        found = yt.call(
            "read the video statistics",
            lambda: service.videos().list(part="statistics", id=external_id).execute(),
        )
        items = found.get("items") if isinstance(found, dict) else None
        if not items:
            raise ConnectorError(f"no video {external_id!r} on YouTube", permanent=True)
        stats = _get(items[0], "statistics") or {}
        return {name: _count(stats.get(f"{name}Count")) or 0 for name in ("view", "like", "comment")}

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: ``videos.list(part=statistics)`` for up to 50 ids a call: ``likeCount`` (absent
        when the channel hides likes: not reported) and ``commentCount`` as replies; YouTube has no reposts. A
        video it no longer returns is left out."""
        service = self.service(account)
        ids = list(dict.fromkeys(str(i).strip() for i in external_ids if str(i).strip()))
        out: list[PostMetrics] = []
        for i in range(0, len(ids), 50):
            batch = ",".join(ids[i:i + 50])

            def read(b: str = batch) -> Any:
                return service.videos().list(part="statistics", id=b).execute()

            found = yt.call("read the video statistics", read)
            now = utcnow()
            for item in (found.get("items") if isinstance(found, dict) else None) or []:
                stats = _get(item, "statistics") or {}
                out.append(PostMetrics(external_id=str(_get(item, "id")), collected_at=now,
                                       likes=reported_count(stats.get("likeCount")),
                                       replies=reported_count(stats.get("commentCount"))))
        return out

    def search(
        self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None
    ) -> SearchResult:
        query = clean_text(query, 500)
        if not query:
            raise ConnectorError("an empty search", permanent=True)
        limit = max(1, min(int(limit), MAX_SEARCH))
        service = self.service(account)
        found = yt.call(
            "search YouTube",
            lambda: (
                service.search()
                .list(
                    part="snippet",
                    q=query,
                    type="video",
                    order="date",
                    maxResults=limit,
                    pageToken=cursor or None,
                )
                .execute()
            ),
        )
        now = utcnow()
        events: list[InboundEvent] = []
        items = found.get("items") if isinstance(found, dict) else None
        for item in items if isinstance(items, list) else []:
            snippet = _get(item, "snippet")
            video = _get(item, "id", "videoId")
            if not isinstance(snippet, Mapping) or not isinstance(video, str) or not video:
                continue
            title, description = (
                clean_text(snippet.get("title") or "", 500),
                clean_text(snippet.get("description") or "", 5000),
            )
            try:
                events.append(
                    InboundEvent(
                        external_id=bounded_id(video),
                        kind="mention",
                        text=f"{title}\n\n{description}".strip(),
                        created_at=clamp_date(_time(snippet.get("publishedAt")), now=now),
                        author=InboundAuthor(
                            external_id=clean_text(snippet.get("channelId") or "unknown", 100),
                            name=clean_text(snippet.get("channelTitle") or "", 200),
                        ),
                        raw={"videoId": video, "url": f"https://www.youtube.com/watch?v={video}"},
                    )
                )
            except ValueError as exc:
                logger.info("search result %s skipped: %s", video, exc)
        good, _bad = partition_events(events, prefix="videos")
        token = found.get("nextPageToken") if isinstance(found, dict) else None
        return SearchResult(events=good, cursor=token if isinstance(token, str) and token else None)

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            service = self.service(account)
            found = yt.call(
                "read the channel", lambda: service.channels().list(part="snippet", mine=True).execute()
            )
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        items = found.get("items") or [] if isinstance(found, dict) else []
        mine = str(_get(items[0], "id")) if items else ""
        results.append(
            CheckResult(
                "token",
                mine == account.external_id,
                f"channel {mine}"
                + ("" if mine == account.external_id else f", not this account's {account.external_id}"),
            )
        )
        return results
