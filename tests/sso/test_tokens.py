"""Bad ID tokens are refused with a clear page and an audit row, and nothing is provisioned: wrong audience,
issuer, nonce or signature, expired, unsigned. The provider's discovery and keys are served from memory here (the
real provider is exercised in test_oidc_real.py); tokens are signed with keys made for the test."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.sso import oidc, services
from dandelion.sso.exceptions import SignInRefused
from dandelion.sso.models import ExternalIdentity

ISSUER = "https://idp.example.test"
KEY = RSAKey.generate_key(2048, parameters={"kid": "good"}, private=True)
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "good"}, private=True)  # same kid, not the provider's


@pytest.fixture
def provider(org, monkeypatch):
    documents = {
        f"{ISSUER}/.well-known/openid-configuration": {
            "issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks"},
        f"{ISSUER}/jwks": {"keys": [KEY.as_dict(private=False)]},
    }
    monkeypatch.setattr(oidc, "_get_json", lambda url: documents[url])
    p = services.create_provider(actor=SYSTEM, name="Test IdP", slug="test", issuer=ISSUER, client_id="dandelion",
                                 client_secret="s", bound_unit=org.europe)
    services.create_rule(actor=SYSTEM, provider=p, value="fr", unit=org.france, role=Role.COMMUNITY_MANAGER)
    return p


def token(key=KEY, alg="RS256", **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": "dandelion", "sub": "u-1", "nonce": "n-1", "iat": now, "exp": now + 300,
              "preferred_username": "zoe", "groups": ["fr"]}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": "good"}, claims, key)


def test_a_good_token_gives_its_claims(provider):
    claims = oidc.validate_id_token(provider, token(), nonce="n-1")
    assert claims["sub"] == "u-1" and claims["groups"] == ["fr"]


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"aud": "someone-else"}, "audience"),
    ({"aud": ["someone-else", "dandelion"]}, "audience"),  # several audiences and no azp naming us
    ({"iss": "https://evil.example"}, "issuer"),
    ({"nonce": "replayed"}, "nonce"),
    ({"nonce": None}, "nonce"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
])
def test_bad_claims_are_refused(provider, overrides, reason):
    with pytest.raises(SignInRefused) as caught:
        oidc.validate_id_token(provider, token(**overrides), nonce="n-1")
    assert caught.value.reason == reason


def test_a_token_signed_by_another_key_is_refused(provider):
    with pytest.raises(SignInRefused) as caught:
        oidc.validate_id_token(provider, token(key=OTHER_KEY), nonce="n-1")
    assert caught.value.reason == "bad_signature"


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_symmetric_or_unsigned_tokens_are_refused(provider, alg):
    if alg == "none":
        header = jwt.encode({"alg": "HS256"}, {"sub": "x"}, OctKey.import_key("k" * 32)).split(".")[0]
        import base64
        import json

        def b64(d):
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

        forged = f"{b64({'alg': 'none'})}.{b64({'iss': ISSUER, 'aud': 'dandelion', 'sub': 'u', 'nonce': 'n-1'})}."
        assert header
    else:
        forged = token(key=OctKey.import_key("shared-secret-shared-secret-0123"), alg="HS256")
    with pytest.raises(SignInRefused) as caught:
        oidc.validate_id_token(provider, forged, nonce="n-1")
    assert caught.value.reason == "bad_signature"


def _callback_with(client, provider, monkeypatch, id_token: str):
    start = client.get("/sso/test/start/")
    assert start.status_code == 302 and start["Location"].startswith(f"{ISSUER}/auth?")
    state = client.session[oidc.SESSION_KEY]
    (state_key, flow), = state.items()
    monkeypatch.setattr(oidc, "exchange_code", lambda *a, **k: {"id_token": id_token})
    return client.get("/sso/test/callback/", {"code": "c", "state": state_key}), flow


@pytest.mark.parametrize("overrides", [{"aud": "other"}, {"iss": "https://evil.example"}, {"nonce": "wrong"},
                                       {"exp": 1000, "iat": 900}])
def test_the_callback_refuses_a_bad_token_with_a_page_and_an_audit_row(client, provider, monkeypatch, overrides):
    response, _ = _callback_with(client, provider, monkeypatch, token(**overrides))
    assert response.status_code == 400
    assert b"Sign-in refused" in response.content and b'id="sso-error"' in response.content
    assert not ExternalIdentity.objects.exists()
    assert "_auth_user_id" not in client.session
    row = AuditEvent.objects.get(action="sso.signin.refused")
    assert row.unit_id == provider.bound_unit_id and row.changes["reason"]


def test_the_callback_signs_in_with_a_good_token_and_its_nonce(client, provider, monkeypatch):
    start = client.get("/sso/test/start/")
    (state_key, flow), = client.session[oidc.SESSION_KEY].items()
    monkeypatch.setattr(oidc, "exchange_code", lambda *a, **k: {"id_token": token(nonce=flow["nonce"])})
    response = client.get("/sso/test/callback/", {"code": "c", "state": state_key})
    assert response.status_code == 302, response.content[:300]
    assert start.status_code == 302
    identity = ExternalIdentity.objects.get()
    assert identity.user.memberships.get().role == Role.COMMUNITY_MANAGER
    # the state is single-use: replaying the callback is refused
    replay = client.get("/sso/test/callback/", {"code": "c", "state": state_key})
    assert replay.status_code == 400 and b"already used" in replay.content


def test_an_unknown_state_is_refused(client, provider):
    response = client.get("/sso/test/callback/", {"code": "c", "state": "forged"})
    assert response.status_code == 400
    assert AuditEvent.objects.filter(action="sso.signin.refused", changes__reason="bad_state").exists()


def test_a_discovery_document_naming_another_issuer_is_refused(provider, monkeypatch):
    monkeypatch.setattr(oidc, "_get_json", lambda url: {"issuer": "https://other.example"})
    with pytest.raises(SignInRefused) as caught:
        oidc.metadata(provider, refresh=True)
    assert caught.value.reason == "issuer_mismatch"
