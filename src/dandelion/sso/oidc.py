"""The OpenID Connect relying party: authorisation code with PKCE (S256), through Authlib's OAuth 2 client, and the
ID token checked with joserfc (Authlib's JOSE library): signature against the provider's published keys, issuer,
audience, nonce, expiry and issue time. Every refusal is a :class:`SignInRefused` with a reason code.

Providers are data (:class:`IdentityProvider`): their discovery documents and key sets are fetched on first use and
kept in Django's cache for ``DANDELION_SSO_METADATA_SECONDS``.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import requests
from authlib.common.security import generate_token  # type: ignore[import-untyped]
from authlib.integrations.requests_client import OAuth2Session  # type: ignore[import-untyped]
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    InvalidTokenError,
    JoseError,
    MissingClaimError,
    MissingKeyError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from dandelion.sso.exceptions import SignInRefused
from dandelion.sso.models import IdentityProvider

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
SESSION_KEY = "sso_flows"
FLOW_SECONDS = 600  # an authorisation started more than ten minutes ago is refused
MAX_FLOWS = 5


def _timeout() -> float:
    return float(getattr(settings, "DANDELION_SSO_HTTP_TIMEOUT", 10.0))


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=_timeout(), headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as e:
        raise SignInRefused(_("The identity provider could not be reached (%(name)s).") % {"name": type(e).__name__},
                            reason="provider_unreachable", status=502) from e
    if not isinstance(data, dict):
        raise SignInRefused(_("The identity provider answered with something else than JSON."),
                            reason="provider_unreachable", status=502)
    return data


def metadata(provider: IdentityProvider, *, refresh: bool = False) -> dict:
    """The provider's discovery document (cached); its ``issuer`` must be the configured one exactly."""
    key = f"sso:meta:{provider.pk}:{provider.issuer}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = _get_json(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if data.get("issuer") != provider.issuer:
            raise SignInRefused(_("The discovery document of %(name)s names another issuer.") % {"name": provider.name},
                                reason="issuer_mismatch", status=502)
        cache.set(key, data, getattr(settings, "DANDELION_SSO_METADATA_SECONDS", 3600))
    return data


def key_set(provider: IdentityProvider, *, refresh: bool = False) -> KeySet:
    key = f"sso:jwks:{provider.pk}:{provider.issuer}"
    data = None if refresh else cache.get(key)
    if data is None:
        data = _get_json(metadata(provider)["jwks_uri"])
        cache.set(key, data, getattr(settings, "DANDELION_SSO_METADATA_SECONDS", 3600))
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]  # checked by joserfc itself
    except (JoseError, ValueError, KeyError, TypeError) as e:
        raise SignInRefused(_("The identity provider's keys cannot be read."), reason="bad_keys", status=502) from e


def _session(provider: IdentityProvider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(client_id=provider.client_id, client_secret=provider.client_secret,
                         scope=provider.scopes, redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic")


def begin(request, provider: IdentityProvider, *, redirect_uri: str, next_url: str = "") -> str:
    """Start a sign-in: remember state, nonce and the PKCE verifier in the session; return the provider's URL."""
    meta = metadata(provider)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    url, _state = _session(provider, redirect_uri).create_authorization_url(
        meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce)
    flows = {k: v for k, v in request.session.get(SESSION_KEY, {}).items()
             if v.get("at", 0) > time.time() - FLOW_SECONDS}
    flows = dict(sorted(flows.items(), key=lambda kv: kv[1]["at"])[-(MAX_FLOWS - 1):])
    flows[state] = {"provider": provider.pk, "nonce": nonce, "verifier": verifier, "next": next_url,
                    "at": time.time()}
    request.session[SESSION_KEY] = flows
    return url


def pop_flow(request, provider: IdentityProvider, state: str) -> dict:
    flows = request.session.get(SESSION_KEY, {})
    flow = flows.pop(state, None) if state else None
    request.session[SESSION_KEY] = flows
    if flow is None or flow.get("provider") != provider.pk:
        raise SignInRefused(_("This sign-in link is unknown or was already used: start again."), reason="bad_state",
                            status=400)
    if flow["at"] < time.time() - FLOW_SECONDS:
        raise SignInRefused(_("This sign-in took too long: start again."), reason="bad_state", status=400)
    return flow


def exchange_code(provider: IdentityProvider, *, code: str, verifier: str, redirect_uri: str) -> dict:
    """The token response for ``code`` (PKCE verifier sent), or a refusal."""
    meta = metadata(provider)
    try:
        return dict(_session(provider, redirect_uri).fetch_token(
            meta["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=verifier,
            timeout=_timeout()))
    except Exception as e:  # Authlib raises OAuthError, requests its own: both mean "no token"
        raise SignInRefused(_("The identity provider refused the code (%(e)s).") % {"e": getattr(e, 'error', type(e).__name__)},
                            reason="token_exchange", status=400) from e


def validate_id_token(provider: IdentityProvider, id_token: str, *, nonce: str, now: int | None = None) -> dict:
    """The claims of ``id_token`` once its signature, issuer, audience, nonce, expiry and issue time are checked."""
    if not id_token or not isinstance(id_token, str):
        raise SignInRefused(_("The identity provider sent no ID token."), reason="no_id_token", status=400)
    keys = key_set(provider)
    try:
        try:
            token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        except (MissingKeyError, InvalidKeyIdError):
            token = jwt.decode(id_token, key_set(provider, refresh=True), algorithms=ALGORITHMS)  # rotated keys
    except BadSignatureError as e:
        raise SignInRefused(_("The ID token's signature is not the identity provider's."), reason="bad_signature",
                            status=400) from e
    except (JoseError, ValueError) as e:
        raise SignInRefused(_("The ID token cannot be read or verified (%(name)s).") % {"name": type(e).__name__}, reason="bad_signature",
                            status=400) from e
    claims: dict[str, Any] = dict(token.claims)
    leeway = int(getattr(settings, "DANDELION_SSO_LEEWAY_SECONDS", 60))
    registry = JWTClaimsRegistry(
        now=now, leeway=leeway,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": provider.client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as e:
        raise SignInRefused(_("The ID token has expired."), reason="expired", status=400) from e
    except (InvalidClaimError, MissingClaimError) as e:
        name = getattr(e, "claim", "") or str(e)
        reason = next((c for c in ("iss", "aud", "nonce", "sub", "exp", "iat") if c in name), "bad_claim")
        label = {"iss": "issuer", "aud": "audience", "nonce": "nonce"}.get(reason, reason)
        raise SignInRefused(_("The ID token's %(label)s is wrong.") % {"label": label}, reason={"iss": "issuer", "aud": "audience"}.get(
            reason, reason), status=400) from e
    except (InvalidTokenError, JoseError) as e:
        raise SignInRefused(_("The ID token is not valid (%(name)s).") % {"name": type(e).__name__}, reason="bad_claim", status=400) from e
    if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != provider.client_id:
        raise SignInRefused(_("The ID token's audience is wrong."), reason="audience", status=400)
    return claims


def new_secret() -> str:
    return secrets.token_urlsafe(32)
