"""The hub's REST API for single sign-on: providers, claim rules and the per-unit local password switch. The
permission matrix (the hub only: a 403 for everyone else on every endpoint, before the input is read), each write
through the services with its audit row, the secret write-only, the subtree check on rules, the SCIM token once."""

from __future__ import annotations

import pytest

from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.sso.models import ClaimRule, IdentityProvider, LocalPasswordPolicy, hash_token
from tests.sso.test_provisioning import SECRET, provider  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

OTHERS = ["es_admin", "europe_admin", "fr_cm", "es_agent", "moderator", "pr", "analyst", "nobody"]


def endpoints(provider):
    rule = provider.rules.first()
    return [("get", "/api/v1/sso-providers/", None), ("get", f"/api/v1/sso-providers/{provider.pk}/", None),
            ("post", "/api/v1/sso-providers/", {"name": "X"}),
            ("patch", f"/api/v1/sso-providers/{provider.pk}/", {"name": "Hacked"}),
            ("delete", f"/api/v1/sso-providers/{provider.pk}/", None),
            ("post", f"/api/v1/sso-providers/{provider.pk}/scim-token/", None),
            ("get", "/api/v1/sso-rules/", None), ("get", f"/api/v1/sso-rules/{rule.pk}/", None),
            ("post", "/api/v1/sso-rules/", {"provider": provider.pk}),
            ("patch", f"/api/v1/sso-rules/{rule.pk}/", {"is_active": False}),
            ("delete", f"/api/v1/sso-rules/{rule.pk}/", None),
            ("get", "/api/v1/sso-local-passwords/", None),
            ("post", "/api/v1/sso-local-passwords/", {"unit": provider.bound_unit_id, "allowed": False})]


@pytest.mark.parametrize("who", OTHERS)
def test_nobody_but_the_hub_reaches_any_endpoint(org, provider, client_for, who):
    c = client_for(getattr(org.users, who))
    for method, url, body in endpoints(provider):
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        assert getattr(c, method)(url, **kwargs).status_code == 403, (who, method, url)
    assert IdentityProvider.objects.get().name == "Agency" and ClaimRule.objects.count() == 2
    assert not LocalPasswordPolicy.objects.exists() and provider.scim_token_hint == ""
    assert not AuditEvent.objects.filter(action__startswith="sso.", actor=getattr(org.users, who)).exists()


def test_anonymous_callers_are_refused(provider, client):
    for method, url, body in endpoints(provider):
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        assert getattr(client, method)(url, **kwargs).status_code in (401, 403), url


def test_the_hub_lists_and_reads_providers_without_their_secret(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    body = hub.get("/api/v1/sso-providers/").json()
    assert [p["slug"] for p in body["results"]] == ["agency"]
    detail = hub.get(f"/api/v1/sso-providers/{provider.pk}/").json()
    assert detail["redirect_uri"].endswith("/sso/agency/callback/") and detail["rule_count"] == 2
    assert "client_secret" not in detail and SECRET not in str(detail)
    assert hub.get("/api/v1/sso-providers/999999/").status_code == 404


def test_the_hub_creates_updates_and_deletes_a_provider(org, client_for):
    hub = client_for(org.users.hub_admin)
    new = {"name": "Okta", "slug": "okta", "issuer": "https://acme.okta.com", "client_id": "0oa1",
           "client_secret": "s3cret value", "scopes": "openid  email", "bound_unit": org.france.pk}
    created = hub.post("/api/v1/sso-providers/", new, content_type="application/json")
    assert created.status_code == 201, created.content
    provider = IdentityProvider.objects.get(slug="okta")
    assert provider.client_secret == "s3cret value" and provider.scopes == "openid email"
    assert "client_secret" not in created.json()
    assert AuditEvent.objects.filter(action="sso.provider.create", actor=org.users.hub_admin).exists()

    # the secret left out is kept; slug and bound unit are read-only on update
    changed = hub.patch(f"/api/v1/sso-providers/{provider.pk}/",
                        {"name": "Okta EU", "slug": "other", "bound_unit": org.spain.pk},
                        content_type="application/json")
    assert changed.status_code == 200, changed.content
    provider.refresh_from_db()
    assert (provider.name, provider.slug, provider.bound_unit_id) == ("Okta EU", "okta", org.france.pk)
    assert provider.client_secret == "s3cret value"
    hub.patch(f"/api/v1/sso-providers/{provider.pk}/", {"client_secret": "new one"},
              content_type="application/json")
    provider.refresh_from_db()
    assert provider.client_secret == "new one"
    row = AuditEvent.objects.filter(action="sso.provider.update").latest("id")
    assert "new one" not in str(row.changes) and row.changes["client_secret"] == ["…", "(replaced)"]

    assert hub.delete(f"/api/v1/sso-providers/{provider.pk}/").status_code == 204
    assert not IdentityProvider.objects.filter(slug="okta").exists()
    assert AuditEvent.objects.filter(action="sso.provider.delete").exists()


@pytest.mark.parametrize("change, field", [
    ({"scopes": "email profile"}, "scopes"),
    ({"issuer": "not a url"}, "issuer"),
    ({"client_secret": ""}, "client_secret"),
    ({"bound_unit": 999999}, "bound_unit"),
])
def test_bad_provider_input_is_a_400_naming_the_field(org, client_for, change, field):
    hub = client_for(org.users.hub_admin)
    new = {"name": "Okta", "slug": "okta", "issuer": "https://acme.okta.com", "client_id": "0oa1",
           "client_secret": "x", "bound_unit": org.france.pk, **change}
    response = hub.post("/api/v1/sso-providers/", new, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not IdentityProvider.objects.filter(slug="okta").exists()


def test_a_second_provider_with_the_same_issuer_is_a_409(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    new = {"name": "Copy", "slug": "copy", "issuer": provider.issuer, "client_id": "c", "client_secret": "x",
           "bound_unit": org.france.pk}
    assert hub.post("/api/v1/sso-providers/", new, content_type="application/json").status_code == 409
    assert IdentityProvider.objects.count() == 1


def test_the_scim_token_is_shown_once_and_only_its_hash_kept(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    response = hub.post(f"/api/v1/sso-providers/{provider.pk}/scim-token/")
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    token = response.json()["token"]
    provider.refresh_from_db()
    assert provider.scim_token_hash == hash_token(token) and token not in str(provider.__dict__.values())
    assert hub.get(f"/api/v1/sso-providers/{provider.pk}/").json()["scim_token_hint"] == token[5:9]
    # the token works against SCIM
    scim = hub.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert scim.status_code == 200


def test_rules_through_the_api_keep_to_the_providers_subtree(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    listed = hub.get(f"/api/v1/sso-rules/?provider={provider.pk}").json()
    assert len(listed["results"]) == 2
    # Spain-bound provider: a rule on France is refused, naming the unit
    outside = hub.post("/api/v1/sso-rules/", {"provider": provider.pk, "claim": "groups", "value": "fr",
                                              "unit": org.france.pk, "role": Role.HELPER_AGENT},
                       content_type="application/json")
    assert outside.status_code == 400 and "unit" in str(outside.json()), outside.content
    inside = hub.post("/api/v1/sso-rules/", {"provider": provider.pk, "claim": "groups", "value": "es-pr",
                                             "unit": org.spain.pk, "role": Role.PR_MANAGER},
                      content_type="application/json")
    assert inside.status_code == 201, inside.content
    rule = ClaimRule.objects.get(value="es-pr")
    duplicate = hub.post("/api/v1/sso-rules/", {"provider": provider.pk, "claim": "groups", "value": "es-pr",
                                                "unit": org.spain.pk, "role": Role.PR_MANAGER},
                         content_type="application/json")
    assert duplicate.status_code == 409
    moved = hub.patch(f"/api/v1/sso-rules/{rule.pk}/", {"unit": org.france.pk}, content_type="application/json")
    assert moved.status_code == 400
    rule.refresh_from_db()
    assert rule.unit_id == org.spain.pk
    off = hub.patch(f"/api/v1/sso-rules/{rule.pk}/", {"is_active": False}, content_type="application/json")
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert hub.delete(f"/api/v1/sso-rules/{rule.pk}/").status_code == 204
    actions = set(AuditEvent.objects.filter(action__startswith="sso.rule.").values_list("action", flat=True))
    assert {"sso.rule.create", "sso.rule.update", "sso.rule.delete"} <= actions
    assert hub.get("/api/v1/sso-rules/?provider=abc").status_code == 400


def test_the_local_password_switch_through_the_api(org, client_for):
    hub = client_for(org.users.hub_admin)
    off = hub.post("/api/v1/sso-local-passwords/", {"unit": org.spain.pk, "allowed": False},
                   content_type="application/json")
    assert off.status_code == 200 and off.json() == {"unit": org.spain.pk, "allowed": False, "changed": True}
    again = hub.post("/api/v1/sso-local-passwords/", {"unit": org.spain.pk, "allowed": False},
                     content_type="application/json")
    assert again.json()["changed"] is False
    listed = hub.get("/api/v1/sso-local-passwords/").json()["results"]
    assert [(row["unit"], row["unit_name"]) for row in listed] == [(org.spain.pk, org.spain.name)]
    on = hub.post("/api/v1/sso-local-passwords/", {"unit": org.spain.pk, "allowed": True},
                  content_type="application/json")
    assert on.json()["changed"] is True and not LocalPasswordPolicy.objects.exists()
    assert AuditEvent.objects.filter(action="sso.local_passwords.off").exists()
    assert AuditEvent.objects.filter(action="sso.local_passwords.on").exists()
    bad = hub.post("/api/v1/sso-local-passwords/", {"unit": org.spain.pk}, content_type="application/json")
    assert bad.status_code == 400 and "allowed" in bad.json()


def test_a_saml_provider_through_the_api(org, client_for, tmp_path):
    from tests.sso.test_saml import IDP_ENTITY, idp_metadata_xml

    hub = client_for(org.users.hub_admin)
    missing = hub.post("/api/v1/sso-providers/", {"name": "Corp", "slug": "corp", "protocol": "saml",
                                                  "bound_unit": org.spain.pk}, content_type="application/json")
    assert missing.status_code == 400 and "saml_metadata_xml" in missing.json()
    broken = hub.post("/api/v1/sso-providers/", {"name": "Corp", "slug": "corp", "protocol": "saml",
                                                 "saml_metadata_xml": "<not xml", "bound_unit": org.spain.pk},
                      content_type="application/json")
    assert broken.status_code == 400 and "saml_metadata_xml" in str(broken.json())
    created = hub.post("/api/v1/sso-providers/", {"name": "Corp", "slug": "corp", "protocol": "saml",
                                                  "saml_metadata_xml": idp_metadata_xml(tmp_path),
                                                  "username_claim": "uid", "bound_unit": org.spain.pk},
                       content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["protocol"] == "saml" and body["issuer"] == IDP_ENTITY
    # the protocol is fixed; an OpenID-only field is refused for it
    hub.patch(f"/api/v1/sso-providers/{body['id']}/", {"protocol": "oidc"}, content_type="application/json")
    assert IdentityProvider.objects.get(pk=body["id"]).protocol == "saml"
