"""What every OAuth connector that refreshes access tokens shares: the in-process token cache, the write-back of
refreshed tokens to the account's stored credentials, and the error of a refused refresh.

Pure Python (no Django). The caller that builds an ``AccountRef`` (the inbox's ``connect.account_ref``) gives it a
``token_store``: an object the assets app provides (``assets.tokens.AccountTokenStore``) that writes refreshed tokens
into the account's encrypted credentials and records a revoked grant on the account's health. A connector never
talks to the database: it calls :func:`write_back` after a successful refresh and raises :func:`refresh_refused`'s
error when the network refuses the refresh token.

Token versions: ``AccountRef.credentials_version`` is the version of the stored credentials the ref was built from.
A refresh carries it as ``based_on``; the store writes only when the stored version is still that one (a
compare-and-swap under a row lock), so two workers refreshing at once never let the older answer overwrite a newer
token, and a worker whose refresh token was rotated away by another worker does not mark the account revoked.

Without a store (a command, a test, a connector used outside Django) refreshed tokens stay in this process only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from dandelion.connectors.errors import ConnectorError

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: A refused refresh whose account has a newer stored token is retried this soon (the next run reads it).
NEWER_TOKEN_RETRY_S = 5.0


@dataclass(frozen=True, slots=True)
class RefreshedCredentials:
    """Tokens a refresh produced: the credential ``values`` that changed (``access_token``, a rotated
    ``refresh_token``, ``expires_at``...), when the access token expires, and ``based_on``: the stored credentials
    version the refresh started from."""

    values: Mapping[str, str] = field(repr=False)
    expires_at: dt.datetime | None = None
    based_on: int = 0


@runtime_checkable
class TokenStore(Protocol):
    """Where refreshed tokens go (``AccountRef.token_store``)."""

    def save(self, refreshed: RefreshedCredentials) -> bool:
        """Merge ``refreshed.values`` into the stored credentials if their version is still ``refreshed.based_on``;
        False when a newer version is stored (nothing written)."""
        ...

    def revoked(self, error: str, *, based_on: int) -> bool:
        """Record a refused refresh on the account's health, unless a newer version than ``based_on`` is stored
        (another worker refreshed meanwhile: not revoked). True when recorded."""
        ...


def fingerprint(credentials: Mapping[str, Any], *keys: str) -> str:
    """A digest of the named credentials: in-process caches are keyed by it, so new stored credentials (a reconnect,
    a write-back) are never shadowed by a token cached from older ones."""
    joined = "\0".join(str(credentials.get(k) or "") for k in keys)
    return hashlib.sha256(joined.encode()).hexdigest()


class TokenCache(Generic[T]):
    """Tokens refreshed in this process, per account, valid while the stored credentials keep their fingerprint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, tuple[str, T]] = {}

    def get(self, account_id: int, key: str) -> T | None:
        with self._lock:
            entry = self._items.get(account_id)
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, account_id: int, key: str, value: T) -> None:
        with self._lock:
            self._items[account_id] = (key, value)

    def forget(self, account_id: int | None = None) -> None:
        with self._lock:
            if account_id is None:
                self._items.clear()
            else:
                self._items.pop(account_id, None)


def _store(account: Any) -> TokenStore | None:
    store = getattr(account, "token_store", None)
    return store if isinstance(store, TokenStore) else None


def write_back(account: Any, values: Mapping[str, str], *, expires_at: dt.datetime | None = None) -> bool:
    """Hand a refresh's new tokens to the account's store (persisted encrypted, for the next run and other workers).
    True when written; False without a store, when a newer token is stored, or when the store failed (logged: the
    new token still serves this process)."""
    store = _store(account)
    if store is None:
        return False
    refreshed = RefreshedCredentials(values=dict(values), expires_at=expires_at,
                                     based_on=int(getattr(account, "credentials_version", 0) or 0))
    try:
        return bool(store.save(refreshed))
    except Exception:  # the call that needed the token goes on with it
        logger.exception("refreshed tokens of account %s could not be stored", getattr(account, "id", "?"))
        return False


def refresh_refused(account: Any, message: str) -> ConnectorError:
    """The error to raise when the network refused the refresh token (revoked, expired, rotated): permanent and
    recorded on the account's health, unless the store holds a newer token than the one this ref was built from
    (then transient: the next run uses the newer token)."""
    store = _store(account)
    if store is not None:
        try:
            recorded = store.revoked(message, based_on=int(getattr(account, "credentials_version", 0) or 0))
        except Exception:  # recorded as permanent below, as without a store
            logger.exception("the refused refresh of account %s could not be recorded", getattr(account, "id", "?"))
            recorded = True
        if not recorded:
            return ConnectorError(f"{message} (a newer token is stored: retried with it)",
                                  retry_after=NEWER_TOKEN_RETRY_S)
    return ConnectorError(message, permanent=True)


def parse_expiry(value: Any) -> dt.datetime | None:
    """A stored ``expires_at`` (ISO 8601) as an aware UTC datetime; None when absent or unreadable (a time without
    an offset is UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def expires_in(seconds: Any, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The expiry of a token answer's ``expires_in`` (seconds), or None when absent or not a number."""
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return None
    return (now or dt.datetime.now(dt.UTC)) + dt.timedelta(seconds=max(0, value))
