"""Reddit clients and errors: one ``praw.Reddit`` per account and process, Reddit's ``x-ratelimit-*`` headers honoured
without sleeping in a worker, and PRAW's / prawcore's exceptions mapped onto ``ConnectorError``.

Clients: ``praw.Reddit`` with ``check_for_updates=False`` (no call to PyPI) and a descriptive user agent, as Reddit's
API rules require. Two ways in: a *web app* (credentials ``client_id``, ``client_secret``, ``refresh_token`` from the
authorisation-code flow, ``duration=permanent``) or a *script app* (``client_id``, ``client_secret``, ``username``,
``password``: the password grant, for an account the organisation owns). PRAW obtains and renews the hour-long access
token itself, on ``https://www.reddit.com/api/v1/access_token``. The client is kept in this process, keyed by the
account and a digest of its credentials, so the rate window prawcore reads from every answer survives between polls.

Rate limits: Reddit answers ``x-ratelimit-used`` / ``-remaining`` / ``-reset`` (seconds to the window's end; 100
queries a minute per OAuth client id, averaged over 10 minutes). prawcore records them and would *sleep* before the
next call; ``call`` looks first: when the window is spent (or the pause prawcore plans is longer than
``MAX_PACING_S``; its own pacing is at most 10 s) it raises a transient ``ConnectorError`` with ``retry_after`` =
the seconds to the reset, and the polling and delivery jobs come back then. A 429 does the same (``Retry-After`` or the reset header).

Errors: a refused token or refresh (``invalid_grant``, 401) is permanent (connect again), as is 403 (suspended
account, not a moderator, banned from the subreddit), 404 and refused content; Reddit's own ``RATELIMIT`` error
("you are doing that too much, try again in 5 minutes") is transient with that delay; 5xx and network failures are
transient.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import praw
import prawcore
import requests
from praw import exceptions as praw_exc

from dandelion.connectors import ratelimits
from dandelion.connectors.errors import ConnectorError

T = TypeVar("T")

USER_AGENT = "python:dandelion-connector:v1 (Dandelion social media management; by /u/{user})"
#: What the connector needs: identity, read listings and items, the inbox, comment and submit, delete its own
#: items (``edit``), remove/approve (``modposts``) and ban (``modcontributors``) where the account moderates.
SCOPES = ("identity", "read", "privatemessages", "submit", "edit", "history", "modposts", "modcontributors")
MAX_RETRY_AFTER_S = 3600.0
DEFAULT_RETRY_AFTER_S = 60.0
#: The longest pause prawcore may take before a call inside a worker; beyond, the call is postponed instead.
#: prawcore spreads calls over the window with pauses of at most 10 s while requests remain: those are taken (a
#: poll reading several pages would otherwise never finish); a spent window is never slept through.
MAX_PACING_S = 10.5


@dataclass
class Client:
    """A PRAW client for one account in this process."""

    fingerprint: str
    reddit: praw.Reddit
    own_name: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self) -> float:
        """Seconds prawcore would sleep before the next call (0: go ahead)."""
        limiter = getattr(self.reddit._core, "_rate_limiter", None)
        planned = getattr(limiter, "next_request_timestamp_ns", None)
        if planned is None:
            return 0.0
        return max(0.0, (planned - time.monotonic_ns()) / 1e9)

    def remaining(self) -> int | None:
        return getattr(getattr(self.reddit._core, "_rate_limiter", None), "remaining", None)


_clients: dict[int, Client] = {}
_lock = threading.Lock()


def forget(account_id: int | None = None) -> None:
    """Drop the client of one account (or of every account: tests)."""
    with _lock:
        if account_id is None:
            _clients.clear()
        else:
            _clients.pop(account_id, None)


def make_reddit(
    *, client_id: str, client_secret: str, user: str = "dandelion", timeout: float = 20.0, **auth: str
) -> praw.Reddit:
    """A PRAW client that never checks PyPI for updates; ``auth``: ``refresh_token``, or ``username`` and
    ``password``, or ``redirect_uri`` (the authorisation-code flow)."""
    return praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=USER_AGENT.format(user=user),
        check_for_updates=False,
        timeout=max(1, round(timeout)),
        ratelimit_seconds=0,
        requestor_kwargs={"session": requests.Session()},
        **cast(dict[str, Any], auth),
    )


def client_for(account_id: int, credentials: Mapping[str, str], *, user: str, timeout: float) -> Client:
    """The account's client in this process (a new one when its credentials changed)."""
    client_id, secret = credentials.get("client_id", ""), credentials.get("client_secret", "")
    if not client_id or not secret:
        raise ConnectorError(
            "no Reddit client_id/client_secret stored for this account: connect it first", permanent=True
        )
    if credentials.get("refresh_token"):
        auth = {"refresh_token": credentials["refresh_token"]}
    elif credentials.get("username") and credentials.get("password"):
        auth = {"username": credentials["username"], "password": credentials["password"]}
    else:
        raise ConnectorError(
            "the Reddit account has neither a refresh_token (web app) nor a username and "
            "password (script app): connect it first",
            permanent=True,
        )
    key = hashlib.sha256("\0".join([client_id, secret, *sorted(auth.values())]).encode()).hexdigest()
    with _lock:
        current = _clients.get(account_id)
        if current is not None and current.fingerprint == key:
            return current
        fresh = Client(
            key, make_reddit(client_id=client_id, client_secret=secret, user=user, timeout=timeout, **auth)
        )
        _clients[account_id] = fresh
        return fresh


def _header_retry(response: Any) -> float:
    return ratelimits.header_wait(getattr(response, "headers", None), "retry-after", "x-ratelimit-reset",
                                  default=DEFAULT_RETRY_AFTER_S, cap=MAX_RETRY_AFTER_S)


_TRY_AGAIN_RE = re.compile(r"(\d+)\s*(second|minute|hour)", re.IGNORECASE)


def api_retry_after(message: str) -> float:
    """The delay in Reddit's RATELIMIT message ("…try again in 5 minutes")."""
    match = _TRY_AGAIN_RE.search(message)
    if not match:
        return DEFAULT_RETRY_AFTER_S
    unit = {"second": 1, "minute": 60, "hour": 3600}[match.group(2).lower()]
    return min(float(match.group(1)) * unit + 1, MAX_RETRY_AFTER_S)


def map_error(exc: Exception, what: str) -> ConnectorError:
    """The ``ConnectorError`` for a PRAW / prawcore exception raised while doing ``what``."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, prawcore.exceptions.OAuthException):
        return ConnectorError(
            f"{what}: Reddit refused the credentials ({exc.error}); connect the account again", permanent=True
        )
    if isinstance(exc, prawcore.exceptions.TooManyRequests):
        return ConnectorError(
            f"{what}: Reddit rate limit (HTTP 429)", retry_after=_header_retry(exc.response)
        )
    if isinstance(exc, prawcore.exceptions.InvalidToken):
        return ConnectorError(
            f"{what}: Reddit refused the access token (revoked?); connect the account again", permanent=True
        )
    if isinstance(exc, prawcore.exceptions.Forbidden):
        return ConnectorError(
            f"{what}: Reddit forbids it (HTTP 403: a suspended account, a subreddit that bans it, "
            "or an action reserved to moderators)",
            permanent=True,
        )
    if isinstance(exc, prawcore.exceptions.ResponseException) and "/api/v1/access_token" in str(
        getattr(exc.response.request, "url", "") or ""
    ):
        status = exc.response.status_code
        return ConnectorError(
            f"{what}: Reddit refused the credentials at its token endpoint (HTTP {status}); "
            "connect the account again",
            permanent=status < 500,
        )
    if isinstance(exc, prawcore.exceptions.ServerError):
        return ConnectorError(f"{what}: Reddit answered HTTP {exc.response.status_code}")
    if isinstance(exc, prawcore.exceptions.ResponseException):
        return ConnectorError(
            f"{what}: Reddit refused the request (HTTP {exc.response.status_code})", permanent=True
        )
    if isinstance(exc, prawcore.exceptions.RequestException):
        return ConnectorError(f"{what}: cannot reach Reddit ({str(exc)[:300]})")
    if isinstance(exc, praw_exc.RedditAPIException):
        items = list(exc.items)
        for item in items:
            if item.error_type == "RATELIMIT":
                message = item.message or ""
                return ConnectorError(
                    f"{what}: Reddit says {message[:200]}", retry_after=api_retry_after(message)
                )
        detail = "; ".join(f"{i.error_type}: {i.message}" for i in items)[:300]
        return ConnectorError(f"{what}: Reddit refused it ({detail})", permanent=True)
    if isinstance(exc, praw_exc.PRAWException):
        return ConnectorError(f"{what}: {str(exc)[:300]}", permanent=True)
    if isinstance(exc, requests.RequestException | OSError):
        return ConnectorError(f"{what}: cannot reach Reddit ({str(exc)[:300]})")
    raise exc


def call(client: Client, what: str, fn: Callable[[praw.Reddit], T]) -> T:
    """Run ``fn(reddit)`` unless the rate window is spent; errors come out as ``ConnectorError``."""
    with client.lock:
        wait = client.wait_s()
        remaining = client.remaining()
        if wait > 0 and ((remaining is not None and remaining <= 0) or wait > MAX_PACING_S):
            raise ConnectorError(
                f"{what}: Reddit rate limit ({remaining} requests left in the window); retried "
                f"in {wait:.0f} s",
                retry_after=max(1.0, min(wait, MAX_RETRY_AFTER_S)),
            )
        try:
            return fn(client.reddit)
        except Exception as exc:
            raise map_error(exc, what) from exc
