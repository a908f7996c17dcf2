"""The ``mastodon`` connector: a Mastodon account, on ``Mastodon.py``. See docs/connectors/mastodon.md.

Account: ``handle`` is ``user@instance``, ``external_id`` the account's id on its instance (``verify_credentials``'
``id``). Credentials (stored encrypted by the assets services): ``access_token`` from the OAuth authorisation-code
flow (``oauth``; ``client_id`` / ``client_secret`` of the app kept beside it). Config: ``instance``, the instance's
URL. Clients, rate limits and errors: see ``client``.

Inbound (``poll_cursor``): mention notifications (``GET /api/v1/notifications?types[]=mention``) walked forward from
the newest id already seen (``min_id``: Mastodon answers the page just after it), at most ``max_pages`` pages a poll
(``more`` when a backlog remains), plus the direct conversations (``GET /api/v1/conversations``), whose newest status
is read back to the newest one already seen: private mentions from accounts the brand does not follow are filtered
out of notifications by Mastodon's notification policy (4.3+) but still appear there. Each status becomes an
``InboundEvent`` whose external id is the status id and whose ``in_reply_to`` is ``in_reply_to_id``; a status with
``visibility: direct`` is a ``dm``. Statuses that cannot be read are returned in ``rejected`` (quarantined).

Outbound (``send_reply``): the parent status is read; the reply keeps its visibility (a DM is answered as a direct
message, a followers-only post with followers-only), mentions its author (and, for a DM, every participant: Mastodon
delivers a direct status only to the accounts it mentions), carries ``in_reply_to_id`` and the inbox's idempotency
key (Mastodon's ``Idempotency-Key`` header: a retried send never posts twice). ``publish`` posts a status (images
uploaded with their alt text), ``delete_post`` deletes it. Moderation: Mastodon has no "hide a reply": ``hide`` /
``unhide`` act in Dandelion only and say so; ``delete`` deletes the account's own statuses; ``ban_author`` blocks the
author, ``mute_author`` mutes them, ``report`` reports statuses to the instance's moderators. ``search``: a hashtag
timeline for ``#tag``, ``/api/v2/search`` otherwise. ``fetch_metrics``: the account's counts;
``fetch_post_metrics``: each status's favourites, boosts, replies (and quotes where the instance counts them).

Streaming (``stream``, ``stream_search``; see ``streaming``): the ``user`` stream brings the account's mention
notifications and direct conversations as they happen, each read by ``event_from_status`` and the shared validator
exactly as a poll's (a hostile frame is rejected alone; other notification types, home-timeline updates and deletions
are not inbox items and are skipped; an unknown event type is rejected with its name); once connected it asks for one
poll (the catch-up of the gap). ``stream_search`` follows the hashtag streams of a listening query's ``#tag`` terms
(Mastodon streams nothing else publicly).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import requests

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
    OutboundPost,
    OutboundReply,
    PollResult,
    PostMetrics,
    RejectedItem,
    SearchResult,
    SentMessage,
    StreamBatch,
    post_metrics_each,
    reported_count,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError, PayloadError
from dandelion.connectors.mastodon import client as clients
from dandelion.connectors.mastodon import streaming
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text, html_to_text
from dandelion.connectors.validation import load_json, partition_events

logger = logging.getLogger(__name__)

MIN_POLL_INTERVAL_S = 10
#: Ids of DMs read through the conversations that the cursor remembers (so the notifications do not bring
#: them again).
EDGE_KEEP = 200
#: Mastodon answers at most 40 notifications or conversations a page.
MAX_PAGE = 40
VISIBILITIES = ("public", "unlisted", "private", "direct")
#: Largest image Dandelion uploads (Mastodon's default limit is 16 MB for images).
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_MEDIA = 4
#: Reads of an upload still being processed before giving up (the send is retried later).
MEDIA_POLLS = 6
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]+)(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|@localhost(?::\d+)?)?")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")
#: Streaming events that are not inbox items (home timeline, edits, deletions, announcements...): skipped quietly.
STREAM_SKIPPED = frozenset({"update", "delete", "status.update", "filters_changed", "announcement",
                            "announcement.reaction", "announcement.delete", "encrypted_message",
                            "notifications_merged"})
#: Hashtags one listening stream follows at most (one connection each).
MAX_STREAM_TAGS = 10
#: Mastodon counts every link as 23 characters, whatever its length.
URL_WEIGHT = 23


def id_key(value: Any) -> tuple[int, str]:
    """Order Mastodon ids (numeric strings, snowflake-like) as numbers; other ids (some forks) by length then text."""
    text = str(value)
    return (len(text), text)


def newest(*ids: Any) -> str | None:
    present = [str(i) for i in ids if i]
    return max(present, key=id_key) if present else None


def mastodon_length(text: str) -> int:
    """``text``'s length as Mastodon counts it: links count 23, a mention counts its user name only."""
    text = _URL_RE.sub("x" * URL_WEIGHT, text)
    text = _MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)


def _get(obj: Any, *names: str) -> Any:
    for name in names:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return obj


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _iso(value: Any) -> str | None:
    moment = _time(value)
    return moment.isoformat() if moment else None


@register
class MastodonConnector(Connector):
    """A Mastodon account: mentions and DMs in (polled with a cursor), replies keeping visibility, posts, moderation,
    search, metrics."""

    key = "mastodon"
    label = "Mastodon"
    capabilities = frozenset({Capability.POLL, Capability.REPLY, Capability.MODERATION, Capability.METRICS,
                              Capability.PUBLISHING, Capability.SEARCH})
    poll_interval_s = 30
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "instance": ConfigField(str, True, "The account's Mastodon instance (https://mastodon.social)."),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "page_size": ConfigField(int, False, "Notifications read per request (1 to 40).", MAX_PAGE),
        "max_pages": ConfigField(int, False, "Pages of notifications read by one poll.", 10),
        "backfill": ConfigField(int, False, "Mentions read on the first poll (0: only new ones).", 40),
        "poll_conversations": ConfigField(bool, False, "Also read the direct conversations (DMs filtered out of "
                                          "notifications by the instance's notification policy).", True),
        "post_visibility": ConfigField(str, False, "Visibility of published posts (public, unlisted, private).",
                                       "public"),
        "max_chars": ConfigField(int, False, "The instance's post length limit.", 500),
        "language": ConfigField(str, False, "Language declared on replies and posts (ISO 639-1); empty: none.", ""),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 10).", 30),
        "streaming": ConfigField(bool, False, "Receive mentions and DMs at once through the streaming API "
                                 "(dandelion stream).", True),
        "streaming_url": ConfigField(str, False, "The instance's streaming server, when not on its own host.", ""),
    }

    # --- config ---------------------------------------------------------------------------------------------------
    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        parts = urlsplit(clean["instance"])
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.path not in ("", "/"):
            errors["instance"] = "must be the instance's URL, https://host (http:// for a local instance)"
        else:
            clean["instance"] = f"{parts.scheme}://{parts.netloc}"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1 <= clean["page_size"] <= MAX_PAGE:
            errors["page_size"] = f"must be between 1 and {MAX_PAGE}"
        if not 1 <= clean["max_pages"] <= 100:
            errors["max_pages"] = "must be between 1 and 100"
        if not 0 <= clean["backfill"] <= 400:
            errors["backfill"] = "must be between 0 and 400"
        if clean["post_visibility"] not in ("public", "unlisted", "private"):
            errors["post_visibility"] = "must be public, unlisted or private"
        if not 1 <= clean["max_chars"] <= 100_000:
            errors["max_chars"] = "must be between 1 and 100000"
        if clean.get("language") and not re.fullmatch(r"[a-z]{2,3}", clean["language"]):
            errors["language"] = "must be an ISO 639 code such as 'fr'"
        if clean["poll_interval_s"] < MIN_POLL_INTERVAL_S:
            errors["poll_interval_s"] = f"must be at least {MIN_POLL_INTERVAL_S}"
        if clean["streaming_url"]:
            stream_parts = urlsplit(clean["streaming_url"])
            if stream_parts.scheme not in ("https", "http") or not stream_parts.netloc:
                errors["streaming_url"] = "must be a URL, https://host"
            else:
                clean["streaming_url"] = f"{stream_parts.scheme}://{stream_parts.netloc}"
        if errors:
            raise ConfigError(errors)
        return clean

    # --- clients --------------------------------------------------------------------------------------------------
    def client(self, account: AccountRef) -> clients.Client:
        """The account's client; its own id and acct are read once (``verify_credentials``) and checked."""
        config = self.validate_config(account.config)
        client = clients.client_for(account.id, config["instance"], account.credentials.get("access_token", ""),
                                    timeout=config["timeout_s"])
        if client.own_id is None:
            me = clients.call(client, "verify_credentials", lambda api: api.account_verify_credentials())
            client.own_id, client.own_acct = str(me["id"]), str(me["acct"])
        if account.external_id and account.external_id.isdigit() and account.external_id != client.own_id:
            raise ConnectorError(f"the access token belongs to account {client.own_id} ({client.own_acct}), not to "
                                 f"this account's {account.external_id}", permanent=True)
        return client

    def _call(self, account: AccountRef, what: str, fn):
        return clients.call(self.client(account), what, fn)

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        own = self.client(account)
        state = dict(cursor or {})
        items: list[tuple[str, Any, str]] = []  # (ref, status, source)
        rejected: list[RejectedItem] = []
        seen_notification = state.get("min_id")
        more = False
        if seen_notification is None:  # first poll: the newest ``backfill`` mentions, then move forward from there
            limit = max(1, min(config["backfill"], MAX_PAGE)) if config["backfill"] else 1
            page = self._notifications(own, limit=limit)
            seen_notification = newest(*(_get(n, "id") for n in page)) or "0"
            if config["backfill"]:
                items += self._from_notifications(page, rejected)
        else:
            for _page in range(config["max_pages"]):
                page = self._notifications(own, limit=config["page_size"], min_id=str(seen_notification))
                if not page:
                    break
                items += self._from_notifications(page, rejected)
                seen_notification = newest(seen_notification, *(_get(n, "id") for n in page))
                if len(page) < config["page_size"]:
                    break
            else:
                more = True
        seen_dm = state.get("dm_min_id")
        # DMs already read through the conversations while the notification walk was behind them: not twice
        early = [str(i) for i in state.get("dm_early") or []]
        if early:
            skip = set(early)
            items = [item for item in items if str(_get(item[1], "id")) not in skip]
        if config["poll_conversations"]:
            items_dm, seen_dm = self._conversations(own, seen_dm, config, first=state.get("min_id") is None)
            items += items_dm
            early += [str(_get(status, "id")) for _ref, status, _source in items_dm]
        events, bad = self._events(own, items)
        new_state = {"min_id": seen_notification, "dm_min_id": seen_dm, "own_id": own.own_id,
                     "dm_early": sorted(set(early), key=id_key)[-EDGE_KEEP:]}
        return PollResult(events=events, cursor=new_state, rejected=[*rejected, *bad], more=more)

    def _notifications(self, own: clients.Client, *, limit: int, min_id: str | None = None) -> list[Any]:
        return list(clients.call(own, "notifications", lambda api: api.notifications(
            types=["mention"], min_id=min_id, limit=limit)) or [])

    @staticmethod
    def _from_notifications(page: Iterable[Any], rejected: list[RejectedItem]) -> list[tuple[str, Any, str]]:
        out = []
        for notification in page:
            ref = f"notification {clean_text(str(_get(notification, 'id')), 100)}"
            status = _get(notification, "status")
            if _get(notification, "type") != "mention" or not isinstance(status, Mapping):
                rejected.append(RejectedItem(ref, "a mention notification without its status",
                                             excerpt=clean_text(repr(notification)[:1000], 1000)))
                continue
            out.append((ref, status, "notification"))
        return out

    def _conversations(self, own: clients.Client, seen: Any, config: Mapping[str, Any], *, first: bool
                       ) -> tuple[list[tuple[str, Any, str]], str | None]:
        """Direct conversations whose last status is newer than ``seen``, newest first, read until one is not."""
        found: list[tuple[str, Any, str]] = []
        top = seen
        max_id: Any = None
        for _page in range(config["max_pages"]):
            def read(api: Any, m: Any = max_id) -> Any:
                return api.conversations(max_id=m, limit=config["page_size"])

            page = list(clients.call(own, "conversations", read) or [])
            reached = False
            for conversation in page:
                status = _get(conversation, "last_status")
                status_id = _get(status, "id")
                if status_id is None:
                    continue
                if seen is not None and id_key(status_id) <= id_key(seen):
                    reached = True
                    break
                top = newest(top, status_id)
                if not first or config["backfill"]:
                    found.append((f"conversation {clean_text(str(_get(conversation, 'id')), 100)}", status,
                                  "conversation"))
            if reached or first or len(page) < config["page_size"]:
                break
            max_id = _get(page[-1], "last_status", "id")
        return found, (str(top) if top is not None else None)

    def _events(self, own: clients.Client, items: list[tuple[str, Any, str]]
                ) -> tuple[list[InboundEvent], list[RejectedItem]]:
        now = utcnow()
        built: list[InboundEvent] = []
        refs: list[str] = []
        rejected: list[RejectedItem] = []
        seen: set[str] = set()
        for ref, status, source in items:
            try:
                event = self.event_from_status(status, own_id=own.own_id or "", now=now, source=source)
            except Exception as exc:  # noqa: BLE001 - one broken status never costs the others
                rejected.append(RejectedItem(ref, f"{type(exc).__name__}: {clean_text(str(exc), 300)}",
                                             excerpt=clean_text(repr(status)[:2000], 2000)))
                continue
            if event.external_id in seen:  # a DM seen both as a notification and as a conversation
                continue
            seen.add(event.external_id)
            built.append(event)
            refs.append(ref)
        good, bad = partition_events(built, prefix="statuses")
        for i, error in bad:
            rejected.append(RejectedItem(refs[i], str(error), excerpt=clean_text(built[i].text, 500)))
        good.sort(key=lambda e: (e.created_at, id_key(e.external_id)))
        return good, rejected

    @staticmethod
    def event_from_status(status: Any, *, own_id: str, now: dt.datetime, source: str = "notification"
                          ) -> InboundEvent:
        """One Mastodon Status (an SDK entity or the JSON the instance sent) as an ``InboundEvent``."""
        status_id = _get(status, "id")
        if not isinstance(status_id, str | int) or isinstance(status_id, bool) or not str(status_id):
            raise ValueError("the status has no id")
        content = _get(status, "content")
        if not isinstance(content, str):
            raise ValueError("the status has no content")  # noqa: TRY004
        author = _get(status, "account")
        author_id = _get(author, "id")
        if not isinstance(author_id, str | int) or isinstance(author_id, bool) or not str(author_id):
            raise ValueError("the status has no author id")
        visibility = _get(status, "visibility")
        if visibility not in VISIBILITIES:
            raise ValueError(f"unknown visibility {visibility!r}")
        parent = _get(status, "in_reply_to_id")
        parent_account = _get(status, "in_reply_to_account_id")
        if visibility == "direct":
            kind = "dm"
        elif parent and str(parent_account) == own_id:
            kind = "comment"  # an answer to one of the brand's posts
        elif parent:
            kind = "reply"  # a mention inside someone's thread
        else:
            kind = "mention"
        text = html_to_text(clean_text(content, 60_000), 3000)  # surrogates out first: nh3 refuses them
        spoiler = clean_text(_get(status, "spoiler_text") or "", 500)
        if spoiler:
            text = clean_text(f"[{spoiler}]\n{text}", 3000)
        followers = _get(author, "followers_count")
        language = _get(status, "language")
        return InboundEvent(
            external_id=bounded_id(str(status_id)),
            kind=kind,  # type: ignore[arg-type]
            text=text,
            created_at=clamp_date(_time(_get(status, "created_at")), now=now),
            author=InboundAuthor(
                external_id=bounded_id(str(author_id)),
                name=clean_text(_get(author, "display_name") or "", 200),
                handle=clean_text(_get(author, "acct") or "", 200),
                followers=followers if isinstance(followers, int) and not isinstance(followers, bool)
                and 0 <= followers < 2**31 else None,
                language=language if isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}", language) else None,
            ),
            in_reply_to=bounded_id(str(parent)) if parent else None,
            from_account=str(author_id) == own_id,
            raw={"id": str(status_id), "url": _get(status, "url"), "uri": _get(status, "uri"),
                 "visibility": visibility, "in_reply_to_account_id": parent_account, "spoiler_text": spoiler,
                 "source": source, "created_at": _iso(_get(status, "created_at"))},
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def _check_length(self, account: AccountRef, text: str) -> None:
        if not text.strip():
            raise ConnectorError("a Mastodon post cannot be empty", permanent=True)
        limit = self.validate_config(account.config)["max_chars"]
        length = mastodon_length(text)
        if length > limit:
            raise ConnectorError(f"the text is {length} characters long as Mastodon counts it; this instance allows "
                                 f"{limit}", permanent=True)

    @staticmethod
    def _with_mentions(text: str, accts: Iterable[str]) -> str:
        present = {m.group(0).lower() for m in _MENTION_RE.finditer(text)}
        present |= {"@" + m.group(1).lower() for m in _MENTION_RE.finditer(text)}
        missing = []
        for acct in accts:
            handle = f"@{acct}"
            if handle.lower() not in present and handle not in missing:
                missing.append(handle)
        return f"{' '.join(missing)} {text}" if missing else text

    def _post(self, account: AccountRef, text: str, *, visibility: str, in_reply_to_id: str | None = None,
              idempotency_key: str | None = None, media_ids: list[Any] | None = None) -> SentMessage:
        self._check_length(account, text)
        language = self.validate_config(account.config).get("language") or None
        status = self._call(account, "post a status", lambda api: api.status_post(
            text, in_reply_to_id=in_reply_to_id, visibility=visibility, idempotency_key=idempotency_key,
            media_ids=media_ids or None, language=language))
        return SentMessage(external_id=str(status["id"]),
                           sent_at=clamp_date(_time(status.get("created_at")), now=utcnow()),
                           url=status.get("url") or None)

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        own = self.client(account)
        if reply.in_reply_to:
            parent = self._call(account, "read the status", lambda api: api.status(reply.in_reply_to))
            visibility = parent["visibility"] if parent["visibility"] in VISIBILITIES else "public"
            if reply.kind == "dm":
                visibility = "direct"
            accts = [parent["account"]["acct"]] if str(parent["account"]["id"]) != own.own_id else []
            if visibility == "direct":  # a direct status reaches only the accounts it mentions: keep them all
                accts += [m["acct"] for m in parent.get("mentions") or [] if str(m["id"]) != own.own_id]
            return self._post(account, self._with_mentions(reply.text, accts), visibility=visibility,
                              in_reply_to_id=str(parent["id"]), idempotency_key=reply.idempotency_key)
        if reply.kind == "dm":
            recipient = self._call(account, "read the recipient",
                                   lambda api: api.account(reply.recipient_external_id))
            return self._post(account, self._with_mentions(reply.text, [recipient["acct"]]), visibility="direct",
                              idempotency_key=reply.idempotency_key)
        return self._post(account, reply.text, visibility=self.validate_config(account.config)["post_visibility"],
                          idempotency_key=reply.idempotency_key)

    def _download(self, url: str, timeout: float) -> tuple[bytes, str]:
        if urlsplit(url).scheme not in ("https", "http"):
            raise ConnectorError(f"the image {url[:200]!r} is not an http(s) URL", permanent=True)
        try:
            with requests.get(url, timeout=timeout, stream=True) as response:
                if response.status_code >= 400:
                    raise ConnectorError(f"the image {url[:200]} answered HTTP {response.status_code}",
                                         permanent=400 <= response.status_code < 500)
                data = b""
                for chunk in response.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > MAX_MEDIA_BYTES:
                        raise ConnectorError(f"the image {url[:200]} is larger than 16 MB", permanent=True)
                mime = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot read the image {url[:200]} ({exc})") from exc
        mime = mime or mimetypes.guess_type(url)[0] or "application/octet-stream"
        if not mime.startswith(("image/", "video/")):
            raise ConnectorError(f"{url[:200]} is not an image ({mime})", permanent=True)
        return data, mime

    def _processed(self, account: AccountRef, media: Any) -> Any:
        """The attachment once the instance has processed it (``url`` set; large files answer 202 first)."""
        for attempt in range(MEDIA_POLLS):
            if media.get("url"):
                return media
            time.sleep(min(0.5 * 2**attempt, 5.0))
            media = self._call(account, "read the upload", lambda api, m=media["id"]: api.media(m))
        raise ConnectorError("the instance is still processing the image: retried later")

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        config = self.validate_config(account.config)
        text = post.text
        if post.link and post.link not in text:
            text = f"{text.rstrip()}\n{post.link}" if text.strip() else post.link
        self._check_length(account, text)
        if len(post.media_urls) > MAX_MEDIA:
            raise ConnectorError(f"Mastodon attaches at most {MAX_MEDIA} images to a post", permanent=True)
        media_ids = []
        for index, url in enumerate(post.media_urls):
            data, mime = self._download(url, config["timeout_s"])
            alt = post.alt_texts[index] if index < len(post.alt_texts) else None
            name = (urlsplit(url).path.rsplit("/", 1)[-1] or "image")[:100]
            media = self._call(account, "upload the image", lambda api, d=data, m=mime, a=alt, n=name: api.media_post(
                io.BytesIO(d), mime_type=m, description=a or None, file_name=n))
            media_ids.append(self._processed(account, media)["id"])
        return self._post(account, text, visibility=config["post_visibility"], media_ids=media_ids,
                          idempotency_key=post.idempotency_key)

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        """Delete a status the account published (publishing's "delete"); the same call as moderation's delete."""
        self.delete(account, external_id)

    # --- moderation -----------------------------------------------------------------------------------------------
    def _result(self, action: str, target: str, detail: str) -> ModerationResult:
        return ModerationResult(action=action, target_external_id=target, performed_at=utcnow(),  # type: ignore[arg-type]
                                detail=detail)

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self.client(account)  # the account must still be usable
        return self._result("hide", external_id, "Mastodon has no hidden replies: hidden in Dandelion only "
                            "(block or mute the author, or report the post, to act on Mastodon)")

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        self.client(account)
        return self._result("unhide", external_id, "Mastodon has no hidden replies: shown again in Dandelion only")

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        own = self.client(account)
        status = self._call(account, "read the status", lambda api: api.status(external_id))
        if str(status["account"]["id"]) != own.own_id:
            raise ConnectorError("Mastodon lets an account delete only its own posts: block or mute the author, or "
                                 "report the post, instead", permanent=True)
        self._call(account, "delete the status", lambda api: api.status_delete(external_id))
        return self._result("delete", external_id, "deleted on Mastodon")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        relationship = self._call(account, "block", lambda api: api.account_block(author_external_id))
        return self._result("ban_author", author_external_id,
                            "blocked on Mastodon" if relationship.get("blocking") else "block requested on Mastodon")

    def mute_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        """Mute the author (private: they are not told; their posts and notifications leave the account's view)."""
        self._call(account, "mute", lambda api: api.account_mute(author_external_id, notifications=True))
        return self._result("mute_author", author_external_id, "muted on Mastodon")

    def report(self, account: AccountRef, author_external_id: str, status_ids: Iterable[str], comment: str = "",
               *, forward: bool = False) -> ModerationResult:
        """Report statuses of an author to the instance's moderators (``forward``: to the author's instance too)."""
        ids = [str(i) for i in status_ids]
        report = self._call(account, "report", lambda api: api.report(
            author_external_id, status_ids=ids or None, comment=clean_text(comment, 1000) or None,
            forward=forward, category="spam" if "spam" in comment.lower() else "other"))
        return self._result("report_author", author_external_id, f"reported to the instance's moderators "
                            f"(report {report['id']})")

    def report_author(self, account: AccountRef, author_external_id: str, external_ids: Sequence[str], *,
                      comment: str = "") -> ModerationResult:
        """``ReportConnector``: a report to the account's instance (not forwarded to the author's instance)."""
        return self.report(account, author_external_id, external_ids, comment)

    # --- connecting (OAuthConnector) ------------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        from dandelion.connectors.mastodon import oauth

        app = oauth.register_app(instance, redirect_uri)
        return OAuthClient(instance=app.instance, redirect_uri=app.redirect_uri,
                           credentials={"client_id": app.client_id, "client_secret": app.client_secret})

    @staticmethod
    def _app(client: OAuthClient) -> Any:
        from dandelion.connectors.mastodon import oauth

        try:
            return oauth.AppRegistration(oauth.normalise_instance(client.instance), client.credentials["client_id"],
                                         client.credentials["client_secret"], client.redirect_uri)
        except KeyError as exc:
            raise ConnectorError(f"the stored OAuth app lacks its {exc.args[0]}: register it again",
                                 permanent=True) from None

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        from dandelion.connectors.mastodon import oauth

        return oauth.authorize_url(self._app(client), state)

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        from dandelion.connectors.mastodon import oauth

        found = oauth.exchange_code(self._app(client), code)
        user, _, host = found["handle"].partition("@")
        return OAuthGrant(external_id=bounded_id(found["external_id"]), handle=clean_text(found["handle"], 150),
                          credentials=found["credentials"], config=found["config"],
                          display_name=clean_text(found.get("display_name") or "", 200),
                          url=f"{found['config']['instance']}/@{user}" if host else "")

    # --- metrics and search ---------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        me = self._call(account, "verify_credentials", lambda api: api.account_verify_credentials())
        return AccountMetrics(collected_at=utcnow(), followers=me.get("followers_count"),
                              following=me.get("following_count"), posts=me.get("statuses_count"))

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Engagement counts of one of the account's posts (replies, boosts, favourites)."""
        status = self._call(account, "read the status", lambda api: api.status(external_id))
        return {name: int(status.get(f"{name}_count") or 0) for name in ("replies", "reblogs", "favourites")}

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: ``GET /api/v1/statuses/:id`` for each of the account's statuses (every Mastodon
        version has it; the batch ``GET /api/v1/statuses?id[]=`` is 4.3+): ``favourites_count`` (likes),
        ``replies_count``, ``reblogs_count`` (reposts) and ``quotes_count`` where the instance reports it (4.5+).
        A status the instance no longer has (404: deleted) is left out; any other error ends the batch."""
        from mastodon import errors as mx

        def read(external_id: str) -> PostMetrics | None:
            def status_or_none(api):
                try:
                    return api.status(external_id)
                except mx.MastodonNotFoundError:
                    return None

            status = self._call(account, "read the status", status_or_none)
            if status is None:
                return None
            return PostMetrics(external_id=external_id, collected_at=utcnow(),
                               likes=reported_count(status.get("favourites_count")),
                               replies=reported_count(status.get("replies_count")),
                               reposts=reported_count(status.get("reblogs_count")),
                               quotes=reported_count(status.get("quotes_count")))

        return post_metrics_each(external_ids, read)

    def search(self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None) -> SearchResult:
        query = clean_text(query, 500)
        if not query:
            raise ConnectorError("an empty search", permanent=True)
        limit = max(1, min(int(limit), MAX_PAGE))
        own = self.client(account)
        tag = re.fullmatch(r"#(\w+)", query)
        if tag:  # a hashtag: its timeline, newest first, paged with max_id
            statuses = list(self._call(account, "hashtag timeline", lambda api: api.timeline_hashtag(
                tag.group(1), max_id=cursor or None, limit=limit)) or [])
            next_cursor = str(statuses[-1]["id"]) if len(statuses) >= limit else None
        else:  # full-text search (instances with search enabled; Mastodon searches what it is allowed to)
            offset = int(cursor) if cursor and cursor.isdigit() else 0
            found = self._call(account, "search", lambda api: api.search_v2(
                query, resolve=False, result_type="statuses", offset=offset or None))
            statuses = list(found.get("statuses") or [])[:limit]
            next_cursor = str(offset + len(statuses)) if len(statuses) >= limit else None
        now = utcnow()
        events: list[InboundEvent] = []
        for status in statuses:
            try:
                events.append(self.event_from_status(status, own_id=own.own_id or "", now=now, source="search"))
            except (ValueError, ConnectorError) as exc:
                logger.info("search result %s skipped: %s", _get(status, "id"), exc)
        good, _bad = partition_events(events, prefix="statuses")
        return SearchResult(events=good, cursor=next_cursor)

    # --- streaming ------------------------------------------------------------------------------------------------
    def stream_enabled(self, config: Mapping[str, Any] | None) -> bool:
        return bool((config or {}).get("streaming", True))

    def _stream_urls(self, account: AccountRef, paths: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
        config = self.validate_config(account.config)
        base = config["streaming_url"] or config["instance"]
        return [f"{base}/api/v1/streaming/{path}" for path in paths], config

    def stream(self, account: AccountRef, *, stop: threading.Event) -> Iterator[StreamBatch]:
        """The ``user`` stream: mentions and DMs as they happen (see the module)."""
        own = self.client(account)
        urls, config = self._stream_urls(account, ["user"])
        with streaming.open_streams(urls, account.credentials.get("access_token", ""), timeout=config["timeout_s"],
                                    what="user stream") as streams:
            yield StreamBatch(poll=True)
            for frame in streams.frames(stop):
                yield self._stream_batch(own, frame) if frame else StreamBatch()

    def stream_search_terms(self, terms: Sequence[str]) -> list[str]:
        """The ``#hashtag`` terms: Mastodon streams nothing else publicly."""
        return sorted({t.lower() for t in terms if re.fullmatch(r"#\w{1,100}", t)})

    def stream_search(self, account: AccountRef, terms: Sequence[str], *,
                      stop: threading.Event) -> Iterator[StreamBatch]:
        """The hashtag streams of the ``#tag`` terms (other terms are left to ``search``)."""
        tags = [t[1:] for t in self.stream_search_terms(terms)]
        if not tags:
            raise ConnectorError("Mastodon streams hashtags only: this query has no #hashtag term (its other terms "
                                 "are searched by polling)", permanent=True)
        if len(tags) > MAX_STREAM_TAGS:
            raise ConnectorError(f"a query streams at most {MAX_STREAM_TAGS} hashtags", permanent=True)
        own = self.client(account)
        urls, config = self._stream_urls(account, [f"hashtag?tag={quote(tag)}" for tag in tags])
        with streaming.open_streams(urls, account.credentials.get("access_token", ""), timeout=config["timeout_s"],
                                    what="hashtag stream") as streams:
            for frame in streams.frames(stop):
                yield self._stream_batch(own, frame, search=True) if frame else StreamBatch()

    def _stream_batch(self, own: clients.Client, frame: tuple[str, str], *, search: bool = False) -> StreamBatch:
        """One streaming event as a batch of at most one event, or its rejection (never an exception)."""
        event, data = frame
        ref = f"stream {clean_text(event, 50) or '?'}"
        if event == "error":
            return StreamBatch(rejected=[RejectedItem(ref, clean_text(data, 300))])
        if event in STREAM_SKIPPED and not (search and event == "update"):
            return StreamBatch()
        try:
            payload = load_json(data.encode("utf-8", errors="replace"))
        except PayloadError as exc:
            return StreamBatch(rejected=[RejectedItem(ref, f"unreadable JSON: {exc}", excerpt=clean_text(data, 2000))])
        if search and event == "update":
            status, source = payload, "search"
        elif event == "notification" and not search:
            if not isinstance(payload, Mapping) or payload.get("type") != "mention":
                return StreamBatch()  # favourites, follows, boosts...: not inbox items (polling reads mentions only)
            ref = f"notification {clean_text(str(payload.get('id')), 100)}"
            status, source = payload.get("status"), "notification"
        elif event == "conversation" and not search:
            if not isinstance(payload, Mapping):
                return StreamBatch(rejected=[RejectedItem(ref, "a conversation that is not an object",
                                                          excerpt=clean_text(data, 2000))])
            ref = f"conversation {clean_text(str(payload.get('id')), 100)}"
            status, source = payload.get("last_status"), "conversation"
        else:
            return StreamBatch(rejected=[RejectedItem(ref, f"unknown streaming event type {clean_text(event, 50)!r}",
                                                      excerpt=clean_text(data, 2000))])
        if not isinstance(status, Mapping):
            return StreamBatch(rejected=[RejectedItem(ref, "an event without its status", excerpt=clean_text(data, 2000))])
        events, rejected = self._events(own, [(ref, status, source)])
        return StreamBatch(events=events, rejected=rejected)

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            own = self.client(account)
            clients.call(own, "verify_credentials", lambda api: api.account_verify_credentials())  # not cached
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        results.append(CheckResult("token", True, f"{own.own_acct} (id {own.own_id})"))
        for name, fn in (("notifications", lambda api: api.notifications(types=["mention"], limit=1)),
                         ("conversations", lambda api: api.conversations(limit=1))):
            try:
                clients.call(own, name, fn)
                results.append(CheckResult(name, True, "readable"))
            except ConnectorError as exc:
                results.append(CheckResult(name, False, str(exc)))
        api = own.api
        results.append(CheckResult("rate limit", own.wait_s() == 0,
                                   f"{api.ratelimit_remaining} of {api.ratelimit_limit} left"
                                   if api.ratelimit_limit is not None else "no rate-limit headers seen"))
        return results
