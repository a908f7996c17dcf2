"""Connecting a Facebook Page (or the Instagram business account linked to it) through Facebook Login.

Meta has no dynamic client registration: the operator creates one Meta app in the developer console and gives
Dandelion its id and secret in the environment (``DANDELION_META_APP_ID``, ``DANDELION_META_APP_SECRET``);
``register`` only reads them. The flow (authorisation code, redirect handled by Dandelion):

1. ``authorize_url``: ``https://www.facebook.com/<version>/dialog/oauth?client_id&redirect_uri&state&scope``
   (``state`` signed and single-use, from ``connectors.oauth.make_state``, checked by the caller);
2. ``exchange``: ``GET /oauth/access_token`` (code → short-lived user token), ``GET /oauth/access_token?grant_type=
   fb_exchange_token`` (→ long-lived user token, ~60 days), ``GET /me/accounts`` (→ the Pages the user granted, each
   with its Page access token: a Page token obtained from a long-lived user token does not expire). The first Page
   granted (with a linked Instagram business account, for Instagram) is the one connected: the user picks Pages in
   Facebook Login's own dialog, so connect one Page per consent.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

import httpx

from dandelion.connectors.base import OAuthClient, OAuthGrant
from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.meta import graph
from dandelion.connectors.tolerant import bounded_id, clean_text

INSTANCE = "https://www.facebook.com"


def register(redirect_uri: str) -> OAuthClient:
    app_id = os.environ.get("DANDELION_META_APP_ID", "").strip()
    secret = os.environ.get("DANDELION_META_APP_SECRET", "").strip()
    if not app_id or not secret:
        raise ConnectorError(
            "set DANDELION_META_APP_ID and DANDELION_META_APP_SECRET (your Meta app's id and "
            "secret, from developers.facebook.com) to connect Facebook and Instagram accounts",
            permanent=True,
        )
    return OAuthClient(
        instance=INSTANCE,
        redirect_uri=redirect_uri,
        credentials={"client_id": app_id, "client_secret": secret},
    )


def authorize_url(client: OAuthClient, *, state: str, scopes: tuple[str, ...]) -> str:
    query = urlencode(
        {
            "client_id": client.credentials.get("client_id", ""),
            "redirect_uri": client.redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
    )
    return f"{graph.DIALOG_URL}/{graph.GRAPH_VERSION}/dialog/oauth?{query}"


def _get(path: str, params: dict[str, Any], what: str) -> Any:
    url = f"{graph.GRAPH_URL}/{graph.GRAPH_VERSION}/{path}"
    try:
        response = httpx.get(url, params=params, timeout=20.0)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"cannot reach the Graph API to {what} ({type(exc).__name__})") from exc
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code >= 400 or not isinstance(payload, dict) or "error" in payload:
        raise graph.map_error(response.status_code, payload, what)
    return payload


def exchange(client: OAuthClient, *, code: str, instagram: bool = False) -> OAuthGrant:
    if not code:
        raise ConnectorError("Facebook sent no authorisation code (was access denied?)", permanent=True)
    app_id, secret = client.credentials.get("client_id", ""), client.credentials.get("client_secret", "")
    short = _get(
        "oauth/access_token",
        {"client_id": app_id, "client_secret": secret, "redirect_uri": client.redirect_uri, "code": code},
        "exchange the code",
    )
    long = _get(
        "oauth/access_token",
        {
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": secret,
            "fb_exchange_token": short.get("access_token", ""),
        },
        "get a long-lived token",
    )
    user_token = str(long.get("access_token") or "")
    pages = _get(
        "me/accounts",
        {
            "access_token": user_token,
            "appsecret_proof": graph.appsecret_proof(user_token, secret),
            "fields": "id,name,access_token,instagram_business_account{id,username,name}",
        },
        "list the Pages granted",
    )
    for page in pages.get("data") or []:
        if not isinstance(page, dict) or not page.get("access_token") or not page.get("id"):
            continue
        credentials = {"page_access_token": str(page["access_token"]), "app_secret": secret}
        if not instagram:
            name = clean_text(page.get("name"), 200)
            return OAuthGrant(
                external_id=bounded_id(str(page["id"])),
                handle=bounded_id(str(page["id"])),
                credentials=credentials,
                config={"app_id": app_id},
                display_name=name,
                url=f"https://www.facebook.com/{page['id']}",
            )
        ig = page.get("instagram_business_account")
        if isinstance(ig, dict) and ig.get("id"):
            username = clean_text(ig.get("username") or ig["id"], 150)
            return OAuthGrant(
                external_id=bounded_id(str(ig["id"])),
                handle=username,
                credentials=credentials,
                config={"page_id": str(page["id"]), "app_id": app_id},
                display_name=clean_text(ig.get("name") or username, 200),
                url=f"https://www.instagram.com/{username}/",
            )
    what = "a Page with an Instagram business account" if instagram else "a Page"
    raise ConnectorError(f"the consent granted no {what}: connect again and select one", permanent=True)
