"""The ``linkedin`` connector: a LinkedIn organisation page, on the Community Management API (versioned REST, httpx).
See docs/connectors/linkedin.md.

Account: ``external_id`` is the organisation's URN (``urn:li:organization:<id>``), ``handle`` its vanity name.
Credentials, versions and errors: see ``api``. Connect: LinkedIn's OAuth 2 authorisation-code flow (Dandelion's
LinkedIn app from the environment: ``DANDELION_LINKEDIN_CLIENT_ID`` / ``DANDELION_LINKEDIN_CLIENT_SECRET``); the
exchange finds the organisation the member administers (``organizationAcls``; the first, or the one named by
``DANDELION_LINKEDIN_ORGANIZATION``).

Inbound (``poll_cursor``): the comments on the organisation's latest posts (``GET /rest/posts?q=author``, then
``GET /rest/socialActions/{post}/comments``, paged with ``start``/``count``), kept when newer than the cursor's
watermark. A comment on a post is a ``comment`` answering the post; a comment on a comment (``parentComment``) a
``reply`` answering it; the organisation's own comments are echoes. Items that cannot be read are ``rejected``.

Outbound: ``send_reply`` comments as the organisation under the comment (``parentComment``) or on the post.
``publish`` creates a post (``POST /rest/posts``): text, a link (an article), or one image uploaded through the Images
API with its alt text; ``delete_post`` deletes it. Moderation: ``delete`` deletes a comment (as the organisation:
its own comments, and members' comments on its posts); LinkedIn offers organisations no way to hide comments or ban
members: ``hide`` / ``unhide`` act in Dandelion only and say so, ``ban_author`` is refused. Metrics: followers
(``networkSizes``); ``post_metrics``: likes and comments of a post (``socialActions``). No search: LinkedIn has no
public post search API.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

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
    SentMessage,
    post_metrics_each,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.linkedin import api
from dandelion.connectors.registry import register
from dandelion.connectors.tolerant import bounded_id, clamp_date, clean_text
from dandelion.connectors.validation import partition_rejecting, rejected_item

logger = logging.getLogger(__name__)

LINKEDIN_INSTANCE = "https://www.linkedin.com"
MAX_COMMENT_CHARS = 1250
MAX_POST_CHARS = 3000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
SEEN_KEEP = 300
_ORG_RE = re.compile(r"^urn:li:organization:\d{1,20}$")
_POST_RE = re.compile(r"^urn:li:(share|ugcPost|activity):\d{1,25}$")
_COMMENT_RE = re.compile(r"^urn:li:comment:\((urn:li:(?:activity|share|ugcPost):\d{1,25}),(\d{1,25})\)$")
_VERSION_RE = re.compile(r"^20\d{2}(0[1-9]|1[0-2])$")


def _ms(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _count(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if 0 <= number < 2**62 else None


def _elements(body: Any) -> list[Any]:
    elements = body.get("elements") if isinstance(body, Mapping) else None
    return elements if isinstance(elements, list) else []


@register
class LinkedInConnector(Connector):
    """A LinkedIn organisation page: comments on its posts in (polled), replies as the organisation, posts with text,
    links and images, comment deletion, follower and post statistics."""

    key = "linkedin"
    label = "LinkedIn"
    capabilities = frozenset(
        {Capability.POLL, Capability.REPLY, Capability.MODERATION, Capability.METRICS, Capability.PUBLISHING}
    )
    poll_interval_s = 300
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "api_version": ConfigField(str, False, "LinkedIn-Version header (YYYYMM).", api.DEFAULT_VERSION),
        "timeout_s": ConfigField(float, False, "Network timeout, seconds.", 20.0),
        "posts_watched": ConfigField(int, False, "Latest posts whose comments are polled (1 to 50).", 10),
        "page_size": ConfigField(int, False, "Comments read per request (1 to 100).", 50),
        "max_pages": ConfigField(int, False, "Pages of comments read per post and poll.", 3),
        "poll_interval_s": ConfigField(
            int, False, "Seconds between polls (at least 120: daily throttles).", 300
        ),
    }

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        errors: dict[str, str] = {}
        if not _VERSION_RE.match(clean["api_version"]):
            errors["api_version"] = "must be a LinkedIn API version, YYYYMM"
        if clean["timeout_s"] <= 0:
            errors["timeout_s"] = "must be positive"
        if not 1 <= clean["posts_watched"] <= 50:
            errors["posts_watched"] = "must be between 1 and 50"
        if not 1 <= clean["page_size"] <= 100:
            errors["page_size"] = "must be between 1 and 100"
        if not 1 <= clean["max_pages"] <= 20:
            errors["max_pages"] = "must be between 1 and 20"
        if clean["poll_interval_s"] < 120:
            errors["poll_interval_s"] = "must be at least 120"
        if errors:
            raise ConfigError(errors)
        return clean

    def session(self, account: AccountRef) -> api.Session:
        config = self.validate_config(account.config)
        return api.Session(
            account.id, account.credentials, version=config["api_version"], timeout=config["timeout_s"], ref=account
        )

    @staticmethod
    def _org(account: AccountRef) -> str:
        if not _ORG_RE.match(account.external_id):
            raise ConnectorError(
                f"{account.external_id!r} is not a LinkedIn organisation URN (urn:li:organization:<id>)",
                permanent=True,
            )
        return account.external_id

    # --- OAuth ----------------------------------------------------------------------------------------------------
    def oauth_register(self, *, instance: str, redirect_uri: str) -> OAuthClient:
        """LinkedIn apps are created in the developer portal, not by API: read from the environment."""
        client_id = os.environ.get("DANDELION_LINKEDIN_CLIENT_ID", "")
        client_secret = os.environ.get("DANDELION_LINKEDIN_CLIENT_SECRET", "")
        if not client_id or not client_secret:
            raise ConnectorError(
                "no LinkedIn app configured: set DANDELION_LINKEDIN_CLIENT_ID and "
                "DANDELION_LINKEDIN_CLIENT_SECRET (docs/connectors/linkedin.md)",
                permanent=True,
            )
        return OAuthClient(
            LINKEDIN_INSTANCE, redirect_uri, {"client_id": client_id, "client_secret": client_secret}
        )

    def oauth_authorize_url(self, client: OAuthClient, *, state: str) -> str:
        params = {
            "response_type": "code",
            "client_id": client.credentials.get("client_id", ""),
            "redirect_uri": client.redirect_uri,
            "state": state,
            "scope": " ".join(api.SCOPES),
        }
        return f"{api.AUTH_URL}?{urlencode(params)}"

    def oauth_exchange(self, client: OAuthClient, *, code: str) -> OAuthGrant:
        if not code:
            raise ConnectorError("LinkedIn sent no authorisation code (was access denied?)", permanent=True)
        body = api.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": client.redirect_uri,
                "client_id": client.credentials.get("client_id", ""),
                "client_secret": client.credentials.get("client_secret", ""),
            }
        )
        now = utcnow()
        credentials = {
            "access_token": str(body["access_token"]),
            "expires_at": (now + dt.timedelta(seconds=int(body.get("expires_in") or 0))).isoformat(),
            "client_id": client.credentials.get("client_id", ""),
            "client_secret": client.credentials.get("client_secret", ""),
        }
        if body.get("refresh_token"):
            credentials["refresh_token"] = str(body["refresh_token"])
        session = api.Session(0, credentials, version=api.DEFAULT_VERSION, timeout=20.0)
        acls = session.get_json(
            "find the pages the member administers",
            "/organizationAcls",
            raw_query="q=roleAssignee&role=ADMINISTRATOR&state=APPROVED",
        )
        orgs = [
            str(e.get("organization"))
            for e in _elements(acls)
            if isinstance(e, Mapping) and _ORG_RE.match(str(e.get("organization") or ""))
        ]
        wanted = os.environ.get("DANDELION_LINKEDIN_ORGANIZATION", "")
        if wanted:
            orgs = [o for o in orgs if o == wanted or o.rsplit(":", 1)[-1] == wanted]
        if not orgs:
            raise ConnectorError(
                "this LinkedIn member administers no organisation page (or not the one asked for)",
                permanent=True,
            )
        org = orgs[0]
        info = session.get_json("read the organisation", f"/organizations/{org.rsplit(':', 1)[-1]}")
        vanity = clean_text(info.get("vanityName") if isinstance(info, Mapping) else "", 100)
        name = clean_text(info.get("localizedName") if isinstance(info, Mapping) else "", 200)
        expires = now + dt.timedelta(
            seconds=int(body.get("refresh_token_expires_in") or body.get("expires_in") or 0)
        )
        return OAuthGrant(
            external_id=org,
            handle=vanity or org.rsplit(":", 1)[-1],
            credentials=credentials,
            display_name=name,
            url=f"https://www.linkedin.com/company/{vanity or org.rsplit(':', 1)[-1]}/",
            expires_at=expires,
        )

    # --- inbound --------------------------------------------------------------------------------------------------
    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        events = list(self.poll_cursor(account, None).events)
        return [e for e in events if since is None or e.created_at > since]

    def _latest_posts(self, session: api.Session, org: str, count: int) -> list[str]:
        body = session.get_json(
            "list the organisation's posts",
            "/posts",
            raw_query=f"author={api.urn(org)}&q=author&count={count}&sortBy=LAST_MODIFIED",
        )
        return [
            str(p["id"])
            for p in _elements(body)
            if isinstance(p, Mapping) and isinstance(p.get("id"), str) and _POST_RE.match(p["id"])
        ]

    def poll_cursor(self, account: AccountRef, cursor: Mapping[str, Any] | None) -> PollResult:
        config = self.validate_config(account.config)
        org = self._org(account)
        session = self.session(account)
        state = dict(cursor or {})
        watermark = _ms(state.get("since_ms")) if state.get("since_ms") is not None else None
        seen = {str(i) for i in state.get("seen") or []}
        rejected: list[RejectedItem] = []
        raw: list[tuple[str, Any]] = []
        more = False
        for post in self._latest_posts(session, org, config["posts_watched"]):
            start = 0
            for page in range(config["max_pages"]):
                body = session.get_json(
                    "read the post's comments",
                    f"/socialActions/{api.urn(post)}/comments",
                    params={"start": start, "count": config["page_size"]},
                )
                elements = _elements(body)
                raw += [(post, e) for e in elements]
                paging = body.get("paging") if isinstance(body, Mapping) else None
                total = _count(paging.get("total")) if isinstance(paging, Mapping) else None
                start += len(elements)
                if not elements or total is None or start >= total:
                    break
                if page == config["max_pages"] - 1:
                    more = True
        now = utcnow()
        events: list[InboundEvent] = []
        for post, element in raw:
            try:
                event = self.event_from_comment(element, post=post, org=org, now=now)
            except (ValueError, TypeError) as exc:
                ref = element.get("commentUrn") if isinstance(element, Mapping) else None
                rejected.append(rejected_item(f"comment {ref}", exc, element))
                continue
            if event.external_id in seen:
                continue
            if watermark is not None and event.created_at < watermark:
                continue
            events.append(event)
        good, bad_items = partition_rejecting(events, refs=[e.external_id for e in events], prefix="comments")
        rejected += bad_items
        good.sort(key=lambda e: e.created_at)
        newest = max((e.created_at for e in good), default=watermark)
        # comments at (or a little before) the watermark: remember their ids, LinkedIn's clocks are per comment
        floor = newest - dt.timedelta(minutes=10) if newest else None
        recent = {e.external_id for e in good if floor is not None and e.created_at >= floor}
        seen_now = sorted(recent | (seen if newest == watermark else set()))[-SEEN_KEEP:]
        return PollResult(
            events=good,
            rejected=rejected,
            more=more,
            cursor={"since_ms": int(newest.timestamp() * 1000) if newest else None, "seen": seen_now},
        )

    @staticmethod
    def event_from_comment(element: Any, *, post: str, org: str, now: dt.datetime) -> InboundEvent:
        """An ``InboundEvent`` from a comment of ``socialActions/{post}/comments``."""
        if not isinstance(element, Mapping):
            raise TypeError("a comment that is not an object")
        comment_urn = element.get("commentUrn")
        if not isinstance(comment_urn, str) or not _COMMENT_RE.match(comment_urn):
            raise ValueError("a comment without a valid commentUrn")
        actor = element.get("actor")
        if not isinstance(actor, str) or not actor.startswith("urn:li:"):
            raise ValueError("a comment without its actor")
        message = element.get("message")
        text = clean_text(message.get("text") if isinstance(message, Mapping) else "")
        created = element.get("created")
        parent = element.get("parentComment")
        parent = parent if isinstance(parent, str) and _COMMENT_RE.match(parent) else None
        return InboundEvent(
            external_id=bounded_id(comment_urn),
            kind="reply" if parent else "comment",
            text=text,
            created_at=clamp_date(
                _ms(created.get("time") if isinstance(created, Mapping) else None), now=now
            ),
            author=InboundAuthor(external_id=bounded_id(actor)),
            in_reply_to=parent or post,
            from_account=actor == org,
            raw={"commentUrn": comment_urn, "post": post, "actor": actor},
        )

    # --- outbound -------------------------------------------------------------------------------------------------
    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        if reply.kind == "dm":
            raise ConnectorError(
                "LinkedIn organisation pages cannot send direct messages through the API", permanent=True
            )
        org = self._org(account)
        target = reply.in_reply_to or ""
        text = reply.text.strip()
        if not text or len(text) > MAX_COMMENT_CHARS:
            raise ConnectorError(
                f"a LinkedIn comment holds 1 to {MAX_COMMENT_CHARS} characters", permanent=True
            )
        comment = _COMMENT_RE.match(target)
        if comment:
            body: dict[str, Any] = {
                "actor": org,
                "object": comment.group(1),
                "parentComment": target,
                "message": {"text": text},
            }
        elif _POST_RE.match(target):
            body = {"actor": org, "object": target, "message": {"text": text}}
        else:
            raise ConnectorError(f"{target!r} is not a LinkedIn post or comment URN", permanent=True)
        response = self.session(account).request(
            "comment as the organisation", "POST", f"/socialActions/{api.urn(target)}/comments", json=body
        )
        made: Any = {}
        try:
            made = response.json()
        except ValueError:
            made = {}
        external_id = (made.get("commentUrn") if isinstance(made, Mapping) else None) or response.headers.get(
            "x-restli-id", ""
        )
        if not external_id:
            raise ConnectorError("LinkedIn accepted the comment but returned no id")
        created = made.get("created") if isinstance(made, Mapping) else None
        return SentMessage(
            external_id=str(external_id),
            sent_at=clamp_date(
                _ms(created.get("time") if isinstance(created, Mapping) else None), now=utcnow()
            ),
        )

    def _upload_image(self, session: api.Session, org: str, url: str, timeout: float) -> str:
        try:
            with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as got:
                if got.status_code != 200:
                    raise ConnectorError(
                        f"the image {url} answered HTTP {got.status_code}",
                        permanent=got.status_code in (403, 404, 410),
                    )
                data = b""
                for chunk in got.iter_bytes():
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise ConnectorError("the image is larger than LinkedIn accepts", permanent=True)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"cannot download the image ({str(exc)[:200]})") from exc
        init = session.request(
            "start the image upload",
            "POST",
            "/images",
            raw_query="action=initializeUpload",
            json={"initializeUploadRequest": {"owner": org}},
        ).json()
        value = init.get("value") if isinstance(init, Mapping) else None
        if not isinstance(value, Mapping) or not value.get("uploadUrl") or not value.get("image"):
            raise ConnectorError("LinkedIn gave no upload URL for the image")
        try:
            put = httpx.put(
                str(value["uploadUrl"]),
                content=data,
                timeout=timeout,
                headers={"Authorization": f"Bearer {session._token()}"},
            )
        except httpx.HTTPError as exc:
            raise ConnectorError(f"cannot upload the image to LinkedIn ({str(exc)[:200]})") from exc
        api.check(put, "upload the image")
        return str(value["image"])

    def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
        org = self._org(account)
        config = self.validate_config(account.config)
        text = post.text.strip()
        if len(text) > MAX_POST_CHARS:
            raise ConnectorError(f"a LinkedIn post holds at most {MAX_POST_CHARS} characters", permanent=True)
        if len(post.media_urls) > 1:
            raise ConnectorError("Dandelion publishes one image per LinkedIn post", permanent=True)
        session = self.session(account)
        body: dict[str, Any] = {
            "author": org,
            "commentary": text,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if post.media_urls:
            image = self._upload_image(session, org, post.media_urls[0], config["timeout_s"])
            alt = post.alt_texts[0] if post.alt_texts else ""
            body["content"] = {"media": {"id": image, "altText": clean_text(alt, 4086)}}
        elif post.link:
            body["content"] = {
                "article": {
                    "source": post.link,
                    "title": clean_text(text.split("\n", 1)[0], 200) or post.link,
                }
            }
        if not text and "content" not in body:
            raise ConnectorError("an empty LinkedIn post", permanent=True)
        response = session.request("publish the post", "POST", "/posts", json=body)
        external_id = response.headers.get("x-restli-id", "")
        if not external_id:
            raise ConnectorError("LinkedIn accepted the post but returned no id")
        return SentMessage(
            external_id=external_id,
            sent_at=utcnow(),
            url=f"https://www.linkedin.com/feed/update/{external_id}/",
        )

    def delete_post(self, account: AccountRef, external_id: str) -> None:
        if not _POST_RE.match(external_id):
            raise ConnectorError(f"{external_id!r} is not a LinkedIn post URN", permanent=True)
        self.session(account).request("delete the post", "DELETE", f"/posts/{api.urn(external_id)}")

    # --- moderation -----------------------------------------------------------------------------------------------
    def hide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return ModerationResult(
            "hide",
            external_id,
            utcnow(),
            "hidden in Dandelion only: LinkedIn offers organisations no way to hide a comment",
        )

    def unhide(self, account: AccountRef, external_id: str) -> ModerationResult:
        return ModerationResult(
            "unhide", external_id, utcnow(), "shown again in Dandelion (nothing on LinkedIn)"
        )

    def delete(self, account: AccountRef, external_id: str) -> ModerationResult:
        org = self._org(account)
        match = _COMMENT_RE.match(external_id)
        if not match:
            raise ConnectorError(f"{external_id!r} is not a LinkedIn comment URN", permanent=True)
        self.session(account).request(
            "delete the comment",
            "DELETE",
            f"/socialActions/{api.urn(match.group(1))}/comments/{match.group(2)}",
            raw_query=f"actor={api.urn(org)}",
        )
        return ModerationResult("delete", external_id, utcnow(), "deleted on LinkedIn")

    def ban_author(self, account: AccountRef, author_external_id: str) -> ModerationResult:
        raise ConnectorError("LinkedIn offers organisation pages no way to block a member", permanent=True)

    # --- metrics --------------------------------------------------------------------------------------------------
    def fetch_metrics(self, account: AccountRef) -> AccountMetrics:
        org = self._org(account)
        body = self.session(account).get_json(
            "read the follower count",
            f"/networkSizes/{api.urn(org)}",
            raw_query="edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        )
        followers = _count(body.get("firstDegreeSize")) if isinstance(body, Mapping) else None
        return AccountMetrics(collected_at=utcnow(), followers=followers)

    def post_metrics(self, account: AccountRef, external_id: str) -> dict[str, int]:
        """Social action counts of one of the organisation's posts: likes, comments (first level and all)."""
        if not _POST_RE.match(external_id):
            raise ConnectorError(f"{external_id!r} is not a LinkedIn post URN", permanent=True)
        body = self.session(account).get_json(
            "read the post's social actions", f"/socialActions/{api.urn(external_id)}"
        )
        likes = body.get("likesSummary") if isinstance(body, Mapping) else None
        comments = body.get("commentsSummary") if isinstance(body, Mapping) else None
        likes = likes if isinstance(likes, Mapping) else {}
        comments = comments if isinstance(comments, Mapping) else {}
        return {
            "likes": _count(likes.get("totalLikes")) or 0,
            "comments": _count(comments.get("aggregatedTotalComments")) or 0,
            "first_level_comments": _count(comments.get("totalFirstLevelComments")) or 0,
        }

    def fetch_post_metrics(self, account: AccountRef, external_ids: Sequence[str]) -> list[PostMetrics]:
        """``PostMetricsConnector``: each post's social actions (likes, all comments as replies); LinkedIn's API
        gives no reshare count here. A post LinkedIn no longer has (HTTP 404 or 410) is left out."""
        def read(external_id: str) -> PostMetrics:
            found = self.post_metrics(account, external_id)
            return PostMetrics(external_id=external_id, collected_at=utcnow(), likes=found["likes"],
                               replies=found["comments"])

        return post_metrics_each(external_ids, read,
                                 gone=lambda exc: "(HTTP 404" in str(exc) or "(HTTP 410" in str(exc))

    # --- check ----------------------------------------------------------------------------------------------------
    def check(self, account: AccountRef) -> list[CheckResult]:
        try:
            config = self.validate_config(account.config)
            org = self._org(account)
        except ConnectorError as exc:
            return [CheckResult("config", False, str(exc))]
        results = [CheckResult("config", True, f"valid (LinkedIn-Version {config['api_version']})")]
        try:
            acls = self.session(account).get_json(
                "find the pages the member administers",
                "/organizationAcls",
                raw_query="q=roleAssignee&role=ADMINISTRATOR&state=APPROVED",
            )
        except ConnectorError as exc:
            return [*results, CheckResult("token", False, f"{exc}{' (permanent)' if exc.permanent else ''}")]
        admin = any(isinstance(e, Mapping) and e.get("organization") == org for e in _elements(acls))
        results.append(CheckResult("token", True, "accepted"))
        results.append(
            CheckResult("administrator", admin, org if admin else f"the member does not administer {org}")
        )
        return results
