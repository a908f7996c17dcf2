"""The ``bluesky`` connector: a Bluesky (AT Protocol) account, on the ``atproto`` SDK. See docs/connectors/bluesky.md.

Account: ``handle`` is the account's handle (``brand.bsky.social``), ``external_id`` its DID (``did:plc:...``; a
handle is accepted too and checked against the login). Credentials (stored encrypted by the assets services):
``app_password``, an app password made in the account's settings (never the main password). Config: ``service``,
the PDS or entryway the account logs in to (``https://bsky.social`` by default). Sessions, refresh and rate limits:
see ``session``.

Inbound (``poll_cursor``): ``app.bsky.notification.listNotifications`` filtered to mentions, replies and quotes,
walked from the newest back to the newest already seen (the cursor's ``seen_at`` and the uris seen at that instant);
at most ``max_pages`` pages a poll, the walk resumes from the page cursor on the next poll (``more``). Each
notification becomes an ``InboundEvent`` whose external id is the post's ``at://`` URI and whose ``in_reply_to`` is
its parent's URI (replies thread in the inbox by parent; the root is kept in ``raw``). Notifications that are not a
readable post are returned in ``rejected`` (quarantined), never dropped silently.

Outbound (``send_reply``): the parent is read (``getPosts``) for its CID and its thread's root, and the reply is
created with ``reply.root`` / ``reply.parent`` strong refs, facets detected (links, mentions resolved to DIDs,
hashtags) and at most 300 graphemes. ``publish`` creates a root post the same way, with its images (at most 4,
each a JPEG, PNG, WebP or GIF of at most 1,000,000 bytes, the lexicon's limits, checked on the bytes before anything
is uploaded) uploaded with ``com.atproto.repo.uploadBlob`` and embedded as ``app.bsky.embed.images`` with their alt
text (at most 2,000 graphemes) and aspect ratio; ``delete`` deletes the account's own post. Inbound posts that carry
images (``app.bsky.embed.images``, or the media of a quote) keep them: the alt text and the full-size image URL
(read from the AppView's post views, one ``getPosts`` for the poll) as ``[Image: alt] url`` lines of the message and
in ``raw["images"]``. Moderation: ``hide`` adds the reply to the thread gate's ``hiddenReplies`` of the thread's root when the
account wrote the root (Bluesky's own "hide reply"); elsewhere Bluesky has no hiding, and the message is hidden in
Dandelion only (said in the result's detail). ``ban_author`` blocks the author (an ``app.bsky.graph.block`` record),
``mute_author`` mutes them. ``search``: ``app.bsky.feed.searchPosts``. ``fetch_metrics``: the profile's counts;
``fetch_post_metrics``: ``app.bsky.feed.getPosts``' like, repost, reply and quote counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

import regex
from atproto import models
from atproto_client import exceptions as atx

from dandelion.connectors import media
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
    OutboundPost,
    OutboundReply,
    PollResult,
    PostMetrics,
    RejectedItem,
    SearchResult,
    SentMessage,
    StreamBatch,
    reported_count,
    utcnow,
)
from dandelion.connectors.bluesky import jetstream
from dandelion.connectors.bluesky import session as sessions
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text, parse_time
from dandelion.connectors.validation import partition_events

logger = logging.getLogger(__name__)

#: The longest post Bluesky accepts, in graphemes (``app.bsky.feed.post`` text maxGraphemes).
MAX_GRAPHEMES = 300
#: Notification reasons that are conversations (likes, reposts and follows are not).
REASONS = ("mention", "reply", "quote")
KIND_OF_REASON = {"mention": "mention", "reply": "comment", "quote": "mention"}
#: URIs remembered at the newest ``indexedAt`` seen (notifications sharing that instant are not fetched twice).
EDGE_KEEP = 200
MIN_POLL_INTERVAL_S = 10
POST_COLLECTION = "app.bsky.feed.post"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
BLOCK_COLLECTION = "app.bsky.graph.block"
#: Pages of the account's own block records read to keep ``ban_author`` idempotent.
BLOCK_SCAN_PAGES = 5
#: ``hiddenReplies`` holds at most this many URIs (lexicon maxLength).
MAX_HIDDEN_REPLIES = 300
#: ``app.bsky.embed.images``: at most 4 images, each a blob of at most 1,000,000 bytes.
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
#: The longest alt text the Bluesky app accepts, in graphemes.
MAX_ALT_GRAPHEMES = 2000
IMAGES_EMBED = "app.bsky.embed.images"
RECORD_WITH_MEDIA_EMBED = "app.bsky.embed.recordWithMedia"
#: ``getPosts`` reads at most this many posts a call.
GET_POSTS_BATCH = 25


def graphemes(text: str) -> int:
    """The number of user-perceived characters (extended grapheme clusters, UAX #29)."""
    return len(regex.findall(r"\X", text))


#: ``app.bsky.feed.getPosts`` takes at most 25 URIs.
GET_POSTS_LIMIT = 25


def parse_uri(uri: str) -> tuple[str, str, str]:
    """``(repo DID or handle, collection, rkey)`` of an ``at://`` URI; ``ConnectorError`` when it is not one."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ConnectorError(f"{uri!r} is not a Bluesky post (at:// URI expected)", permanent=True)
    parts = uri[len("at://"):].split("/")
    if len(parts) != 3 or not all(parts):
        raise ConnectorError(f"{uri!r} is not a Bluesky record URI", permanent=True)
    return parts[0], parts[1], parts[2]


def _get(obj: Any, *names: str) -> Any:
    """Read a field from an SDK model or a plain dict (records of unknown types come back as dicts)."""
    for name in names:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
    return obj


def _time(value: Any) -> dt.datetime | None:
    return parse_time(value)


def _type_of(obj: Any) -> str:
    return str(_get(obj, "py_type") or (obj.get("$type") if isinstance(obj, Mapping) else "") or "")


def _images_embed(embed: Any, suffix: str = "") -> Any:
    """The images part of an embed (itself, or a quote's media), None when it has no images."""
    if _type_of(embed) == RECORD_WITH_MEDIA_EMBED + suffix:
        embed = _get(embed, "media")
    return embed if _type_of(embed) == IMAGES_EMBED + suffix else None


def _url(value: Any) -> str:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) <= 1000 \
        else ""


def record_images(record: Any) -> list[dict[str, str]]:
    """The images of a post record: ``{"alt", "url": ""}`` each (a record holds blob references, not URLs)."""
    embed = _images_embed(_get(record, "embed"))
    items = _get(embed, "images") if embed is not None else None
    if not isinstance(items, Sequence):
        return []
    return [{"alt": clean_text(_get(i, "alt") if isinstance(_get(i, "alt"), str) else "", 2000), "url": ""}
            for i in list(items)[:MAX_IMAGES]]


def image_lines(pictures: Sequence[Mapping[str, str]]) -> str:
    """The lines a message gets for its images: ``[Image: alt] url`` each."""
    return "".join(f"\n[Image: {p.get('alt') or 'no alt text'}]" + (f" {p['url']}" if p.get("url") else "")
                   for p in pictures)


def view_images(embed: Any) -> list[dict[str, str]]:
    """The images of a post view's embed: ``{"alt", "url" (full size), "thumb"}`` each."""
    view = _images_embed(embed, "#view")
    items = _get(view, "images") if view is not None else None
    if not isinstance(items, Sequence):
        return []
    return [{"alt": clean_text(_get(i, "alt") if isinstance(_get(i, "alt"), str) else "", 2000),
             "url": _url(_get(i, "fullsize")), "thumb": _url(_get(i, "thumb"))} for i in list(items)[:MAX_IMAGES]]


@register
class BlueskyConnector(Connector):
    """A Bluesky account: notifications in (polled with a cursor), threaded replies, posts, moderation, search."""

    key = "bluesky"
    label = "Bluesky (AT Protocol)"
    capabilities = frozenset({Capability.POLL, Capability.REPLY, Capability.MODERATION, Capability.METRICS,
                              Capability.PUBLISHING, Capability.SEARCH})
    poll_interval_s = 30
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "service": ConfigField(str, False, "The PDS or entryway the account logs in to.", "https://bsky.social"),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "page_size": ConfigField(int, False, "Notifications read per request (1 to 100).", 100),
        "max_pages": ConfigField(int, False, "Pages of notifications read by one poll.", 10),
        "backfill": ConfigField(int, False, "Notifications read on the first poll (0: only new ones).", 50),
        "langs": ConfigField(list, False, "Languages declared on posts and replies (BCP 47).", ["en"]),
        "poll_interval_s": ConfigField(int, False, "Seconds between polls (at least 10).", 30),
        "jetstream_url": ConfigField(str, False, "The Jetstream instance followed for live listening (wss://).",
                                     jetstream.DEFAULT_URL),
    }

    # --- config ---------------------------------------------------------------------------------------------------
    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        if not clean["service"].startswith(("https://", "http://")):
            errors["service"] = "must start with https:// (http:// for a local network)"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1 <= clean["page_size"] <= 100:
            errors["page_size"] = "must be between 1 and 100"
        if not 1 <= clean["max_pages"] <= 100:
            errors["max_pages"] = "must be between 1 and 100"
        if not 0 <= clean["backfill"] <= 1000:
            errors["backfill"] = "must be between 0 and 1000"
        if not all(isinstance(x, str) and 1 < len(x) < 20 for x in clean["langs"]) or len(clean["langs"]) > 3:
            errors["langs"] = "must be at most 3 language codes"
        if clean["poll_interval_s"] < MIN_POLL_INTERVAL_S:
            errors["poll_interval_s"] = f"must be at least {MIN_POLL_INTERVAL_S}"
        if urlsplit(clean["jetstream_url"]).scheme not in ("wss", "ws") or not urlsplit(clean["jetstream_url"]).netloc:
            errors["jetstream_url"] = "must be a WebSocket URL, wss://host/subscribe"
        if errors:
            raise ConfigError(errors)
        return clean

    # --- sessions -------------------------------------------------------------------------------------------------
    @staticmethod
    def _identifier(account: AccountRef) -> str:
        handle = (account.handle or "").strip().lstrip("@")
        return handle or account.external_id

    def _call(self, account: AccountRef, what: str, fn):
        config = self.validate_config(account.config)
        return sessions.call(account.id, config["service"], self._identifier(account),
                             account.credentials.get("app_password", ""), timeout=config["timeout_s"], what=what,
                             fn=fn)

    def session(self, account: AccountRef) -> sessions.Session:
        """The account's logged-in session (tests and ``check`` read its DID and rate window)."""
        config = self.validate_config(account.config)
        session = sessions.session_for(account.id, config["service"], self._identifier(account),
                                       account.credentials.get("app_password", ""), timeout=config["timeout_s"])
        if account.external_id.startswith("did:") and session.did != account.external_id:
            raise ConnectorError(f"the app password logs in to {session.did}, not to this account's "
                                 f"{account.external_id}", permanent=True)
        return session

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        own = self.session(account)
        state = dict(cursor or {})
        seen_at = _time(state.get("seen_at"))
        edge = set(state.get("edge") or [])
        walk = dict(state.get("walk") or {})  # an interrupted walk: {"page": cursor, "top": iso, "top_edge": [...]}
        first_poll = seen_at is None and not walk
        wanted = config["backfill"] if first_poll else None
        page_cursor = walk.get("page")
        top = _time(walk.get("top"))
        top_edge: set[str] = set(walk.get("top_edge") or [])
        collected: list[Any] = []
        reached_seen, exhausted = False, False
        for _page in range(config["max_pages"]):
            limit = config["page_size"] if wanted is None else max(1, min(config["page_size"], wanted - len(collected)))
            params = {"limit": limit, "reasons": list(REASONS)}
            if page_cursor:
                params["cursor"] = page_cursor
            answer = self._call(account, "listNotifications",
                                lambda s, p=params: s.client.app.bsky.notification.list_notifications(p))
            page = list(answer.notifications or [])
            for item in page:
                indexed = _time(_get(item, "indexed_at"))
                uri = str(_get(item, "uri") or "")
                if indexed is not None and seen_at is not None and (
                        indexed < seen_at or (indexed == seen_at and uri in edge)):
                    reached_seen = True
                    break
                if indexed is not None and (top is None or indexed > top):
                    top, top_edge = indexed, {uri}
                elif indexed is not None and indexed == top:
                    top_edge.add(uri)
                collected.append(item)
            page_cursor = answer.cursor
            if reached_seen or not page or not page_cursor or (wanted is not None and len(collected) >= wanted):
                exhausted = True
                break
        events, rejected = self._events(own, collected, images=self._image_views(account, collected))
        if exhausted:
            new_state: dict[str, Any] = {"seen_at": state.get("seen_at"), "edge": sorted(edge)[-EDGE_KEEP:]}
            if top is not None and (seen_at is None or top >= seen_at):
                same = top == seen_at
                new_state = {"seen_at": top.isoformat(),
                             "edge": sorted((top_edge | edge) if same else top_edge)[-EDGE_KEEP:]}
            more = False
        else:  # stopped at max_pages: the next poll goes on down from here before moving the mark
            new_state = {"seen_at": state.get("seen_at"), "edge": sorted(edge)[-EDGE_KEEP:],
                         "walk": {"page": page_cursor, "top": top.isoformat() if top else None,
                                  "top_edge": sorted(top_edge)[-EDGE_KEEP:]}}
            more = True
        new_state["did"] = own.did
        return PollResult(events=events, cursor=new_state, rejected=rejected, more=more)

    def _image_views(self, account: AccountRef, notifications: Sequence[Any]) -> dict[str, list[dict[str, str]]]:
        """``{post uri: [{"alt", "url", "thumb"}, ...]}`` for the notified posts that carry images (their AppView
        views hold the image URLs; the records only hold blob references)."""
        uris = [str(_get(n, "uri")) for n in notifications
                if record_images(_get(n, "record")) and str(_get(n, "uri") or "").startswith("at://")]
        found: dict[str, list[dict[str, str]]] = {}
        for start in range(0, len(uris), GET_POSTS_BATCH):
            batch = uris[start:start + GET_POSTS_BATCH]
            answer = self._call(account, "getPosts", lambda s, b=batch: s.client.get_posts(b))
            for view in answer.posts or []:
                images = view_images(_get(view, "embed"))
                if images:
                    found[str(view.uri)] = images
        return found

    def _events(self, own: sessions.Session, notifications: list[Any],
                images: Mapping[str, list[dict[str, str]]] | None = None) -> tuple[list[InboundEvent],
                                                                                   list[RejectedItem]]:
        now = utcnow()
        built: list[InboundEvent] = []
        refs: list[str] = []
        rejected: list[RejectedItem] = []
        for index, item in enumerate(notifications):
            ref = clean_text(str(_get(item, "uri") or f"notification {index}"), 200)
            try:
                built.append(self.event_from_notification(item, own_did=own.did, now=now,
                                                          images=(images or {}).get(str(_get(item, "uri")))))
                refs.append(ref)
            except Exception as exc:  # noqa: BLE001 - one broken notification never costs the others
                rejected.append(RejectedItem(ref, f"{type(exc).__name__}: {clean_text(str(exc), 300)}",
                                             excerpt=clean_text(repr(item)[:2000], 2000)))
        good, bad = partition_events(built, prefix="notifications")
        for i, error in bad:
            rejected.append(RejectedItem(refs[i], str(error), excerpt=clean_text(built[i].text, 500)))
        good.sort(key=lambda e: e.created_at)
        return good, rejected

    @staticmethod
    def event_from_notification(item: Any, *, own_did: str, now: dt.datetime,
                                images: Sequence[Mapping[str, str]] | None = None) -> InboundEvent:
        """One notification (SDK model or the JSON dict the network sent) as an ``InboundEvent``; ``images``: the
        post's images as its AppView view shows them (else the record's alt texts alone)."""
        reason = _get(item, "reason")
        if reason not in KIND_OF_REASON:
            raise ValueError(f"notification reason {reason!r} is not a conversation")
        uri = _get(item, "uri")
        parse_uri(str(uri))
        record = _get(item, "record")
        text = _get(record, "text")
        if not isinstance(text, str):
            raise ValueError("the notification's record has no text (not a post)")  # noqa: TRY004
        author = _get(item, "author")
        did = _get(author, "did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError("the notification has no author DID")
        parent_uri = _get(record, "reply", "parent", "uri")
        root_uri = _get(record, "reply", "root", "uri")
        created = _time(_get(record, "created_at") or _get(record, "createdAt")) or _time(_get(item, "indexed_at"))
        pictures = [dict(i) for i in images] if images else record_images(record)
        if pictures:
            text = text.rstrip() + image_lines(pictures)
        kind = KIND_OF_REASON[reason]
        if reason == "mention" and parent_uri:
            kind = "reply"  # a mention inside someone's thread answers a post there
        return InboundEvent(
            external_id=bounded_id(str(uri)),
            kind=kind,  # type: ignore[arg-type]
            text=clean_text(text, 3000),
            created_at=clamp_date(created, now=now),
            author=InboundAuthor(external_id=did, name=clean_text(_get(author, "display_name") or "", 200),
                                 handle=clean_text(_get(author, "handle") or "", 200)),
            in_reply_to=bounded_id(str(parent_uri)) if isinstance(parent_uri, str) and parent_uri else None,
            from_account=did == own_did,
            raw={"uri": uri, "cid": _get(item, "cid"), "reason": reason, "parent": parent_uri, "root": root_uri,
                 "indexed_at": _get(item, "indexed_at"), "images": pictures},
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def _check_length(self, text: str) -> None:
        if not text.strip():
            raise ConnectorError("a Bluesky post cannot be empty", permanent=True)
        count = graphemes(text)
        if count > MAX_GRAPHEMES:
            raise ConnectorError(f"the text is {count} characters long; Bluesky allows {MAX_GRAPHEMES}",
                                 permanent=True)

    def _post_view(self, account: AccountRef, uri: str) -> Any:
        parse_uri(uri)
        answer = self._call(account, "getPosts", lambda s: s.client.get_posts([uri]))
        posts = list(answer.posts or [])
        if not posts:
            raise ConnectorError(f"the post {uri} was deleted or is not visible to this account", permanent=True)
        return posts[0]

    def _create_post(self, account: AccountRef, text: str, *, reply_to: Any = None,
                     images: Sequence[tuple[bytes, str]] = ()) -> SentMessage:
        if not (images and not text.strip()):  # an image post may have no text
            self._check_length(text)
        config = self.validate_config(account.config)
        embed = self._upload_images(account, images) if images else None

        def send(s: sessions.Session) -> Any:
            facets = (s.client.detect_facets(text) or None) if text else None
            return s.client.send_post(text, profile_identify=s.did, reply_to=reply_to, facets=facets,
                                      langs=list(config["langs"]) or None, embed=embed)

        created = self._call(account, "createRecord", send)
        _repo, _collection, rkey = parse_uri(created.uri)
        handle = self._identifier(account)
        return SentMessage(external_id=created.uri, sent_at=utcnow(),
                           url=f"https://bsky.app/profile/{handle}/post/{rkey}")

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        if reply.kind == "dm":
            raise ConnectorError("Bluesky direct messages go through the chat service, which this connector does "
                                 "not use yet: answer publicly or in the Bluesky app", permanent=True)
        if not reply.in_reply_to:
            return self._create_post(account, reply.text)
        parent = self._post_view(account, reply.in_reply_to)
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        root = _get(parent, "record", "reply", "root")
        root_ref = (models.ComAtprotoRepoStrongRef.Main(uri=root.uri, cid=root.cid)
                    if root is not None and _get(root, "uri") and _get(root, "cid") else parent_ref)
        return self._create_post(account, reply.text,
                                 reply_to=models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref))

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        text = post.text
        if post.link and post.link not in text:
            text = f"{text.rstrip()}\n{post.link}" if text.strip() else post.link
        images = self._read_images(account, post) if post.media_urls else []
        return self._create_post(account, text, images=images)

    def _read_images(self, account: AccountRef, post: OutboundPost) -> list[tuple[bytes, str]]:
        """Each image's bytes and alt text, every limit checked before anything is uploaded."""
        if len(post.media_urls) > MAX_IMAGES:
            raise ConnectorError(f"a Bluesky post carries at most {MAX_IMAGES} images ({len(post.media_urls)} "
                                 "given)", permanent=True)
        alts = list(post.alt_texts)
        if len(alts) > len(post.media_urls):
            raise ConnectorError("more alt texts than images", permanent=True)
        timeout = self.validate_config(account.config)["timeout_s"]
        images = []
        for index, url in enumerate(post.media_urls):
            alt = clean_text(alts[index] if index < len(alts) else "", 20_000)
            if graphemes(alt) > MAX_ALT_GRAPHEMES:
                raise ConnectorError(f"the alt text of image {index + 1} is {graphemes(alt)} characters long; "
                                     f"Bluesky allows {MAX_ALT_GRAPHEMES}", permanent=True)
            data = media.download(url, max_bytes=MAX_IMAGE_BYTES, timeout=timeout,
                                  limit_text="1,000,000 bytes, Bluesky's limit for an image")
            kind = media.sniff_image(data)
            if kind not in IMAGE_TYPES:
                raise ConnectorError(f"image {index + 1} ({url[:200]}) is not a JPEG, PNG, WebP or GIF image: "
                                     "Bluesky refuses it", permanent=True)
            images.append((data, alt))
        return images

    def _upload_images(self, account: AccountRef, images: Sequence[tuple[bytes, str]]) -> Any:
        """``app.bsky.embed.images`` for the images, each uploaded as a blob with its alt text and aspect ratio."""
        embedded = []
        for data, alt in images:
            blob = self._call(account, "uploadBlob", lambda s, d=data: s.client.upload_blob(d)).blob
            size = media.image_size(data)
            ratio = models.AppBskyEmbedDefs.AspectRatio(width=size[0], height=size[1]) if size else None
            embedded.append(models.AppBskyEmbedImages.Image(alt=alt, image=blob, aspect_ratio=ratio))
        return models.AppBskyEmbedImages.Main(images=embedded)

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        """Delete a post the account published (publishing's "delete"); the same call as moderation's delete."""
        self.delete(account, external_id)

    # --- moderation -----------------------------------------------------------------------------------------------
    def _result(self, action: str, target: str, detail: str) -> ModerationResult:
        return ModerationResult(action=action, target_external_id=target, performed_at=utcnow(),  # type: ignore[arg-type]
                                detail=detail)

    def _threadgate(self, account: AccountRef, did: str, rkey: str) -> tuple[dict[str, Any] | None, str | None]:
        """The thread gate record of the account's post ``rkey`` (as a dict) and its CID; ``(None, None)``."""
        def read(s: sessions.Session) -> Any:
            try:
                return s.client.com.atproto.repo.get_record(
                    {"repo": did, "collection": THREADGATE_COLLECTION, "rkey": rkey})
            except atx.BadRequestError as exc:
                if sessions._error_name(exc) == "RecordNotFound":
                    return None
                raise

        answer = self._call(account, "getRecord threadgate", read)
        if answer is None:
            return None, None
        value = answer.value
        record = value.model_dump(by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else dict(value)
        return record, answer.cid

    def _set_hidden(self, account: AccountRef, external_id: str, *, hide: bool) -> ModerationResult:
        action = "hide" if hide else "unhide"
        own = self.session(account)
        post = self._post_view(account, external_id)
        root_uri = _get(post, "record", "reply", "root", "uri") or external_id
        root_repo, _collection, root_rkey = parse_uri(root_uri)
        if root_repo != own.did:
            return self._result(action, external_id, "Bluesky hides replies only in threads the account started: "
                                "changed in Dandelion only")
        if root_uri == external_id:
            return self._result(action, external_id, "a thread's first post cannot be hidden: changed in "
                                "Dandelion only")
        record, cid = self._threadgate(account, own.did, root_rkey)
        record = record or {"$type": THREADGATE_COLLECTION, "post": root_uri,
                            "createdAt": utcnow().isoformat().replace("+00:00", "Z")}
        record.setdefault("$type", THREADGATE_COLLECTION)
        hidden = [u for u in (record.get("hiddenReplies") or []) if u != external_id]
        if hide:
            hidden.append(external_id)
        if len(hidden) > MAX_HIDDEN_REPLIES:
            raise ConnectorError(f"Bluesky hides at most {MAX_HIDDEN_REPLIES} replies in one thread",
                                 permanent=True)
        record["hiddenReplies"] = hidden
        if "allow" not in record:
            record.pop("allow", None)  # absent: everyone may still reply (an empty list would close the thread)
        data: dict[str, Any] = {"repo": own.did, "collection": THREADGATE_COLLECTION, "rkey": root_rkey,
                                "record": record}
        if cid:
            data["swapRecord"] = cid
        self._call(account, "putRecord threadgate", lambda s: s.client.com.atproto.repo.put_record(data))
        return self._result(action, external_id, f"{'added to' if hide else 'removed from'} the hidden replies "
                            f"of the thread {root_uri}")

    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._set_hidden(account, external_id, hide=True)

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return self._set_hidden(account, external_id, hide=False)

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        repo, collection, _rkey = parse_uri(external_id)
        own = self.session(account)
        if repo != own.did or collection != POST_COLLECTION:
            raise ConnectorError("Bluesky lets an account delete only its own posts: hide the reply or block its "
                                 "author instead", permanent=True)
        self._call(account, "deleteRecord", lambda s: s.client.delete_post(external_id))
        return self._result("delete", external_id, "deleted on Bluesky")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        own = self.session(account)
        profile = self._call(account, "getProfile", lambda s: s.client.get_profile(author_external_id))
        existing = _get(profile, "viewer", "blocking") or self._own_block(account, own.did, profile.did)
        if existing:
            return self._result("ban_author", author_external_id, f"already blocked ({existing})")
        record = {"$type": BLOCK_COLLECTION, "subject": profile.did,
                  "createdAt": utcnow().isoformat().replace("+00:00", "Z")}
        created = self._call(account, "createRecord block", lambda s: s.client.com.atproto.repo.create_record(
            {"repo": own.did, "collection": BLOCK_COLLECTION, "record": record}))
        return self._result("ban_author", author_external_id, f"blocked on Bluesky ({created.uri})")

    def _own_block(self, account: AccountRef, did: str, subject: str) -> str | None:
        """The URI of the account's block record of ``subject``, read from its own repository (the AppView shows
        a new block a moment later); the newest ``BLOCK_SCAN_PAGES`` pages are read."""
        cursor = None
        for _page in range(BLOCK_SCAN_PAGES):
            params: dict[str, Any] = {"repo": did, "collection": BLOCK_COLLECTION, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            answer = self._call(account, "listRecords block",
                                lambda s, p=params: s.client.com.atproto.repo.list_records(p))
            for record in answer.records or []:
                if _get(record, "value", "subject") == subject:
                    return str(record.uri)
            cursor = answer.cursor
            if not cursor:
                return None
        return None

    def mute_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        """Mute the author (private to the account: they are not told, their posts leave its notifications)."""
        self._call(account, "muteActor", lambda s: s.client.mute(author_external_id))
        return self._result("mute_author", author_external_id, "muted on Bluesky")

    def report_author(self, account: AccountRef, author_external_id: str, external_ids: Sequence[str], *,
                      comment: str = "") -> ModerationResult:
        """``ReportConnector``: ``com.atproto.moderation.createReport`` through the account's PDS to its moderation
        service: the first item named (a post, by strong reference) or else the author's account."""
        subject: dict[str, Any] = {"$type": "com.atproto.admin.defs#repoRef", "did": author_external_id}
        uri = next((str(i) for i in external_ids if str(i).startswith("at://")), None)
        if uri:
            view = self._post_view(account, uri)
            subject = {"$type": "com.atproto.repo.strongRef", "uri": uri, "cid": str(view.cid)}
        reason_type = ("com.atproto.moderation.defs#reasonSpam" if "spam" in comment.lower()
                       else "com.atproto.moderation.defs#reasonOther")
        report = self._call(account, "createReport", lambda s: s.client.com.atproto.moderation.create_report(
            {"reasonType": reason_type, "reason": clean_text(comment, 2000) or None, "subject": subject}))
        return self._result("report_author", author_external_id,
                            f"reported to the network's moderation service (report {report.id})")

    # --- metrics and search ---------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        own = self.session(account)
        profile = self._call(account, "getProfile", lambda s: s.client.get_profile(own.did))
        return AccountMetrics(collected_at=utcnow(), followers=profile.followers_count,
                              following=profile.follows_count, posts=profile.posts_count)

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: ``app.bsky.feed.getPosts`` (25 URIs a call, its limit) read through the
        account's PDS: ``likeCount``, ``replyCount``, ``repostCount``, ``quoteCount`` as the AppView counts them.
        Posts it no longer returns (deleted, or taken down) are left out; an id that is not an ``at://`` URI too."""
        uris = list(dict.fromkeys(str(i).strip() for i in external_ids if str(i).strip().startswith("at://")))
        out: list[PostMetrics] = []
        for i in range(0, len(uris), GET_POSTS_LIMIT):
            batch = uris[i:i + GET_POSTS_LIMIT]
            answer = self._call(account, "getPosts", lambda s, b=batch: s.client.get_posts(b))
            now = utcnow()
            for post in answer.posts or []:
                out.append(PostMetrics(external_id=str(post.uri), collected_at=now,
                                       likes=reported_count(_get(post, "like_count")),
                                       replies=reported_count(_get(post, "reply_count")),
                                       reposts=reported_count(_get(post, "repost_count")),
                                       quotes=reported_count(_get(post, "quote_count"))))
        return out

    def search(self, account: AccountRef, query: str, *, limit: int = 25, cursor: str | None = None) -> SearchResult:
        query = clean_text(query, 500)
        if not query:
            raise ConnectorError("an empty search", permanent=True)
        params: dict[str, Any] = {"q": query, "limit": max(1, min(int(limit), 100)), "sort": "latest"}
        if cursor:
            params["cursor"] = cursor
        answer = self._call(account, "searchPosts", lambda s: s.client.app.bsky.feed.search_posts(params))
        now = utcnow()
        own_did = self.session(account).did
        events: list[InboundEvent] = []
        for post in answer.posts or []:
            try:
                events.append(self.event_from_notification(
                    {"reason": "mention", "uri": post.uri, "cid": post.cid, "record": post.record,
                     "author": post.author, "indexed_at": post.indexed_at}, own_did=own_did, now=now))
            except (ValueError, ConnectorError) as exc:
                logger.info("search result %s skipped: %s", getattr(post, "uri", "?"), exc)
        good, _bad = partition_events(events, prefix="posts")
        return SearchResult(events=good, cursor=answer.cursor)

    # --- live listening (Jetstream) --------------------------------------------------------------------------------
    def stream_search_terms(self, terms: Sequence[str]) -> list[str]:
        """Every term: Jetstream brings every new post, and the terms are matched here (see ``jetstream``)."""
        return [t for t in terms if t.strip().strip('"')]

    def stream_search(self, account: AccountRef, terms: Sequence[str], *,
                      stop: threading.Event) -> Iterator[StreamBatch]:
        """New posts of the whole network containing one of ``terms``, from Jetstream (see ``jetstream``)."""
        config = self.validate_config(account.config)
        compiled = jetstream.compile_terms(self.stream_search_terms(terms))
        if not compiled:
            raise ConnectorError("no term to follow live", permanent=True)
        own_did = account.external_id if account.external_id.startswith("did:") else self.session(account).did
        url = jetstream.subscribe_url(config["jetstream_url"], jetstream.resume_from(account.id))
        for message in jetstream.messages(url, stop=stop, timeout=config["timeout_s"]):
            if message is None:
                yield StreamBatch()
                continue
            yield jetstream.batch_of(message, compiled=compiled, own_did=own_did, account_id=account.id,
                                     alt_lines=lambda record: image_lines(record_images(record)))

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            self.validate_config(account.config)
        except ConfigError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, "valid")]
        try:
            own = self.session(account)
        except ConnectorError as exc:
            return [*results, CheckResult("login", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        results.append(CheckResult("login", True, f"{own.handle} ({own.did})"))
        for name, fn in (
            ("notifications", lambda s: s.client.app.bsky.notification.list_notifications({"limit": 1})),
            ("profile", lambda s: s.client.get_profile(s.did)),
        ):
            try:
                self._call(account, name, fn)
                results.append(CheckResult(name, True, "readable"))
            except ConnectorError as exc:
                results.append(CheckResult(name, False, str(exc)))
        window = own.window
        results.append(CheckResult("rate limit", window.wait_s() == 0,
                                   f"{window.remaining} of {window.limit} left ({window.policy})"
                                   if window.remaining is not None else "no rate-limit headers seen"))
        return results
