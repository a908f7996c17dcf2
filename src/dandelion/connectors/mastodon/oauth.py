"""Connecting a Mastodon account: app registration and the OAuth 2 authorisation-code flow, on Mastodon.py.

1. ``register_app(instance, redirect_uri)``: ``POST /api/v1/apps`` on the account's instance (each instance is its own
   OAuth server: the app is registered once per instance) → ``client_id`` / ``client_secret``.
2. ``authorize_url(app, state)``: the instance's ``/oauth/authorize`` URL (read from
   ``/.well-known/oauth-authorization-server`` when the instance publishes it) to send the user to; ``state`` comes
   from ``connectors.oauth.make_state`` and is checked on the way back.
3. ``exchange_code(app, code)``: ``POST /oauth/token`` (``grant_type=authorization_code``) → the access token, then
   ``verify_credentials`` for the account's id and ``acct``. The returned ``credentials`` mapping is what the assets
   services store, encrypted (``set_account_credentials``); ``external_id`` / ``handle`` go on the account.

Mastodon's user tokens do not expire (no refresh token is issued): they are revoked by the user or the instance,
which the connector reports as a permanent error on the account's health (connect again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mastodon import Mastodon

from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.mastodon.client import USER_AGENT, make_api, map_error

#: What the connector needs: read notifications/conversations/statuses/accounts, write statuses, mutes, blocks and
#: reports (Mastodon's granular scopes, 4.0+).
SCOPES = ("read", "write:statuses", "write:media", "write:mutes", "write:blocks", "write:reports",
          "write:conversations")
APP_NAME = "Dandelion"


@dataclass(frozen=True)
class AppRegistration:
    """An OAuth app registered on one instance."""

    instance: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = SCOPES


def _allow_http(instance: str) -> bool:
    return urlsplit(instance).scheme == "http"  # a local instance (development, the test mock)


def normalise_instance(instance: str) -> str:
    """``https://host`` for ``host``, ``https://host/``, ``@user@host``'s host..."""
    instance = (instance or "").strip().rstrip("/")
    if not instance:
        raise ConnectorError("no Mastodon instance given", permanent=True)
    if "://" not in instance:
        instance = f"https://{instance}"
    parts = urlsplit(instance)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ConnectorError(f"{instance!r} is not a Mastodon instance URL", permanent=True)
    return f"{parts.scheme}://{parts.netloc}"


def register_app(instance: str, redirect_uri: str, *, name: str = APP_NAME, website: str | None = None,
                 timeout: float = 20.0) -> AppRegistration:
    """Register Dandelion as an OAuth app on ``instance`` (``POST /api/v1/apps``)."""
    base = normalise_instance(instance)
    try:
        client_id, client_secret = Mastodon.create_app(name, scopes=list(SCOPES), redirect_uris=redirect_uri,
                                                       website=website, api_base_url=base,
                                                       request_timeout=timeout, user_agent=USER_AGENT)
    except Exception as exc:
        raise map_error(exc, "register the app") from exc
    return AppRegistration(base, client_id, client_secret, redirect_uri)


def authorize_url(app: AppRegistration, state: str, *, force_login: bool = True) -> str:
    """Where to send the user to grant Dandelion access (their instance's consent screen)."""
    api = make_api(app.instance, client_id=app.client_id, client_secret=app.client_secret)
    try:
        return api.auth_request_url(redirect_uris=app.redirect_uri, scopes=list(app.scopes), state=state,
                                    force_login=force_login, allow_http=_allow_http(app.instance))
    except Exception as exc:
        raise map_error(exc, "build the authorisation URL") from exc


def exchange_code(app: AppRegistration, code: str) -> dict[str, Any]:
    """Trade the redirect's ``code`` for a token; ``{"credentials": {...}, "external_id", "handle"}``."""
    if not code:
        raise ConnectorError("the instance sent no authorisation code (was access denied?)", permanent=True)
    api = make_api(app.instance, client_id=app.client_id, client_secret=app.client_secret)
    try:
        token = api.log_in(code=code, redirect_uri=app.redirect_uri, scopes=list(app.scopes),
                           allow_http=_allow_http(app.instance))
        me = api.account_verify_credentials()
    except Exception as exc:
        if "Invalid access token or redirect_uris" in str(exc):
            raise ConnectorError(f"the instance refused the authorisation code: {str(exc)[:300]}",
                                 permanent=True) from exc
        raise map_error(exc, "exchange the authorisation code") from exc
    host = urlsplit(app.instance).netloc
    acct = str(me["acct"])
    return {
        "credentials": {"access_token": token, "client_id": app.client_id, "client_secret": app.client_secret},
        "config": {"instance": app.instance},
        "external_id": str(me["id"]),
        "handle": acct if "@" in acct else f"{acct}@{host}",
        "display_name": str(me.get("display_name") or ""),
    }


def revoke(app: AppRegistration, access_token: str) -> None:
    """Revoke the token (disconnecting the account) on the instance."""
    api = make_api(app.instance, access_token=access_token, client_id=app.client_id,
                   client_secret=app.client_secret)
    try:
        api.revoke_access_token(allow_http=_allow_http(app.instance))
    except Exception as exc:
        raise map_error(exc, "revoke the token") from exc
