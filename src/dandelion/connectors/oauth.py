"""What every OAuth 2 authorisation-code flow of a connector shares: the ``state`` parameter that ties the network's
redirect back to the account being connected, signed and short-lived (RFC 6749 §10.12: CSRF on the redirect).

Pure Python (no Django): the caller passes its secret (``settings.SECRET_KEY`` or a key derived from it). The state
carries the account id, a random nonce and an expiry, HMAC-SHA256 signed; ``check_state`` refuses a forged, altered
or expired one, or one issued for another account. Network-specific steps (app registration, the authorise URL, the
code exchange) live in ``connectors/<network>/oauth.py``; the tokens they return are stored encrypted by the assets
services like every credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from dandelion.connectors.errors import ConnectorError

#: How long a user may take between leaving for the network's consent screen and coming back.
STATE_TTL_S = 15 * 60


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def make_state(secret: str, account_id: int, *, now: float | None = None, ttl_s: int = STATE_TTL_S) -> str:
    """A signed, expiring ``state`` for connecting ``account_id``."""
    if not secret:
        raise ValueError("an OAuth state needs a secret")
    payload = _b64(json.dumps({"a": int(account_id), "n": secrets.token_urlsafe(12),
                               "e": int((now or time.time()) + ttl_s)}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, payload)}"


def check_state(secret: str, state: str, *, account_id: int | None = None, now: float | None = None) -> int:
    """The account id a valid ``state`` was issued for; a permanent ``ConnectorError`` otherwise."""
    try:
        payload, mac = state.split(".", 1)
        if not hmac.compare_digest(mac, _mac(secret, payload)):
            raise ValueError("bad signature")
        data = json.loads(_unb64(payload))
        issued_for, expires = int(data["a"]), int(data["e"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConnectorError(f"the OAuth state is not one Dandelion issued ({exc})", permanent=True) from None
    if expires < (now or time.time()):
        raise ConnectorError("the OAuth authorisation took too long: start connecting the account again",
                             permanent=True)
    if account_id is not None and issued_for != account_id:
        raise ConnectorError("the OAuth state was issued for another account", permanent=True)
    return issued_for


# --- the connections a browser session is waiting for (the "Connect" views of assets and publishing) ---------------


def remember_pending(session, key: str, state: str, asked: dict, *, keep: int = 5) -> None:
    """Keep in ``session[key]`` what this session asked for under ``state`` (at most ``keep``, the oldest dropped)."""
    pending = dict(session.get(key) or {})
    pending[state] = asked
    session[key] = dict(list(pending.items())[-keep:])


def take_pending(session, key: str, secret: str, state: str, *, user_id) -> dict | None:
    """What this session asked for under ``state``, once (the entry is removed: a state is used once), or None when
    the state is forged, altered, expired, from another session or for another person (CSRF on the redirect,
    RFC 6749 §10.12). The dict holds ``app`` (the id the signed state names) and what the caller stored."""
    pending = dict(session.get(key) or {})
    asked = pending.pop(state, None)
    session[key] = pending
    try:
        app_id = check_state(secret, state)
    except ConnectorError:
        return None
    if asked is None or asked.get("user") != user_id or asked.get("app") != app_id:
        return None
    return asked
