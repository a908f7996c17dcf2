"""YouTube clients and errors: the Data API v3 through ``google-api-python-client``, OAuth 2 user credentials
(``google-auth``) refreshed in this process, and Google's errors mapped onto ``ConnectorError``.

Transport: every request (the API's and the token endpoint's) goes through one ``httplib2.Http`` made by
``new_http`` (the tests' seam: ``googleapiclient.http.HttpMockSequence``). The service is built from the client
library's bundled discovery document (``static_discovery=True``): nothing is downloaded at run time.

Tokens: an account's credentials hold ``refresh_token`` (offline access), ``client_id`` / ``client_secret`` of
Dandelion's Google OAuth client, and the last ``access_token`` with its ``expires_at`` (ISO). Google access tokens
live an hour; ``google-auth`` refreshes them on the token endpoint when they are expired, or when an answer is 401.
The refreshed token is kept in this process for the account (keyed by a digest of its refresh token), so a worker
refreshes once an hour per account, not once per call, and written back to the account's encrypted credentials
(``connectors.tokens.write_back``: ``access_token`` and ``expires_at``), so a restarted worker starts with it. A
refused refresh (``invalid_grant``: the user revoked
access, the token expired after 6 months unused, or the OAuth client is in testing mode and 7 days passed) is
permanent and shows on the account's health (``tokens.refresh_refused``): connect the account again.

Errors: 401 is permanent (revoked); 403 ``quotaExceeded`` / ``dailyLimitExceeded`` is transient with
``retry_after`` = the seconds to the quota's reset (midnight, Pacific time); 403 ``rateLimitExceeded`` /
``userRateLimitExceeded`` and 429 transient (a minute); other 403 (comments disabled, forbidden), 400 and 404 are
permanent for the call; 5xx, timeouts and network failures transient.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httplib2
from google.auth import exceptions as gauth_exc
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from dandelion.connectors import tokens
from dandelion.connectors.errors import ConnectorError

T = TypeVar("T")

TOKEN_URI = "https://oauth2.googleapis.com/token"
AUTH_URI = "https://accounts.google.com/o/oauth2/v2/auth"
#: Manage the channel's comments (insert, moderate), read its videos and statistics, search.
SCOPES = ("https://www.googleapis.com/auth/youtube.force-ssl",)
QUOTA_TZ = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
DEFAULT_RETRY_AFTER_S = 60.0


def new_http(timeout: float = 20.0) -> Any:
    """The HTTP transport of every call (tests replace it with an ``HttpMockSequence``)."""
    return httplib2.Http(timeout=timeout)


class AccountCredentials(Credentials):
    """google-auth credentials that write a refreshed access token back to the account (``ref``: the latest
    ``AccountRef`` they served) and turn a refused refresh into the account's health error."""

    ref: Any = None

    def refresh(self, request: Any) -> None:
        try:
            super().refresh(request)
        except gauth_exc.RefreshError as exc:
            if getattr(exc, "retryable", False) or self.ref is None:
                raise
            raise tokens.refresh_refused(self.ref, (
                f"Google refused to refresh the access token ({str(exc)[:200]}); was access revoked? "
                "Connect the account again.")) from exc
        if self.ref is not None and self.token:
            expiry = self.expiry.replace(tzinfo=dt.UTC) if self.expiry is not None else None
            tokens.write_back(self.ref, {"access_token": self.token,
                                         **({"expires_at": expiry.isoformat()} if expiry else {})},
                              expires_at=expiry)


#: account id -> its credentials in this process, while its stored refresh token and client are unchanged
_tokens: tokens.TokenCache[AccountCredentials] = tokens.TokenCache()


def forget(account_id: int | None = None) -> None:
    """Drop the cached credentials of one account (or of every account: tests)."""
    _tokens.forget(account_id)


def _parse_expiry(value: Any) -> dt.datetime | None:
    moment = tokens.parse_expiry(value)
    return moment.replace(tzinfo=None) if moment else None  # google-auth compares naive UTC datetimes


def credentials_for(account_id: int, stored: Mapping[str, str], *, ref: Any = None) -> Credentials:
    """The account's OAuth credentials in this process (a refreshed access token is kept here, and written back
    through ``ref``, the account's ``AccountRef``, when given)."""
    refresh_token = stored.get("refresh_token", "")
    if not refresh_token:
        raise ConnectorError(
            "no refresh_token stored for this YouTube account: connect it (Google OAuth) first",
            permanent=True,
        )
    if not stored.get("client_id") or not stored.get("client_secret"):
        raise ConnectorError(
            "the YouTube account's credentials lack the OAuth client_id/client_secret: connect it again",
            permanent=True,
        )
    key = tokens.fingerprint(stored, "refresh_token", "client_id")
    current = _tokens.get(account_id, key)
    if current is not None:
        if ref is not None:
            current.ref = ref
        return current
    creds = AccountCredentials(
        token=stored.get("access_token") or None,
        refresh_token=refresh_token,
        token_uri=TOKEN_URI,
        client_id=stored["client_id"],
        client_secret=stored["client_secret"],
        scopes=list(SCOPES),
        expiry=_parse_expiry(stored.get("expires_at")),
    )
    if creds.token and creds.expiry is None:
        creds.token = None  # an access token of unknown age: refresh before the first call
    creds.ref = ref
    _tokens.put(account_id, key, creds)
    return creds


def service_for(creds: Credentials, *, timeout: float = 20.0) -> Any:
    """A YouTube Data API v3 service authorised with ``creds`` (refreshing them when needed)."""
    http = AuthorizedHttp(creds, http=new_http(timeout))
    return build("youtube", "v3", http=http, static_discovery=True, cache_discovery=False)


def seconds_to_quota_reset(now: dt.datetime | None = None) -> float:
    """Seconds until the daily quota resets (midnight, Pacific time), at least one minute."""
    local = (now or dt.datetime.now(dt.UTC)).astimezone(QUOTA_TZ)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=QUOTA_TZ)
    return max(60.0, (midnight - local).total_seconds())


def error_reason(exc: HttpError) -> tuple[int, str, str]:
    """``(status, reason, message)`` of a Google API error (``error.errors[0].reason``, as documented)."""
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        body = json.loads(
            exc.content.decode("utf-8", errors="replace") if isinstance(exc.content, bytes) else exc.content
        )
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = str(error.get("message") or "")[:300]
            errors = error.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                reason = str(errors[0].get("reason") or "")
    except (ValueError, AttributeError, TypeError):
        pass
    return status, reason, message


def map_error(exc: Exception, what: str) -> ConnectorError:
    """The ``ConnectorError`` for an exception raised while doing ``what``."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, gauth_exc.RefreshError):
        retryable = bool(getattr(exc, "retryable", False))
        return ConnectorError(
            f"{what}: Google refused to refresh the access token ({str(exc)[:200]}); "
            + ("retried later" if retryable else "was access revoked? Connect the account again."),
            permanent=not retryable,
        )
    if isinstance(exc, HttpError):
        status, reason, message = error_reason(exc)
        detail = f"HTTP {status} {reason}: {message}".strip()
        if status == 401:
            return ConnectorError(
                f"{what}: Google refused the credentials ({detail}); connect the account again",
                permanent=True,
            )
        if status == 403 and reason in QUOTA_REASONS:
            return ConnectorError(
                f"{what}: the YouTube API daily quota is spent ({reason}); it resets at midnight "
                "Pacific time",
                retry_after=seconds_to_quota_reset(),
            )
        if status == 429 or (status == 403 and reason in RATE_REASONS):
            return ConnectorError(f"{what}: YouTube rate limit ({detail})", retry_after=DEFAULT_RETRY_AFTER_S)
        if status >= 500:
            return ConnectorError(f"{what}: YouTube answered {detail}")
        return ConnectorError(f"{what}: YouTube refused the request ({detail})", permanent=True)
    if isinstance(exc, gauth_exc.TransportError | httplib2.HttpLib2Error | socket.timeout | OSError):
        return ConnectorError(f"{what}: cannot reach YouTube ({str(exc)[:300]})")
    raise exc


def call(what: str, fn: Callable[[], T]) -> T:
    """Run ``fn()``; every Google error comes out as ``ConnectorError``."""
    try:
        return fn()
    except Exception as exc:
        raise map_error(exc, what) from exc
