"""Mastodon clients and errors: one ``Mastodon.py`` client per account and process, the instance's rate-limit headers
honoured, and the SDK's exceptions mapped onto ``ConnectorError``.

Clients: Mastodon speaks OAuth 2 bearer tokens; an account's credentials hold ``access_token`` (obtained by the
authorisation-code flow in ``oauth``; Mastodon's user tokens do not expire, they are revoked). The client is kept in
this process, keyed by the account and a digest of its instance and token (new token: a new client), so the rate
window the SDK reads from every answer (``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset``, 300 calls per 5 minutes
per token on a stock instance) survives between polls.

Rate limits: the SDK runs in ``throw`` mode (it never sleeps in a worker). Before each call, a spent window (the last
answer said ``X-RateLimit-Remaining: 0`` and the reset is ahead) raises a transient ``ConnectorError`` with
``retry_after`` = the seconds to ``X-RateLimit-Reset`` instead of calling; a 429 answer does the same. The polling and
delivery jobs then retry after exactly that long: a rate limit is a delay, never a failure.

Errors: 401 (the token was revoked, or the app deleted) and 403 on the account's own calls (suspended account) are
permanent and show on the account's health; 404 and 422 (gone, refused content) are permanent for that call; 429,
5xx, timeouts and network failures are transient.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
from mastodon import Mastodon
from mastodon import errors as mx

from dandelion.connectors.errors import ConnectorError

T = TypeVar("T")

#: Refuse to wait longer than this for a rate-limit window (a broken header).
MAX_RETRY_AFTER_S = 24 * 3600.0
#: When an instance answers 429 without a usable reset time.
DEFAULT_RETRY_AFTER_S = 60.0
USER_AGENT = "Dandelion (Mastodon.py)"
#: The oldest Mastodon the connector supports (granular OAuth scopes, ``/api/v2/media``). Declared to Mastodon.py so
#: it never probes the instance's version on its own (an extra call per client, and a failed probe recurses in
#: Mastodon.py 2.3.3's ``retrieve_mastodon_version``).
MIN_MASTODON_VERSION = "4.0.0"


@dataclass
class Client:
    """A Mastodon.py client for one account in this process, and what we learnt about the account."""

    fingerprint: str
    api: Mastodon
    own_id: str | None = None
    own_acct: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, now: float | None = None) -> float:
        """Seconds before the next call may be made (0: go ahead), from the last answer's rate-limit headers."""
        remaining, reset = self.api.ratelimit_remaining, self.api.ratelimit_reset
        if remaining is None or reset is None or remaining > 0:
            return 0.0
        return max(0.0, min(float(reset) - (now or time.time()), MAX_RETRY_AFTER_S))


_clients: dict[int, Client] = {}
_registry_lock = threading.Lock()


def fingerprint(base_url: str, token: str) -> str:
    return hashlib.sha256(f"{base_url}\0{token}".encode()).hexdigest()


def forget(account_id: int | None = None) -> None:
    """Drop the client of one account (or of every account: tests)."""
    with _registry_lock:
        if account_id is None:
            _clients.clear()
        else:
            _clients.pop(account_id, None)


def make_api(base_url: str, *, access_token: str | None = None, client_id: str | None = None,
             client_secret: str | None = None, timeout: float = 20.0) -> Mastodon:
    """A Mastodon.py client that never sleeps (``throw``) and never probes the instance's version on its own."""
    api = Mastodon(api_base_url=base_url, access_token=access_token, client_id=client_id,
                   client_secret=client_secret, ratelimit_method="throw", request_timeout=timeout,
                   mastodon_version=MIN_MASTODON_VERSION, version_check_mode="none", session=requests.Session(),
                   user_agent=USER_AGENT)
    # with checks off, Mastodon.py records the declared version as "checked" but does not parse it
    api.mastodon_major, api.mastodon_minor, api.mastodon_patch = (int(p) for p in MIN_MASTODON_VERSION.split("."))
    return api


def client_for(account_id: int, base_url: str, token: str, *, timeout: float) -> Client:
    """The account's client in this process (a new one when the instance or the token changed)."""
    if not token:
        raise ConnectorError("no access_token stored for this Mastodon account: connect it (OAuth) first",
                             permanent=True)
    key = fingerprint(base_url, token)
    with _registry_lock:
        current = _clients.get(account_id)
        if current is not None and current.fingerprint == key:
            return current
        fresh = Client(key, make_api(base_url, access_token=token, timeout=timeout))
        _clients[account_id] = fresh
        return fresh


def _retry_after(api: Mastodon | None) -> float:
    reset = getattr(api, "ratelimit_reset", None)
    if reset:
        return max(1.0, min(float(reset) - time.time(), MAX_RETRY_AFTER_S))
    return DEFAULT_RETRY_AFTER_S


def _detail(exc: Exception) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 4 and args[3]:
        return str(args[3])[:300]
    if len(args) >= 3 and args[2]:
        return str(args[2])[:300]
    return str(exc)[:300]


def _status(exc: Exception) -> int | None:
    """The HTTP status of a Mastodon.py API error (``args``: message, status, reason, error)."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return args[1] if len(args) >= 2 and isinstance(args[1], int) else None


def map_error(exc: Exception, what: str, api: Mastodon | None = None) -> ConnectorError:
    """The ``ConnectorError`` for an SDK exception raised while doing ``what``."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, mx.MastodonRatelimitError):
        return ConnectorError(f"{what}: Mastodon rate limit reached (X-RateLimit); retried later",
                              retry_after=_retry_after(api))
    if isinstance(exc, mx.MastodonUnauthorizedError):
        return ConnectorError(f"{what}: the Mastodon instance refused the access token ({_detail(exc)}). Was it "
                              "revoked, or the app deleted? Connect the account again.", permanent=True)
    if isinstance(exc, mx.MastodonServerError):
        return ConnectorError(f"{what}: the Mastodon instance answered HTTP {_status(exc) or '5xx'}",
                              retry_after=None)
    if isinstance(exc, mx.MastodonNotFoundError):
        return ConnectorError(f"{what}: not found on the Mastodon instance (deleted, or not visible to this "
                              f"account: {_detail(exc)})", permanent=True)
    if isinstance(exc, mx.MastodonAPIError):
        status = _status(exc)
        if status == 403:
            return ConnectorError(f"{what}: the Mastodon instance forbids it ({_detail(exc)}); a suspended or "
                                  "disabled account, or a token without this scope", permanent=True)
        if status in (408, 409, 425):
            return ConnectorError(f"{what}: the Mastodon instance asked to try again (HTTP {status})")
        if status == 413:
            return ConnectorError(f"{what}: the Mastodon instance refused the payload as too large", permanent=True)
        return ConnectorError(f"{what}: the Mastodon instance refused the request (HTTP {status or '?'}: "
                              f"{_detail(exc)})", permanent=True)
    if isinstance(exc, mx.MastodonNetworkError | requests.RequestException | OSError):
        return ConnectorError(f"{what}: cannot reach the Mastodon instance ({str(exc)[:300]})")
    if isinstance(exc, mx.MastodonIllegalArgumentError | mx.MastodonVersionError):
        return ConnectorError(f"{what}: {str(exc)[:300]}", permanent=True)
    raise exc


def call(client: Client, what: str, fn: Callable[[Mastodon], T]) -> T:
    """Run ``fn(api)`` unless the rate window is spent; SDK errors come out as ``ConnectorError``."""
    with client.lock:  # a Mastodon.py client (its rate window, its session) serves one call at a time
        wait = client.wait_s()
        if wait > 0:
            raise ConnectorError(f"{what}: Mastodon rate limit spent ({client.api.ratelimit_limit} calls per "
                                 f"window); it resets in {wait:.0f} s", retry_after=wait)
        try:
            return fn(client.api)
        except Exception as exc:
            raise map_error(exc, what, client.api) from exc


def as_dict(value: Any) -> Any:
    """A Mastodon.py entity (an ``AttribAccessDict`` with datetimes) as plain JSON-ish data, recursively."""
    if isinstance(value, dict):
        return {k: as_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_dict(v) for v in value]
    return value
