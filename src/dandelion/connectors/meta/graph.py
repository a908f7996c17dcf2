"""The Meta Graph API over ``httpx``, shared by the ``facebook`` and ``instagram`` connectors.

Meta keeps no official Python SDK for the Pages or Instagram Graph APIs (``facebook-sdk`` is unmaintained since
2019, the ``facebook-business`` SDK covers the Marketing API only), so the connectors call the documented HTTP API
directly. What lives here:

* ``call``: one Graph request with the page token and its ``appsecret_proof`` (HMAC-SHA256 of the token with the
  app secret, which Meta checks when the app requires it), errors mapped to ``ConnectorError``;
* rate limits read from ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` (percentages of the quota used, and
  ``estimated_time_to_regain_access`` in minutes): an account at or over ``THROTTLE_AT`` percent is not called again
  until Meta said it may be (a transient error with ``retry_after``);
* the webhook checks: ``X-Hub-Signature-256`` (``sha256=`` HMAC of the raw body with the app secret, compared in
  constant time) and the subscription verification (``hub.mode=subscribe``, ``hub.verify_token``,
  ``hub.challenge``).

Error codes (Graph API "Handling errors"): 190 (invalid/expired/revoked token), 102 (session), 10 and 200-299
(permission missing), 100 (invalid parameter), 368 (blocked by policy), 551/2018xxx (user unavailable) are
permanent: retrying fails the same way, and the account's health shows it (reconnect). 1, 2 (service), 4, 17, 32,
613, 80001-80014 (rate limits), 341 and any error with ``is_transient: true`` are transient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from dandelion.connectors import ratelimits
from dandelion.connectors.errors import ConnectorError, SignatureError
from dandelion.connectors.tolerant import clean_text

GRAPH_VERSION = "v21.0"
GRAPH_URL = "https://graph.facebook.com"
DIALOG_URL = "https://www.facebook.com"
#: At this share (percent) of any of Meta's usage figures, the account pauses until Meta lets it in again.
THROTTLE_AT = 95
#: Pause when Meta says the quota is spent without saying for how long.
DEFAULT_PAUSE_S = 300

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2, 341, *RATE_LIMIT_CODES})
PERMANENT_CODES = frozenset({10, 100, 102, 190, 368, 551, *range(200, 300)})

_lock = threading.Lock()
#: account id -> (monotonic time until which it is paused, why)
_paused = ratelimits.PauseBook(time.monotonic)
#: account id -> the last usage figures seen (for ``check`` and the docs' "cost of rate limits")
last_usage: dict[int, dict[str, Any]] = {}


def appsecret_proof(token: str, app_secret: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _json_header(value: str | None) -> Any:
    if not value or len(value) > 20_000:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def usage_pause_s(headers: Mapping[str, str]) -> tuple[float, dict[str, Any]]:
    """``(seconds to pause, usage figures)`` from Meta's usage headers (0: no pause needed)."""
    figures: dict[str, Any] = {}
    pause = 0.0
    app = _json_header(headers.get("x-app-usage"))
    if isinstance(app, Mapping):
        figures["app"] = {k: v for k, v in app.items() if isinstance(v, int | float)}
        if any(v >= THROTTLE_AT for v in figures["app"].values()):
            pause = max(pause, DEFAULT_PAUSE_S)
    buc = _json_header(headers.get("x-business-use-case-usage"))
    if isinstance(buc, Mapping):
        for business, entries in buc.items():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, Mapping):
                    continue
                numbers: dict[str, float] = {
                    k: float(v)
                    for k in ("call_count", "total_cputime", "total_time")
                    if isinstance(v := entry.get(k), int | float)
                }
                figures.setdefault("business", {})[
                    f"{clean_text(business, 40)}:{clean_text(entry.get('type'), 40)}"
                ] = numbers
                regain = entry.get("estimated_time_to_regain_access")
                if isinstance(regain, int | float) and regain > 0:
                    pause = max(pause, float(regain) * 60)
                elif any(v >= THROTTLE_AT for v in numbers.values()):
                    pause = max(pause, DEFAULT_PAUSE_S)
    return pause, figures


def paused_for(account_id: int) -> float:
    """Seconds the account still has to wait before its next Graph call (0: none)."""
    return _paused.wait(account_id)


def reset() -> None:
    """Forget every pause and usage figure (tests)."""
    _paused.clear()
    with _lock:
        last_usage.clear()


def graph_object_gone(exc: ConnectorError) -> bool:
    """Whether a Graph error says the object does not exist (code 100: deleted, or never this token's to read)."""
    return "(code 100," in str(exc)


def map_error(status: int, payload: Any, what: str) -> ConnectorError:
    """The ``ConnectorError`` for a Graph error answer (``{"error": {"code", "error_subcode", "message"...}}``)."""
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(error, Mapping):
        return ConnectorError(
            f"Meta answered HTTP {status} to {what}",
            permanent=400 <= status < 500 and status not in (408, 429),
        )
    code = error.get("code") if isinstance(error.get("code"), int) else None
    message = clean_text(error.get("message"), 300)
    text = f"Meta refused to {what}: {message} (code {code}, subcode {error.get('error_subcode')})"
    if code == 190:
        text += ": the token was revoked or expired; connect the account again"
    if error.get("is_transient") is True or code in TRANSIENT_CODES:
        return ConnectorError(text, retry_after=DEFAULT_PAUSE_S if code in RATE_LIMIT_CODES else 60)
    if code in PERMANENT_CODES:
        return ConnectorError(text, permanent=True)
    return ConnectorError(text, permanent=400 <= status < 500 and status not in (408, 429))


def call(
    account_id: int,
    method: str,
    path: str,
    *,
    token: str,
    app_secret: str = "",
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    json_body: Any = None,
    timeout: float = 20.0,
    version: str = GRAPH_VERSION,
    what: str = "",
) -> Any:
    """One Graph API request as the account; the decoded JSON answer. ``path`` is relative (``"123/comments"``)
    or a full ``paging.next`` URL on graph.facebook.com."""
    what = what or f"{method} {path.split('?')[0]}"
    _paused.check(account_id, "Meta's rate limit for this account")
    if not token:
        raise ConnectorError("the account has no Meta access token: connect it again", permanent=True)
    query = dict(params or {})
    if path.startswith("https://"):
        if not path.startswith(GRAPH_URL + "/"):
            raise ConnectorError(
                f"refusing to follow a paging link outside the Graph API: {path[:100]}", permanent=True
            )
        url = path
    else:
        url = f"{GRAPH_URL}/{version}/{path.lstrip('/')}"
    query["access_token"] = token
    if app_secret:
        query["appsecret_proof"] = appsecret_proof(token, app_secret)
    try:
        target = httpx.URL(url).copy_merge_params(query)  # a paging link keeps its own cursor parameters
        response = httpx.request(method, target, data=data, json=json_body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"cannot reach the Graph API to {what} ({type(exc).__name__})") from exc
    pause, figures = usage_pause_s(response.headers)
    if figures:
        with _lock:
            last_usage[account_id] = figures
    if pause:
        _paused.pause_for(account_id, pause, "usage headers")
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400 or (isinstance(payload, Mapping) and "error" in payload):
        error = map_error(response.status_code, payload, what)
        if error.retry_after and not error.permanent:
            _paused.pause_for(account_id, max(error.retry_after, pause), "rate-limit error")
            error.retry_after = max(error.retry_after, pause)
        raise error
    if payload is None:
        raise ConnectorError(f"the Graph API answered something that is not JSON to {what}")
    return payload


# --- webhooks ----------------------------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""


def verify_signature(body: bytes, headers: Mapping[str, str], app_secret: str) -> None:
    """Check ``X-Hub-Signature-256`` against the raw body; ``SignatureError`` when absent or wrong."""
    if not app_secret:
        raise SignatureError("the account has no app secret to check Meta's signature with")
    signature = _header(headers, "X-Hub-Signature-256").strip()
    if not signature:
        raise SignatureError("no X-Hub-Signature-256 header", missing=True)
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def answer_subscription(params: Mapping[str, str], verify_token: str) -> str:
    """Meta's subscription verification: the ``hub.challenge`` to echo when mode and verify token match."""
    if not verify_token:
        raise SignatureError("the account has no verify token")
    if params.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode is not 'subscribe'", missing=True)
    given = str(params.get("hub.verify_token") or "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        raise SignatureError("hub.verify_token does not match")
    challenge = str(params.get("hub.challenge") or "")
    if not challenge or len(challenge) > 200 or not challenge.isprintable():
        raise SignatureError("no usable hub.challenge", missing=True)
    return challenge
