"""Bluesky sessions and errors: one logged-in ``atproto.Client`` per account and process, the network's rate-limit
headers watched on every answer, and the SDK's exceptions mapped onto ``ConnectorError``.

Sessions: the first call for an account logs in with its handle and app password (``com.atproto.server.
createSession``) and keeps the client in this process, keyed by the account and a digest of what it logged in with
(new credentials: a new session). The SDK refreshes the access token itself before it expires
(``refreshSession``); when the refresh token is refused too (expired, or the session was revoked) the connector
logs in again once; when the login itself is refused (the app password was revoked or is wrong, the account was
taken down or deactivated) the error is permanent and shows on the account's health. Sessions are not persisted:
a worker restart costs one login per account (Bluesky allows 30 logins per 5 minutes per account).

Rate limits: every answer's ``ratelimit-remaining`` / ``ratelimit-reset`` headers are recorded on the session; when
the window is spent, the next call is not made and a transient error with ``retry_after`` (the seconds to the reset)
is raised instead, so the polling job and the reply/moderation jobs back off exactly as long as the network asked.
A 429 answer does the same with its ``ratelimit-reset`` or ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from atproto import Client
from atproto_client import exceptions as atx
from atproto_client.request import Request
from atproto_server.exceptions import InvalidTokenError

from dandelion.connectors.errors import ConnectorError

T = TypeVar("T")

#: XRPC error names that mean the account itself cannot be used: permanent, shown on its health.
ACCOUNT_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "AccountSuspended", "AuthFactorTokenRequired",
                            "InvalidIdentifier"})
#: XRPC error names that mean the session is no longer valid: log in again.
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"})
#: Refuse to wait longer than this for a rate-limit window (a broken header).
MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass
class RateWindow:
    """What the network's last answer said about the caller's budget."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds
    policy: str | None = None

    def update(self, headers: Mapping[str, str]) -> None:
        def num(name: str) -> int | None:
            try:
                return int(headers[name])
            except (KeyError, TypeError, ValueError):
                return None

        if "ratelimit-remaining" not in headers:
            return
        self.limit, self.remaining, self.reset_at = num("ratelimit-limit"), num("ratelimit-remaining"), None
        reset = num("ratelimit-reset")
        if reset is not None:
            self.reset_at = float(reset)
        self.policy = headers.get("ratelimit-policy")

    def wait_s(self, now: float | None = None) -> float:
        """Seconds to wait before the next call may be made (0: go ahead)."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return 0.0
        return max(0.0, min(self.reset_at - (now or time.time()), MAX_RETRY_AFTER_S))


class _WatchedRequest(Request):
    """The SDK's HTTP layer, recording the rate-limit headers of every answer."""

    def __init__(self, window: RateWindow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = window

    def _new_instance(self):
        return type(self)(self.window, **self._client_kwargs)

    def _send_request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        wait = self.window.wait_s()
        if wait > 0:
            raise ConnectorError(f"Bluesky rate limit spent ({self.window.policy or self.window.limit}); "
                                 f"the window resets in {wait:.0f} s", retry_after=wait)
        try:
            response = super()._send_request(method, url, **kwargs)
        except atx.RequestErrorBase as exc:
            if exc.response is not None:
                self.window.update(exc.response.headers or {})
            raise
        self.window.update({k.lower(): v for k, v in response.headers.items()})
        return response


def _error_name(exc: atx.RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None)
    return str(getattr(content, "error", "") or "")


def _error_message(exc: atx.RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None)
    return str(getattr(content, "message", "") or "")[:300]


def _retry_after(exc: atx.RequestErrorBase) -> float | None:
    if isinstance(exc, atx.RateLimitExceededError):
        if exc.retry_after is not None:
            return min(exc.retry_after, MAX_RETRY_AFTER_S)
        if exc.reset_at is not None:
            return max(0.0, min((exc.reset_at - dt.datetime.now(dt.UTC)).total_seconds(), MAX_RETRY_AFTER_S))
        return 60.0
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("retry-after")
    try:
        return min(max(0.0, float(value)), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


def map_error(exc: Exception, what: str) -> ConnectorError:
    """The ``ConnectorError`` for an SDK exception raised while doing ``what``."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, atx.RateLimitExceededError):
        return ConnectorError(f"{what}: Bluesky rate limit reached", retry_after=_retry_after(exc))
    if isinstance(exc, atx.InvokeTimeoutError):
        return ConnectorError(f"{what}: Bluesky did not answer in time")
    if isinstance(exc, atx.NetworkError):
        status = getattr(exc.response, "status_code", None)
        if status == 413:
            return ConnectorError(f"{what}: Bluesky refused the payload as too large", permanent=True)
        return ConnectorError(f"{what}: cannot reach Bluesky ({exc})", retry_after=_retry_after(exc))
    if isinstance(exc, atx.UnauthorizedError):
        return ConnectorError(f"{what}: Bluesky refused the account's credentials ({_error_name(exc) or exc}). "
                              "Was the app password revoked? Store a new one.", permanent=True)
    if isinstance(exc, atx.BadRequestError):
        name = _error_name(exc)
        if name in ACCOUNT_ERRORS:
            return ConnectorError(f"{what}: the Bluesky account cannot be used ({name}: {_error_message(exc)})",
                                  permanent=True)
        return ConnectorError(f"{what}: Bluesky refused the request ({name or 'HTTP 400'}: {_error_message(exc)})",
                              permanent=True)
    if isinstance(exc, atx.RequestException):
        status = getattr(exc.response, "status_code", None)
        if status is not None and 400 <= status < 500 and status != 408:
            return ConnectorError(f"{what}: Bluesky answered HTTP {status} ({_error_message(exc)})", permanent=True)
        return ConnectorError(f"{what}: Bluesky answered HTTP {status or '?'}", retry_after=_retry_after(exc))
    if isinstance(exc, atx.AtProtocolError | httpx.HTTPError | OSError):
        return ConnectorError(f"{what}: {type(exc).__name__}: {str(exc)[:300]}")
    raise exc


def _needs_new_session(exc: Exception) -> bool:
    if isinstance(exc, atx.LoginRequiredError | InvalidTokenError):
        return True
    if isinstance(exc, atx.UnauthorizedError | atx.BadRequestError):
        return _error_name(exc) in SESSION_ERRORS or isinstance(exc, atx.UnauthorizedError)
    return False


@dataclass
class Session:
    """A logged-in client for one account in this process."""

    fingerprint: str
    client: Client
    window: RateWindow
    did: str
    handle: str
    logged_in_at: float = field(default_factory=time.time)
    logins: int = 1


_sessions: dict[int, Session] = {}
_locks: dict[int, threading.Lock] = {}
_registry_lock = threading.Lock()


def _lock_for(account_id: int) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(account_id, threading.Lock())


def forget(account_id: int | None = None) -> None:
    """Drop the session of one account (or of every account: tests)."""
    with _registry_lock:
        if account_id is None:
            _sessions.clear()
        else:
            _sessions.pop(account_id, None)


def fingerprint(service: str, identifier: str, password: str) -> str:
    return hashlib.sha256(f"{service}\0{identifier}\0{password}".encode()).hexdigest()


def login(service: str, identifier: str, password: str, *, timeout: float, window: RateWindow | None = None
          ) -> Session:
    """Log in (``createSession``); ``ConnectorError`` (permanent when the credentials are refused)."""
    if not password:
        raise ConnectorError("no app_password stored for this Bluesky account", permanent=True)
    if not identifier:
        raise ConnectorError("the account has no handle or DID to log in with", permanent=True)
    window = window or RateWindow()
    client = Client(base_url=service, request=_WatchedRequest(window, timeout=timeout))
    try:
        client.login(identifier, password, fetch_bsky_profile=False)
    except Exception as exc:
        error = map_error(exc, "login")
        if isinstance(exc, atx.UnauthorizedError):
            error = ConnectorError(f"login: Bluesky refused the handle and app password "
                                   f"({_error_message(exc) or _error_name(exc) or 'unauthorized'}). "
                                   "Was the app password revoked? Store a new one.", permanent=True)
        raise error from exc
    session = client._session
    assert session is not None
    return Session(fingerprint(service, identifier, password), client, window, session.did, session.handle)


def session_for(account_id: int, service: str, identifier: str, password: str, *, timeout: float) -> Session:
    """The account's live session in this process, logging in when there is none (or the credentials changed)."""
    key = fingerprint(service, identifier, password)
    with _lock_for(account_id):
        current = _sessions.get(account_id)
        if current is not None and current.fingerprint == key:
            return current
        fresh = login(service, identifier, password, timeout=timeout,
                      window=current.window if current else None)
        with _registry_lock:
            _sessions[account_id] = fresh
        return fresh


@contextlib.contextmanager
def _mapped(what: str) -> Iterator[None]:
    try:
        yield
    except ConnectorError:
        raise
    except Exception as exc:
        raise map_error(exc, what) from exc


def call(account_id: int, service: str, identifier: str, password: str, *, timeout: float, what: str,
         fn: Callable[[Session], T]) -> T:
    """Run ``fn(session)``; a refused session (expired or revoked tokens) logs in once more and retries."""
    session = session_for(account_id, service, identifier, password, timeout=timeout)
    with _mapped(what):
        try:
            return fn(session)
        except Exception as exc:
            if not _needs_new_session(exc):
                raise
    # the session was refused: a fresh login, then one more try
    forget(account_id)
    session = session_for(account_id, service, identifier, password, timeout=timeout)
    session.logins += 1
    with _mapped(what):
        return fn(session)
