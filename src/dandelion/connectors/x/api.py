"""X API v2 calls through ``tweepy.Client`` (OAuth 2 user context), with X's rate limits and errors mapped.

Each call goes through ``call``: tweepy returns the raw ``requests.Response`` (``return_type``) so the
``x-rate-limit-limit`` / ``-remaining`` / ``-reset`` headers are read on every answer: an endpoint whose remaining
count reaches 0 is not called again for that account before its reset (a transient error with ``retry_after``);
a 429 pauses it until ``x-rate-limit-reset``. Errors: 401 (token expired or revoked: refreshed once when a refresh
token is known, permanent otherwise), 403 (not allowed: access tier, protected account, not our tweet) and 404 are
permanent; 429, 5xx and network errors are transient.

Token refresh: X's OAuth 2 access tokens last two hours. With ``offline.access`` the account holds a refresh token;
a 401 triggers ``POST /2/oauth2/token`` (``grant_type=refresh_token``). X rotates refresh tokens: the new pair is kept
in this process (``_tokens``, keyed by the stored pair's fingerprint) and written back to the account's encrypted
credentials through ``connectors.tokens.write_back``, so the next run, another worker and a restarted one use it. A
refused refresh (revoked, or rotated away by another worker) goes through ``tokens.refresh_refused``: permanent and
shown on the account's health, unless a newer token is stored.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
import tweepy

from dandelion.connectors import ratelimits, tokens
from dandelion.connectors.base import AccountRef
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.tolerant import clean_text

API_URL = "https://api.x.com"
TOKEN_URL = f"{API_URL}/2/oauth2/token"

_lock = threading.Lock()
#: (account id, endpoint) -> until when (epoch seconds, as X's reset headers) it is paused
_paused = ratelimits.PauseBook(time.time)
#: account id -> the last rate-limit figures seen per endpoint (``check`` shows them)
last_limits: dict[int, dict[str, dict[str, int]]] = {}
#: account id -> (access token, refresh token) refreshed in this process, valid while the stored pair is unchanged
_tokens: tokens.TokenCache[tuple[str, str]] = tokens.TokenCache()


def reset() -> None:
    _paused.clear()
    with _lock:
        last_limits.clear()
    _tokens.forget()


def _stored_key(account: AccountRef) -> str:
    return tokens.fingerprint(account.credentials, "access_token", "refresh_token")


def token_of(account: AccountRef) -> str:
    cached = _tokens.get(account.id, _stored_key(account))
    return cached[0] if cached else account.credentials.get("access_token", "")


def client_for(account: AccountRef, *, timeout: float) -> tweepy.Client:
    token = token_of(account)
    if not token:
        raise ConnectorError("the account has no X access token: connect it again", permanent=True)
    client = tweepy.Client(bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False)
    client.session.request = _with_timeout(client.session.request, timeout)
    return client


def _with_timeout(request: Callable[..., Any], timeout: float) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(*args, **kwargs)

    return bounded


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def note_limits(account_id: int, endpoint: str, headers: Mapping[str, str]) -> None:
    remaining, reset_at = _int(headers.get("x-rate-limit-remaining")), _int(headers.get("x-rate-limit-reset"))
    limit = _int(headers.get("x-rate-limit-limit"))
    if remaining is None or reset_at is None:
        return
    with _lock:
        last_limits.setdefault(account_id, {})[endpoint] = {
            "limit": limit or 0,
            "remaining": remaining,
            "reset": reset_at,
        }
    if remaining <= 0:
        _paused.pause_until((account_id, endpoint), float(reset_at), "x-rate-limit-remaining: 0")


def paused_for(account_id: int, endpoint: str) -> float:
    return _paused.wait((account_id, endpoint))


def _message(response: Any) -> str:
    try:
        data = response.json()
    except (ValueError, AttributeError):
        return ""
    if isinstance(data, Mapping):
        return clean_text(data.get("detail") or data.get("title") or json.dumps(data)[:300], 300)
    return ""


def refresh(account: AccountRef, *, timeout: float) -> bool:
    """Trade the refresh token for a new pair (kept in this process and written back to the account's credentials);
    False when there is nothing to refresh with."""
    key = _stored_key(account)
    cached = _tokens.get(account.id, key)
    refresh_token = cached[1] if cached else account.credentials.get("refresh_token", "")
    client_id = account.credentials.get("client_id", "")
    if not refresh_token or not client_id:
        return False
    secret = account.credentials.get("client_secret", "")
    try:
        response = requests.post(
            TOKEN_URL,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
            auth=(client_id, secret) if secret else None,
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise ConnectorError(f"cannot reach X to refresh the token ({type(exc).__name__})") from exc
    if response.status_code >= 500:
        raise ConnectorError(f"X failed to refresh the token (HTTP {response.status_code})", retry_after=30)
    if response.status_code >= 400:
        raise tokens.refresh_refused(account, (
            f"X refused to refresh the token (HTTP {response.status_code}: "
            f"{_message(response)}): connect the account again"))
    data = response.json()
    pair = (str(data["access_token"]), str(data.get("refresh_token") or refresh_token))
    _tokens.put(account.id, key, pair)
    tokens.write_back(account, {"access_token": pair[0], "refresh_token": pair[1]},
                      expires_at=tokens.expires_in(data.get("expires_in")))
    return True


def call(
    account: AccountRef, endpoint: str, fn: Callable[[tweepy.Client], Any], *, timeout: float = 20.0
) -> Any:
    """Run ``fn(client)`` for ``account`` on ``endpoint`` (a name for rate limits); the decoded JSON answer."""
    _paused.check((account.id, endpoint), f"X's rate limit for {endpoint}")
    for attempt in (1, 2):
        try:
            response = fn(client_for(account, timeout=timeout))
        except tweepy.TooManyRequests as exc:
            note_limits(account.id, endpoint, exc.response.headers)
            reset_at = _int(exc.response.headers.get("x-rate-limit-reset")) or int(time.time()) + 900
            _paused.pause_until((account.id, endpoint), float(reset_at), "HTTP 429")
            raise ConnectorError(
                f"X's rate limit for {endpoint} is spent", retry_after=max(1.0, reset_at - time.time())
            ) from exc
        except tweepy.Unauthorized as exc:
            if attempt == 1 and refresh(account, timeout=timeout):
                continue
            raise ConnectorError(
                f"X refused the token for {endpoint} ({_message(exc.response)}): the token was "
                "revoked or expired; connect the account again",
                permanent=True,
            ) from exc
        except (tweepy.Forbidden, tweepy.NotFound, tweepy.BadRequest) as exc:
            raise ConnectorError(
                f"X refused {endpoint} (HTTP {exc.response.status_code}: {_message(exc.response)})",
                permanent=True,
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise ConnectorError(
                f"X failed on {endpoint} (HTTP {exc.response.status_code})", retry_after=30
            ) from exc
        except tweepy.HTTPException as exc:
            raise ConnectorError(f"X answered HTTP {exc.response.status_code} to {endpoint}") from exc
        except requests.RequestException as exc:
            raise ConnectorError(f"cannot reach X for {endpoint} ({type(exc).__name__})") from exc
        note_limits(account.id, endpoint, response.headers)
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(f"X answered something that is not JSON to {endpoint}") from exc
    raise AssertionError("unreachable")


def raw(account: AccountRef, endpoint: str, method: str, path: str, *, timeout: float, **kwargs: Any) -> Any:
    """A v2 endpoint tweepy 4.15 does not wrap (media upload and metadata), with the same error handling."""

    def send(client: tweepy.Client) -> Any:
        response = client.session.request(
            method,
            f"{API_URL}{path}",
            timeout=timeout,
            headers={"Authorization": f"Bearer {client.bearer_token}", "User-Agent": client.user_agent},
            **kwargs,
        )
        status = response.status_code
        for code, error in (
            (400, tweepy.BadRequest),
            (401, tweepy.Unauthorized),
            (403, tweepy.Forbidden),
            (404, tweepy.NotFound),
            (429, tweepy.TooManyRequests),
        ):
            if status == code:
                raise error(response)
        if status >= 500:
            raise tweepy.TwitterServerError(response)
        if status >= 300:
            raise tweepy.HTTPException(response)
        return response

    return call(account, endpoint, send, timeout=timeout)


# --- webhooks (Account Activity API) -----------------------------------------------------------------------------


def crc_response(crc_token: str, consumer_secret: str) -> str:
    """``sha256=`` + base64 HMAC-SHA256 of the CRC token with the app's consumer secret."""
    import hashlib
    import hmac

    digest = hmac.new(consumer_secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()
