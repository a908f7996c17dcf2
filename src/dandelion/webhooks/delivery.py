"""Sending one webhook: the target check, the signature, the HTTP POST, and the retry schedule. No database here.

Signature (see ``docs/webhooks.md``): ``X-Dandelion-Timestamp`` is the Unix time of the attempt and
``X-Dandelion-Signature`` is ``v1=`` + hex(HMAC-SHA256(secret, "<timestamp>." + body)). A receiver recomputes it over
the raw body, compares in constant time and refuses timestamps older than a few minutes (replays).

Target safety: only ``http``/``https`` URLs without credentials; unless ``DANDELION_WEBHOOK_ALLOW_PRIVATE``, a host
that is, or resolves to, a non-global address (loopback, private, link-local, shared, reserved, multicast: the
cloud metadata endpoint, the database, the intranet) is refused. The connection goes to the very address that was
checked (no second DNS lookup a rebinding attacker could answer differently), and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import random
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from dandelion.webhooks.exceptions import InvalidTarget

USER_AGENT = "Dandelion-Webhooks/1"
SIGNATURE_HEADER = "X-Dandelion-Signature"
TIMESTAMP_HEADER = "X-Dandelion-Timestamp"
RESPONSE_EXCERPT = 2000  # characters of the receiver's answer kept in the log
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


def setting(name: str, default):
    return getattr(settings, name, default)


def allow_private() -> bool:
    return bool(setting("DANDELION_WEBHOOK_ALLOW_PRIVATE", False))


# --- targets -----------------------------------------------------------------------------------------------------


def _refused_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: str, *, private_ok: bool | None = None) -> str:
    """The URL, stripped, if Dandelion may POST to it; else :class:`InvalidTarget` (with the reason). Checks what
    can be checked without the network (DNS answers are checked at each attempt)."""
    private_ok = allow_private() if private_ok is None else private_ok
    url = (url or "").strip()
    if len(url) > 500:
        raise InvalidTarget(_("The URL is longer than 500 characters."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTarget(_("The URL is not valid: %(exc)s.") % {"exc": exc}, field="url") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidTarget(_("Only http:// and https:// URLs can receive webhooks."), field="url")
    if not parts.hostname:
        raise InvalidTarget(_("The URL has no host."), field="url")
    if parts.username or parts.password:
        raise InvalidTarget(_("Put no credentials in the URL: receivers verify the signature instead."), field="url")
    if port == 0:
        raise InvalidTarget(_("The URL's port is not valid."), field="url")
    if private_ok:
        return url
    host = parts.hostname.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
            raise InvalidTarget(_("%(host)s is a local name: webhooks go to public addresses only.") % {"host": host}, field="url") \
                from None
        return url
    if _refused_address(ip):
        raise InvalidTarget(_("%(ip)s is not a public address: webhooks go to public addresses only.") % {"ip": ip}, field="url")
    return url


def resolve(host: str, port: int, *, private_ok: bool) -> str:
    """The address to connect to (the first acceptable answer); :class:`InvalidTarget` when every answer is
    refused, ``OSError`` when the name does not resolve."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    refused: list[str] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = str(sockaddr[0])
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if private_ok or not _refused_address(ip):
            return address
        refused.append(address)
    raise InvalidTarget(_("%(host)s resolves to %(join)s: not a public address.") % {"host": host, "join": ', '.join(refused[:3])}, field="url")


# --- signing -----------------------------------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode("utf-8")


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, body: bytes, timestamp: str, signature: str, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """The receiver's check (also the reference recipe of the docs): right signature, recent timestamp."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in (signature or "").split(","))


# --- the attempt -------------------------------------------------------------------------------------------------


@dataclass
class AttemptResult:
    ok: bool
    status: int | None = None
    body: str = ""
    duration_ms: int = 0
    error: str = ""
    refused: bool = False  # the target was refused (not an HTTP failure): no point retrying soon


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float | None = None,
         private_ok: bool | None = None) -> AttemptResult:
    """POST ``body`` to ``url``: 2xx is success; anything else, a timeout or a network error is a failure."""
    timeout = float(setting("DANDELION_WEBHOOK_TIMEOUT", 10) if timeout is None else timeout)
    private_ok = allow_private() if private_ok is None else private_ok
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        url = check_url(url, private_ok=private_ok)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""  # check_url refused a URL without a host
        address = resolve(host, port, private_ok=private_ok)
    except InvalidTarget as exc:
        return AttemptResult(ok=False, error=exc.message, refused=True, duration_ms=elapsed())
    except OSError as exc:
        return AttemptResult(ok=False, error=f"DNS lookup failed: {exc}"[:500], duration_ms=elapsed())
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = conn.getresponse()
        raw = response.read(RESPONSE_EXCERPT * 4)
        status = response.status
    except TimeoutError:
        return AttemptResult(ok=False, error=f"Timed out after {timeout:g} s.", duration_ms=elapsed())
    except ssl.SSLError as exc:
        return AttemptResult(ok=False, error=f"TLS error: {exc}"[:500], duration_ms=elapsed())
    except (OSError, http.client.HTTPException) as exc:
        return AttemptResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:500], duration_ms=elapsed())
    finally:
        conn.close()
    text = raw.decode("utf-8", errors="replace").replace("\x00", "")[:RESPONSE_EXCERPT]
    ok = 200 <= status < 300
    error = "" if ok else (f"HTTP {status} (redirects are not followed)" if 300 <= status < 400 else f"HTTP {status}")
    return AttemptResult(ok=ok, status=status, body=text, duration_ms=elapsed(), error=error)


# --- retries -----------------------------------------------------------------------------------------------------


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: exponential (base × 2^(n-1), capped) with
    "equal jitter" (between half and all of it), so receivers coming back are not hit by every sender at once."""
    base = float(setting("DANDELION_WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = float(setting("DANDELION_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)
