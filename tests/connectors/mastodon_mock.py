"""A MOCK Mastodon instance: a small, stateful, in-memory HTTP server implementing the subset of Mastodon's REST API
the ``mastodon`` connector uses. It is NOT Mastodon: no real Mastodon (Rails + PostgreSQL + Redis + Sidekiq) can be
installed on the test machines, so the connector is driven through ``Mastodon.py`` against this mock, and
``test_mastodon_contract.py`` keeps the mock's JSON honest against responses recorded from a real Mastodon server
(the cassettes shipped in Mastodon.py's source distribution) and against Mastodon.py's entity definitions.

Entities are shaped like Mastodon 4.x's (docs.joinmastodon.org/entities: Account, CredentialAccount, Status,
Notification, Conversation, Relationship, Report, MediaAttachment, Application); ids are numeric strings, dates ISO
8601 with milliseconds and ``Z``; lists are paged with ``max_id`` / ``min_id`` / ``since_id`` / ``limit`` and a
``Link`` header. Every answer carries ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``; a spent budget answers
429 ``{"error": "Too many requests"}``. Faults are injected with ``fail_next`` (status, body, count) and
``revoke_token`` (401 ``The access token was revoked``).

Endpoints: ``/.well-known/oauth-authorization-server``, ``POST /api/v1/apps``, ``GET /oauth/authorize`` (the
"consent" of ``authorize_as``: 302 to the redirect URI with ``code`` and ``state``), ``POST /oauth/token``,
``POST /oauth/revoke``, ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id``,
``POST /api/v1/accounts/:id/{block,mute}``, ``GET /api/v1/notifications``, ``GET /api/v1/conversations``,
``GET|DELETE /api/v1/statuses/:id``, ``POST /api/v1/statuses`` (with ``Idempotency-Key``), ``POST /api/v2/media``,
``GET /api/v1/media/:id``, ``GET /api/v1/timelines/tag/:tag``, ``GET /api/v2/search``, ``POST /api/v1/reports``,
and ``GET /files/<name>`` for files a test registers (images to publish).
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import html
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9.:-]+))?")
TAG_RE = re.compile(r"(?<![\w#])#(\w+)")


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def id_key(value: str) -> tuple[int, str]:
    return (len(value), value)


@dataclass
class MockAccount:
    id: str
    username: str
    display_name: str = ""
    followers_count: int = 0
    following_count: int = 0
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


@dataclass
class Fault:
    status: int
    body: dict[str, Any]
    count: int
    path_prefix: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class MastodonMock:
    """The mock instance's state and its HTTP server (``start()`` / ``stop()``; ``url`` once started)."""

    def __init__(self, *, rate_limit: int = 300, window_s: int = 300) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, MockAccount] = {}
        self.statuses: dict[str, dict[str, Any]] = {}  # id -> stored status (not the entity)
        self.notifications: dict[str, dict[str, Any]] = {}  # id -> {"to", "type", "from", "status", "at"}
        self.conversations: dict[str, dict[str, Any]] = {}  # id -> {"viewer", "participants", "last", "unread"}
        self.apps: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, tuple[str, str, str]] = {}  # code -> (client_id, account id, redirect_uri)
        self.tokens: dict[str, str] = {}  # token -> account id
        self.revoked: set[str] = set()
        self.relationships: dict[tuple[str, str], dict[str, bool]] = {}
        self.reports: list[dict[str, Any]] = []
        self.media: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.rate_limit, self.window_s = rate_limit, window_s
        self.budget: dict[str, tuple[int, float]] = {}  # token -> (remaining, reset epoch)
        self.authorize_as: str | None = None
        self._snowflake = itertools.count(int(time.time() * 1000) << 16)
        self._small = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> MastodonMock:
        mock = self

        class Handler(self.handler_base()):  # type: ignore[misc]
            state = mock

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @staticmethod
    def handler_base() -> type:
        """The request handler class (a subclass adds routes: ``mastodon_stream_mock``)."""
        return _Handler

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    # --- test set-up ----------------------------------------------------------------------------------------------
    def new_id(self) -> str:
        return str(next(self._snowflake))

    def account(self, username: str, display_name: str = "", *, followers: int = 0) -> MockAccount:
        with self.lock:
            acc = MockAccount(self.new_id(), username, display_name, followers_count=followers)
            self.accounts[acc.id] = acc
            return acc

    def token_for(self, account: MockAccount) -> str:
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = account.id
        return token

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.revoked.add(token)

    def fail_next(self, status: int, body: dict[str, Any] | None = None, *, count: int = 1, path_prefix: str = "",
                  headers: dict[str, str] | None = None) -> None:
        with self.lock:
            self.faults.append(Fault(status, body or {"error": f"injected {status}"}, count, path_prefix,
                                     headers or {}))

    def spend_budget(self, token: str, *, remaining: int = 0, reset_in_s: float = 120) -> None:
        with self.lock:
            self.budget[token] = (remaining, time.time() + reset_in_s)

    def post(self, author: MockAccount, text: str, *, visibility: str = "public", in_reply_to: str | None = None,
             created_at: dt.datetime | None = None) -> dict[str, Any]:
        """``author`` posts ``text`` (as the web UI would): the Status entity as its author sees it."""
        with self.lock:
            status = self._create_status(author.id, {"status": text, "visibility": visibility,
                                                     "in_reply_to_id": in_reply_to}, created_at=created_at)
            return self.status_entity(status, author.id)

    # --- entities -------------------------------------------------------------------------------------------------
    def account_entity(self, acc: MockAccount) -> dict[str, Any]:
        own = [s for s in self.statuses.values() if s["account"] == acc.id]
        last = max((s["created_at"] for s in own), default=None)
        base = self.url
        return {
            "id": acc.id, "username": acc.username, "acct": acc.username, "display_name": acc.display_name,
            "locked": False, "bot": False, "discoverable": True, "indexable": False, "group": False,
            "created_at": iso(acc.created_at), "note": "", "url": f"{base}/@{acc.username}",
            "uri": f"{base}/ap/users/{acc.id}", "avatar": f"{base}/avatars/original/missing.png",
            "avatar_static": f"{base}/avatars/original/missing.png", "avatar_description": "",
            "header": f"{base}/headers/original/missing.png", "header_static": f"{base}/headers/original/missing.png",
            "header_description": "", "followers_count": acc.followers_count,
            "following_count": acc.following_count, "statuses_count": len(own),
            "last_status_at": last.date().isoformat() if last else None, "hide_collections": None,
            "show_media": True, "show_media_replies": True, "show_featured": True, "noindex": False,
            "feature_approval": {"automatic": [], "manual": [], "current_user": "denied"},
            "emojis": [], "roles": [], "fields": [],
        }

    def credential_account_entity(self, acc: MockAccount) -> dict[str, Any]:
        entity = self.account_entity(acc)
        entity["source"] = {"privacy": "public", "sensitive": False, "language": None, "note": "", "fields": [],
                            "follow_requests_count": 0, "hide_collections": None, "discoverable": True,
                            "indexable": False, "attribution_domains": [], "quote_policy": "public"}
        entity["role"] = {"id": "-99", "name": "", "permissions": "65536", "color": "", "highlighted": False}
        return entity

    def status_entity(self, status: dict[str, Any], viewer: str | None) -> dict[str, Any]:
        author = self.accounts[status["account"]]
        base = self.url
        mentions = [self.accounts[i] for i in status["mentions"]]
        return {
            "id": status["id"], "created_at": iso(status["created_at"]),
            "in_reply_to_id": status["in_reply_to_id"], "in_reply_to_account_id": status["in_reply_to_account_id"],
            "sensitive": False, "spoiler_text": status["spoiler_text"], "visibility": status["visibility"],
            "language": status["language"], "uri": f"{base}/ap/users/{author.id}/statuses/{status['id']}",
            "url": f"{base}/@{author.username}/{status['id']}",
            "replies_count": sum(1 for s in self.statuses.values() if s["in_reply_to_id"] == status["id"]),
            "reblogs_count": status.get("reblogs", 0), "favourites_count": status["favourites"],
            "quotes_count": status.get("quotes", 0), "edited_at": None,
            "favourited": False, "reblogged": False, "muted": False, "bookmarked": False, "pinned": False,
            "content": status["content"], "filtered": [], "reblog": None,
            "application": {"name": status["application"], "website": None},
            "account": self.account_entity(author),
            "media_attachments": [self.media[m] for m in status["media_ids"]],
            "mentions": [{"id": m.id, "username": m.username, "url": f"{base}/@{m.username}", "acct": m.username}
                         for m in mentions],
            "tags": [{"name": t, "url": f"{base}/tags/{t}"} for t in status["tags"]],
            "emojis": [], "tagged_collections": [], "quote": None, "card": None, "poll": None,
            "quote_approval": {"automatic": ["public"], "manual": [], "current_user": "automatic"},
        }

    def notification_entity(self, notification: dict[str, Any]) -> dict[str, Any]:
        return {"id": notification["id"], "type": notification["type"], "created_at": iso(notification["at"]),
                "group_key": f"ungrouped-{notification['id']}",
                "account": self.account_entity(self.accounts[notification["from"]]),
                "status": self.status_entity(self.statuses[notification["status"]], notification["to"])}

    def conversation_entity(self, conversation: dict[str, Any]) -> dict[str, Any]:
        return {"id": conversation["id"], "unread": conversation["unread"],
                "accounts": [self.account_entity(self.accounts[a]) for a in conversation["participants"]
                             if a != conversation["viewer"]],
                "last_status": self.status_entity(self.statuses[conversation["last"]], conversation["viewer"])}

    def relationship_entity(self, viewer: str, target: str) -> dict[str, Any]:
        rel = self.relationships.get((viewer, target), {})
        return {"id": target, "following": False, "showing_reblogs": False, "notifying": False, "languages": None,
                "followed_by": False, "blocking": rel.get("blocking", False), "blocked_by": False,
                "muting": rel.get("muting", False), "muting_notifications": rel.get("muting_notifications", False),
                "muting_expires_at": None, "requested": False, "requested_by": False, "domain_blocking": False,
                "endorsed": False, "note": ""}

    # --- behaviour ------------------------------------------------------------------------------------------------
    def visible_to(self, status: dict[str, Any], viewer: str | None) -> bool:
        if status["visibility"] in ("public", "unlisted"):
            return True
        if viewer is None:
            return False
        return viewer == status["account"] or viewer in status["mentions"]

    def _resolve(self, username: str, domain: str | None) -> MockAccount | None:
        if domain and domain != self.host:
            return None
        return next((a for a in self.accounts.values() if a.username.lower() == username.lower()), None)

    def _create_status(self, author: str, params: dict[str, Any], *, created_at: dt.datetime | None = None,
                       application: str = "Web") -> dict[str, Any]:
        text = str(params.get("status") or "")
        visibility = params.get("visibility") or "public"
        parent_id = params.get("in_reply_to_id") or None
        parent = self.statuses.get(parent_id) if parent_id else None
        mentioned: list[str] = []
        pieces, last = [], 0
        for match in MENTION_RE.finditer(text):
            acc = self._resolve(match.group(1), match.group(2))
            pieces.append(html.escape(text[last:match.start()]))
            if acc is not None:
                if acc.id not in mentioned:
                    mentioned.append(acc.id)
                pieces.append(f'<span class="h-card" translate="no"><a href="{self.url}/@{acc.username}" '
                              f'class="u-url mention">@<span>{acc.username}</span></a></span>')
            else:
                pieces.append(html.escape(match.group(0)))
            last = match.end()
        pieces.append(html.escape(text[last:]))
        body = "".join(pieces)
        content = "".join(f"<p>{para.replace(chr(10), '<br />')}</p>" for para in body.split("\n\n"))
        status = {"id": self.new_id(), "account": author, "created_at": created_at or dt.datetime.now(dt.UTC),
                  "visibility": visibility, "in_reply_to_id": parent["id"] if parent else None,
                  "in_reply_to_account_id": parent["account"] if parent else None, "content": content,
                  "text": text, "spoiler_text": str(params.get("spoiler_text") or ""),
                  "language": params.get("language") or "en", "mentions": mentioned,
                  "tags": [t.lower() for t in TAG_RE.findall(text)], "media_ids": list(params.get("media_ids") or []),
                  "favourites": 0, "application": application}
        self.statuses[status["id"]] = status
        for target in mentioned:
            if target == author or self.relationships.get((target, author), {}).get("blocking"):
                continue
            nid = str(next(self._small))
            self.notifications[nid] = {"id": nid, "to": target, "type": "mention", "from": author,
                                       "status": status["id"], "at": status["created_at"]}
        if visibility == "direct":
            participants = sorted({author, *mentioned})
            for viewer in participants:
                conv = next((c for c in self.conversations.values()
                             if c["viewer"] == viewer and c["participants"] == participants), None)
                if conv is None:
                    cid = str(next(self._small))
                    conv = self.conversations[cid] = {"id": cid, "viewer": viewer, "participants": participants}
                conv["last"], conv["unread"] = status["id"], viewer != author
        return status


def _page(items: list[Any], key, query: dict[str, list[str]], *, default: int = 20, maximum: int = 40
          ) -> tuple[list[Any], dict[str, str]]:
    """Mastodon's id pagination: newest first; ``min_id`` gives the page just after it (oldest of the newer)."""
    def one(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values and values[0] else None

    try:
        limit = max(1, min(int(one("limit") or default), maximum))
    except ValueError:
        limit = default
    items = sorted(items, key=lambda i: id_key(key(i)), reverse=True)
    if one("max_id"):
        items = [i for i in items if id_key(key(i)) < id_key(one("max_id") or "")]
    if one("since_id"):
        items = [i for i in items if id_key(key(i)) > id_key(one("since_id") or "")]
    if one("min_id"):
        newer = [i for i in items if id_key(key(i)) > id_key(one("min_id") or "")]
        items = newer[-limit:]
    else:
        items = items[:limit]
    links: dict[str, str] = {}
    if items:
        links = {"next": key(items[-1]), "prev": key(items[0])}
    return items, links


class _Handler(BaseHTTPRequestHandler):
    state: MastodonMock
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        return

    # --- plumbing -------------------------------------------------------------------------------------------------
    def _send(self, status: int, payload: Any = None, *, headers: dict[str, str] | None = None,
              raw: bytes | None = None, content_type: str = "application/json; charset=utf-8") -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _params(self) -> tuple[dict[str, list[str]], dict[str, Any]]:
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type") or ""
        form: dict[str, Any] = {}
        if ctype.startswith("application/json") and raw:
            form = json.loads(raw)
        elif ctype.startswith("multipart/form-data"):
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if part.get_filename():
                    form[name] = {"filename": part.get_filename(), "data": part.get_payload(decode=True),
                                  "type": part.get_content_type()}
                else:
                    form[name] = part.get_content()
        elif raw:
            for name, values in parse_qs(raw.decode(), keep_blank_values=True).items():
                if name.endswith("[]"):
                    form[name[:-2]] = values
                else:
                    form[name] = values[0]
        return query, form

    def _link(self, path: str, links: dict[str, str], query: dict[str, list[str]]) -> dict[str, str]:
        if not links:
            return {}
        keep = {k: v for k, v in query.items() if k not in ("max_id", "min_id", "since_id")}
        def url(name: str, value: str) -> str:
            return f"{self.state.url}{path}?{urlencode({**keep, name: value}, doseq=True)}"
        return {"Link": f'<{url("max_id", links["next"])}>; rel="next", <{url("min_id", links["prev"])}>; '
                        f'rel="prev"'}

    def _rate(self, token: str | None) -> tuple[bool, dict[str, str]]:
        key = token or self.client_address[0]
        now = time.time()
        with self.state.lock:
            remaining, reset = self.state.budget.get(key, (self.state.rate_limit, now + self.state.window_s))
            if reset <= now:
                remaining, reset = self.state.rate_limit, now + self.state.window_s
            remaining -= 1
            self.state.budget[key] = (max(remaining, -1), reset)
        headers = {"X-RateLimit-Limit": str(self.state.rate_limit), "X-RateLimit-Remaining": str(max(remaining, 0)),
                   "X-RateLimit-Reset": dt.datetime.fromtimestamp(reset, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        return remaining >= 0, headers

    def _handle(self, method: str) -> None:
        state = self.state
        path = urlsplit(self.path).path.rstrip("/") or "/"
        query, form = self._params()
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else None
        with state.lock:
            state.requests.append((method, path))
            fault = next((f for f in state.faults if path.startswith(f.path_prefix)), None)
            if fault is not None:
                fault.count -= 1
                if fault.count <= 0:
                    state.faults.remove(fault)
        if fault is not None:
            self._send(fault.status, fault.body, headers=fault.headers)
            return
        if path.startswith("/files/"):
            found = state.files.get(path[len("/files/"):])
            if found is None:
                self._send(404, {"error": "Record not found"})
            else:
                self._send(200, raw=found[0], content_type=found[1])
            return
        allowed, rate_headers = self._rate(token)
        if not allowed:
            self._send(429, {"error": "Too many requests"}, headers=rate_headers)
            return
        viewer: str | None = None
        if token is not None:
            with state.lock:
                if token in state.revoked or token not in state.tokens:
                    self._send(401, {"error": "The access token was revoked" if token in state.revoked
                                     else "The access token is invalid"}, headers=rate_headers)
                    return
                viewer = state.tokens[token]
        try:
            with state.lock:
                status, payload, extra = self._route(method, path, query, form, viewer, token)
        except _NotFound:
            status, payload, extra = 404, {"error": "Record not found"}, {}
        except _Unauthorized:
            status, payload, extra = 401, {"error": "The access token is invalid"}, {}
        except _Unprocessable as exc:
            status, payload, extra = 422, {"error": f"Validation failed: {exc}"}, {}
        if isinstance(payload, tuple):  # a redirect
            self._send(status, {}, headers={**rate_headers, "Location": payload[0]})
            return
        self._send(status, payload, headers={**rate_headers, **extra})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    # --- routes ---------------------------------------------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, Any], viewer: str | None,
               token: str | None) -> tuple[int, Any, dict[str, str]]:
        s = self.state
        base = s.url
        if method == "GET" and path == "/.well-known/oauth-authorization-server":
            return 200, {"issuer": f"{base}/", "authorization_endpoint": f"{base}/oauth/authorize",
                         "token_endpoint": f"{base}/oauth/token", "revocation_endpoint": f"{base}/oauth/revoke",
                         "scopes_supported": ["read", "write", "write:statuses", "write:media", "write:mutes",
                                              "write:blocks", "write:reports", "write:conversations", "follow",
                                              "push"],
                         "response_types_supported": ["code"], "grant_types_supported":
                             ["authorization_code", "client_credentials"],
                         "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                         "code_challenge_methods_supported": ["S256"]}, {}
        if method == "POST" and path == "/api/v1/apps":
            client_id, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            scopes = str(form.get("scopes") or "read").split()
            redirect = str(form.get("redirect_uris") or "urn:ietf:wg:oauth:2.0:oob")
            app = {"id": str(next(s._small)), "name": form.get("client_name") or "", "website":
                   form.get("website") or None, "scopes": scopes, "redirect_uris": redirect.split(),
                   "vapid_key": "BJGht7R8h9FMwI4oZFyjwGx9_RmR0ylu5", "redirect_uri": redirect, "client_id": client_id,
                   "client_secret": secret, "client_secret_expires_at": 0}
            s.apps[client_id] = app
            return 200, app, {}
        if method == "GET" and path == "/oauth/authorize":
            one = {k: v[0] for k, v in query.items()}
            app = s.apps.get(one.get("client_id", ""))
            if app is None or one.get("redirect_uri") not in app["redirect_uris"] or s.authorize_as is None:
                return 400, {"error": "invalid_request"}, {}
            if not set(one.get("scope", "").split()) <= set(app["scopes"]):
                return 400, {"error": "invalid_scope"}, {}
            code = secrets.token_urlsafe(24)
            s.codes[code] = (app["client_id"], s.authorize_as, one["redirect_uri"])
            target = f"{one['redirect_uri']}?{urlencode({'code': code, 'state': one.get('state', '')})}"
            return 302, (target,), {}
        if method == "POST" and path == "/oauth/token":
            app = s.apps.get(str(form.get("client_id") or ""))
            if app is None or form.get("client_secret") != app["client_secret"]:
                return 401, {"error": "invalid_client"}, {}
            grant = s.codes.pop(str(form.get("code") or ""), None)
            if form.get("grant_type") != "authorization_code" or grant is None or grant[0] != app["client_id"] \
                    or grant[2] != form.get("redirect_uri"):
                return 400, {"error": "invalid_grant", "error_description": "The provided authorization grant is "
                             "invalid, expired, revoked, does not match the redirection URI used in the "
                             "authorization request, or was issued to another client."}, {}
            issued = secrets.token_urlsafe(32)
            s.tokens[issued] = grant[1]
            return 200, {"access_token": issued, "token_type": "Bearer", "scope": " ".join(app["scopes"]),
                         "created_at": int(time.time())}, {}
        if method == "POST" and path == "/oauth/revoke":
            if form.get("token"):
                s.revoked.add(str(form["token"]))
            return 200, {}, {}
        if viewer is None:
            raise _Unauthorized
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return 200, s.credential_account_entity(s.accounts[viewer]), {}
        m = re.fullmatch(r"/api/v1/accounts/(\d+)(?:/(block|mute))?", path)
        if m:
            target = s.accounts.get(m.group(1))
            if target is None:
                raise _NotFound
            if m.group(2) is None and method == "GET":
                return 200, s.account_entity(target), {}
            if method == "POST" and m.group(2):
                rel = s.relationships.setdefault((viewer, target.id), {})
                if m.group(2) == "block":
                    rel["blocking"] = True
                else:
                    rel["muting"] = True
                    rel["muting_notifications"] = str(form.get("notifications", "true")).lower() in ("1", "true")
                return 200, s.relationship_entity(viewer, target.id), {}
        if method == "GET" and path == "/api/v1/notifications":
            types = set(query.get("types[]") or [])
            muted = {t for (v, t), rel in s.relationships.items() if v == viewer and
                     (rel.get("muting_notifications") or rel.get("blocking"))}
            mine = [n for n in s.notifications.values() if n["to"] == viewer and (not types or n["type"] in types)
                    and n["from"] not in muted and n["status"] in s.statuses]
            page, links = _page(mine, lambda n: n["id"], query, default=40, maximum=80)
            return 200, [s.notification_entity(n) for n in page], self._link(path, links, query)
        if method == "GET" and path == "/api/v1/conversations":
            mine = [c for c in s.conversations.values() if c["viewer"] == viewer and c["last"] in s.statuses]
            page, links = _page(mine, lambda c: c["last"], query)
            return 200, [s.conversation_entity(c) for c in page], self._link(path, links, query)
        m = re.fullmatch(r"/api/v1/statuses/(\d+)", path)
        if m:
            status = s.statuses.get(m.group(1))
            if status is None or not s.visible_to(status, viewer):
                raise _NotFound
            if method == "GET":
                return 200, s.status_entity(status, viewer), {}
            if method == "DELETE":
                if status["account"] != viewer:
                    raise _NotFound  # Mastodon looks the status up among the caller's own
                entity = s.status_entity(status, viewer)
                entity.pop("content")
                entity["text"] = status["text"]
                del s.statuses[status["id"]]
                return 200, entity, {}
        if method == "POST" and path == "/api/v1/statuses":
            key = self.headers.get("Idempotency-Key")
            if key and (viewer, key) in s.idempotency and s.idempotency[(viewer, key)] in s.statuses:
                return 200, s.status_entity(s.statuses[s.idempotency[(viewer, key)]], viewer), {}
            text = str(form.get("status") or "")
            media_ids = form.get("media_ids") or []
            if isinstance(media_ids, str):
                media_ids = [media_ids]
            if not text.strip() and not media_ids:
                raise _Unprocessable("Text can't be blank")
            if len(text) > 500:
                raise _Unprocessable("Text character limit of 500 exceeded")
            if form.get("visibility") and form["visibility"] not in ("public", "unlisted", "private", "direct"):
                raise _Unprocessable("Visibility is not included in the list")
            parent_id = form.get("in_reply_to_id")
            if parent_id and (parent_id not in s.statuses or not s.visible_to(s.statuses[parent_id], viewer)):
                raise _NotFound
            if any(mid not in s.media for mid in media_ids):
                raise _Unprocessable("media not found")
            status = s._create_status(viewer, {**form, "media_ids": media_ids}, application="Dandelion")
            if key:
                s.idempotency[(viewer, key)] = status["id"]
            return 200, s.status_entity(status, viewer), {}
        if method == "POST" and path == "/api/v2/media":
            upload = form.get("file")
            if not isinstance(upload, dict) or not upload["data"]:
                raise _Unprocessable("File can't be blank")
            mid = s.new_id()
            kind = "image" if upload["type"].startswith("image/") else "unknown"
            s.media[mid] = {"id": mid, "type": kind, "url": f"{base}/system/media/{mid}/original/{upload['filename']}",
                            "preview_url": f"{base}/system/media/{mid}/small/{upload['filename']}", "remote_url": None,
                            "preview_remote_url": None, "text_url": None, "meta": {},
                            "description": form.get("description") or None, "blurhash": None}
            return 200, s.media[mid], {}
        m = re.fullmatch(r"/api/v1/media/(\d+)", path)
        if m and method == "GET":
            if m.group(1) not in s.media:
                raise _NotFound
            return 200, s.media[m.group(1)], {}
        m = re.fullmatch(r"/api/v1/timelines/tag/(\w+)", path)
        if m and method == "GET":
            tagged = [st for st in s.statuses.values() if m.group(1).lower() in st["tags"] and
                      st["visibility"] == "public"]
            page, links = _page(tagged, lambda st: st["id"], query)
            return 200, [s.status_entity(st, viewer) for st in page], self._link(path, links, query)
        if method == "GET" and path == "/api/v2/search":
            q = (query.get("q") or [""])[0].lower()
            offset = int((query.get("offset") or ["0"])[0] or 0)
            limit = int((query.get("limit") or ["20"])[0] or 20)
            found = sorted((st for st in s.statuses.values() if q and q in st["text"].lower()
                            and st["visibility"] == "public"), key=lambda st: id_key(st["id"]), reverse=True)
            return 200, {"accounts": [], "statuses": [s.status_entity(st, viewer)
                                                      for st in found[offset:offset + limit]],
                         "hashtags": [], "collections": []}, {}
        if method == "POST" and path == "/api/v1/reports":
            target = s.accounts.get(str(form.get("account_id") or ""))
            if target is None:
                raise _NotFound
            status_ids = form.get("status_ids") or []
            if isinstance(status_ids, str):
                status_ids = [status_ids]
            report = {"id": str(len(s.reports) + 1), "action_taken": False, "action_taken_at": None,
                      "category": form.get("category") or "other", "comment": form.get("comment") or "",
                      "forwarded": str(form.get("forward", "false")).lower() in ("1", "true"),
                      "created_at": iso(dt.datetime.now(dt.UTC)), "status_ids": list(status_ids), "rule_ids": None,
                      "collection_ids": [], "target_account": s.account_entity(target)}
            s.reports.append({**report, "by": viewer})
            return 200, report, {}
        raise _NotFound


class _NotFound(Exception):
    pass


class _Unauthorized(Exception):
    pass


class _Unprocessable(Exception):
    pass


# --- pytest fixtures (import them into a test module) --------------------------------------------------------------

try:
    import pytest
except ImportError:  # pragma: no cover - the bench runs without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def mastodon_mock():
        """A fresh MOCK Mastodon instance per test (it is not Mastodon: see this module's docstring)."""
        mock = MastodonMock().start()
        yield mock
        mock.stop()
