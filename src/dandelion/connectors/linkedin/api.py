"""LinkedIn's versioned REST API (Community Management) over httpx: headers, URN encoding, tokens and errors.

Every call goes to ``https://api.linkedin.com/rest/…`` with ``Authorization: Bearer``, ``LinkedIn-Version: YYYYMM``
(the account's ``api_version``; LinkedIn serves each monthly version for about a year) and
``X-Restli-Protocol-Version: 2.0.0``; URNs in paths and query strings are percent-encoded, as Rest.li 2.0 requires.

Tokens: an account's credentials hold ``access_token`` (60 days) with ``expires_at``, and, for apps LinkedIn enabled
for programmatic refresh, ``refresh_token`` (a year) with ``client_id`` / ``client_secret``. An expired token, or a
401, is refreshed once on ``https://www.linkedin.com/oauth/v2/accessToken`` when a refresh token is stored; the new
token is kept in this process (keyed by the account and a digest of its tokens) and written back to the account's
encrypted credentials (``connectors.tokens.write_back``), so a restarted worker uses it. Without a refresh token, or
when the refresh is refused, the error is permanent and shows on the account's health: connect it again.

Errors: 401 permanent (after the refresh above), 403 permanent (a member who is no longer an administrator of the
page, a missing permission), 404 / 400 / 422 permanent for the call; 429 (LinkedIn's daily application and member
throttles) transient with ``Retry-After`` when sent, else ``THROTTLE_RETRY_S``; 5xx and network errors transient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from dandelion.connectors import ratelimits, tokens
from dandelion.connectors.errors import ConnectorError

API = "https://api.linkedin.com/rest"
AUTH_URL = "https://www.linkedin.com/oauth/v2/authorization"
TOKEN_URL = "https://www.linkedin.com/oauth/v2/accessToken"
DEFAULT_VERSION = "202610"
#: Post and comment as the organisation, read its posts, comments and statistics, know which pages the member runs.
SCOPES = (
    "r_organization_social",
    "w_organization_social",
    "r_organization_social_feed",
    "w_organization_social_feed",
    "rw_organization_admin",
)
THROTTLE_RETRY_S = 900.0
MAX_RETRY_AFTER_S = ratelimits.MAX_RETRY_AFTER_S
USER_AGENT = "Dandelion (LinkedIn connector; httpx)"


def urn(value: str) -> str:
    """A URN percent-encoded for a Rest.li 2.0 path or query (``urn:li:share:1`` → ``urn%3Ali%3Ashare%3A1``)."""
    return quote(value, safe="")


#: account id -> (access token, its expiry) refreshed in this process, while the stored tokens are unchanged
_tokens: tokens.TokenCache[tuple[str, dt.datetime | None]] = tokens.TokenCache()


def forget(account_id: int | None = None) -> None:
    _tokens.forget(account_id)


def token_request(data: Mapping[str, str], *, timeout: float = 20.0, account: Any = None) -> dict[str, Any]:
    """POST to LinkedIn's token endpoint; the JSON answer, or a ``ConnectorError`` (for a refused refresh of
    ``account``'s token, the one ``tokens.refresh_refused`` gives)."""
    try:
        response = httpx.post(TOKEN_URL, data=dict(data), timeout=timeout, headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        raise ConnectorError(f"cannot reach LinkedIn's token endpoint ({str(exc)[:200]})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
        error = body.get("error") if isinstance(body, dict) else None
        message = f"LinkedIn refused the token request (HTTP {response.status_code}, {error}); connect the account again"
        if response.status_code < 500 and account is not None:
            raise tokens.refresh_refused(account, message)
        raise ConnectorError(message, permanent=response.status_code < 500)
    return body


class Session:
    """Authorised, versioned calls for one account (one ``httpx.Client`` per operation)."""

    def __init__(
        self, account_id: int, credentials: Mapping[str, str], *, version: str, timeout: float, ref: Any = None
    ) -> None:
        self.account_id = account_id
        self.credentials = credentials
        self.version = version
        self.timeout = timeout
        self.ref = ref  # the AccountRef refreshed tokens are written back through (None: kept in this process)

    def _token(self, *, force_refresh: bool = False) -> str:
        key = tokens.fingerprint(self.credentials, "access_token", "refresh_token")
        cached = _tokens.get(self.account_id, key)
        if cached is not None:
            token, expires = cached
        else:
            token, expires = (
                self.credentials.get("access_token", ""),
                tokens.parse_expiry(self.credentials.get("expires_at")),
            )
        expired = expires is not None and expires <= dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        if token and not expired and not force_refresh:
            return token
        refresh = self.credentials.get("refresh_token")
        if not refresh:
            if not token:
                raise ConnectorError(
                    "no access_token stored for this LinkedIn account: connect it first", permanent=True
                )
            raise ConnectorError(
                "the LinkedIn access token expired or was revoked and no refresh token is stored: "
                "connect the account again",
                permanent=True,
            )
        body = token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", ""),
            },
            timeout=self.timeout,
            account=self.ref,
        )
        token = str(body["access_token"])
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(body.get("expires_in") or 3600))
        _tokens.put(self.account_id, key, (token, expires))
        if self.ref is not None:
            values = {"access_token": token, "expires_at": expires.isoformat()}
            if body.get("refresh_token"):
                values["refresh_token"] = str(body["refresh_token"])
            tokens.write_back(self.ref, values, expires_at=expires)
        return token

    def request(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        raw_query: str = "",
    ) -> httpx.Response:
        """One call, refreshed and retried once on 401; errors come out as ``ConnectorError``."""
        url = f"{API}{path}" + (f"?{raw_query}" if raw_query else "")
        for attempt in (0, 1):
            headers = {
                "Authorization": f"Bearer {self._token(force_refresh=attempt == 1)}",
                "LinkedIn-Version": self.version,
                "X-Restli-Protocol-Version": "2.0.0",
                "User-Agent": USER_AGENT,
            }
            try:
                response = httpx.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=json,
                    headers=headers,
                    timeout=self.timeout,
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(f"{what}: cannot reach LinkedIn ({str(exc)[:300]})") from exc
            if response.status_code == 401 and attempt == 0 and self.credentials.get("refresh_token"):
                continue
            check(response, what)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def get_json(self, what: str, path: str, **kwargs: Any) -> Any:
        response = self.request(what, "GET", path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ConnectorError(f"{what}: LinkedIn answered something that is not JSON") from exc


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("serviceErrorCode") or "")[:300]
    return ""


def check(response: httpx.Response, what: str) -> None:
    """Raise the ``ConnectorError`` a non-2xx LinkedIn answer means."""
    status = response.status_code
    if status < 300:
        return
    detail = _message(response)
    if status == 401:
        raise ConnectorError(
            f"{what}: LinkedIn refused the access token ({detail}); connect the account again", permanent=True
        )
    if status == 429:
        raise ConnectorError(
            f"{what}: LinkedIn throttled the application or member (HTTP 429)",
            retry_after=ratelimits.header_wait(response.headers, "retry-after",
                                               default=THROTTLE_RETRY_S, cap=MAX_RETRY_AFTER_S),
        )
    if status >= 500:
        raise ConnectorError(f"{what}: LinkedIn answered HTTP {status} ({detail})")
    if status == 403:
        raise ConnectorError(
            f"{what}: LinkedIn forbids it ({detail}): is the member still an administrator of "
            "the page, with the Community Management permissions?",
            permanent=True,
        )
    raise ConnectorError(f"{what}: LinkedIn refused the request (HTTP {status}: {detail})", permanent=True)
