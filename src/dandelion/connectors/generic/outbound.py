"""Delivering JSON to a customer-provided URL, signed like inbound deliveries, with errors callers can act on.

Maps the remote answer onto ``ConnectorError``: 429 and 5xx (and network failures, timeouts) are retryable, with
``retry_after`` taken from a ``Retry-After`` header (seconds or an HTTP date); other 4xx and 3xx (redirects are not
followed) are permanent.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.generic.webhook import SIGNATURE_HEADER, sign

USER_AGENT = "Dandelion-Connector/1"
MAX_RESPONSE_BYTES = 64 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx surfaces as an HTTPError: never re-send a signed body somewhere else


_opener = urllib.request.build_opener(_NoRedirect)


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def post_signed_json(url: str, payload: Mapping[str, Any], *, secret: str, timeout: float) -> Any:
    """POST ``payload`` as JSON to ``url``, signed with ``secret``; return the decoded JSON answer (or None).

    Raises ``ConnectorError`` (see module docstring for which are permanent).
    """
    if not url.startswith(("https://", "http://")):
        raise ConnectorError(f"reply URL must be http(s): {url!r}", permanent=True)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE_BYTES)
    except urllib.error.HTTPError as exc:
        retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
        exc.close()
        if exc.code == 429 or exc.code >= 500:
            raise ConnectorError(f"{url} answered HTTP {exc.code}", retry_after=retry_after) from exc
        raise ConnectorError(f"{url} answered HTTP {exc.code}", permanent=True) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConnectorError(f"could not reach {url}: {reason}") from exc
    if not raw.strip():
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None  # accepted (2xx) but not JSON: fine, we just have no remote id
