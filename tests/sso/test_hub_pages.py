"""The hub's pages for identity providers, their claim rules and the per-unit password switch: the permission matrix
(hub admins only: everyone else a 403 on every page, whatever the id), each write through the services and audited,
HTMX partials for the rules, the SCIM token shown once."""

from __future__ import annotations

import pytest

from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.sso.models import ClaimRule, ExternalIdentity, IdentityProvider, LocalPasswordPolicy
from tests.sso.test_provisioning import claims, password_login, provider  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

NEW = {"name": "Okta", "slug": "okta", "issuer": "https://acme.okta.com", "client_id": "0oa1",
       "client_secret": "okta-secret_with spaces!", "scopes": "openid  email profile groups",
       "username_claim": "preferred_username", "is_active": "on"}


def pages(provider):
    rule = provider.rules.first()
    return [("get", "/sso/providers/"), ("get", "/sso/providers/new/"), ("get", f"/sso/providers/{provider.pk}/"),
            ("get", f"/sso/providers/{provider.pk}/edit/"), ("get", f"/sso/providers/{provider.pk}/delete/"),
            ("post", f"/sso/providers/{provider.pk}/toggle/"), ("post", f"/sso/providers/{provider.pk}/delete/"),
            ("post", f"/sso/providers/{provider.pk}/scim-token/"), ("get", f"/sso/rules/{rule.pk}/edit/"),
            ("post", f"/sso/rules/{rule.pk}/toggle/"), ("post", f"/sso/rules/{rule.pk}/delete/"),
            ("post", "/sso/local-passwords/"), ("post", "/sso/providers/new/")]


@pytest.mark.parametrize("who", ["es_admin", "europe_admin", "fr_cm", "es_agent", "moderator", "pr", "analyst",
                                 "nobody"])
def test_nobody_but_the_hub_reaches_any_page(org, provider, client_for, who):
    c = client_for(getattr(org.users, who))
    for method, url in pages(provider):
        assert getattr(c, method)(url).status_code == 403, (who, method, url)
    assert IdentityProvider.objects.count() == 1 and ClaimRule.objects.count() == 2
    assert not AuditEvent.objects.filter(action__startswith="sso.", actor=getattr(org.users, who)).exists()


def test_anonymous_people_are_sent_to_sign_in(provider, client):
    for method, url in pages(provider):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_the_hub_reaches_every_page(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    for url in ("/sso/providers/", "/sso/providers/new/", f"/sso/providers/{provider.pk}/",
                f"/sso/providers/{provider.pk}/edit/", f"/sso/providers/{provider.pk}/delete/",
                f"/sso/rules/{provider.rules.first().pk}/edit/"):
        assert hub.get(url).status_code == 200, url
    assert hub.get("/sso/providers/999999/").status_code == 404


def test_the_nav_entry_is_the_hubs_only(org, client_for):
    assert 'href="/sso/providers/"' in client_for(org.users.hub_admin).get("/inbox/").content.decode()
    assert 'href="/sso/providers/"' not in client_for(org.users.es_admin).get("/inbox/").content.decode()


def test_create_edit_disable_and_delete_a_provider(org, client_for):
    hub = client_for(org.users.hub_admin)
    response = hub.post("/sso/providers/new/", {**NEW, "bound_unit": org.france.pk})
    p = IdentityProvider.objects.get(slug="okta")
    assert response.status_code == 302 and response["Location"] == f"/sso/providers/{p.pk}/"
    assert (p.bound_unit, p.scopes, p.client_secret, p.is_active) == (
        org.france, "openid email profile groups", NEW["client_secret"], True)
    row = AuditEvent.objects.get(action="sso.provider.create", actor=org.users.hub_admin)
    assert NEW["client_secret"] not in str(row.changes)
    page = hub.get(f"/sso/providers/{p.pk}/").content.decode()
    assert "http://testserver/sso/okta/callback/" in page and NEW["client_secret"] not in page

    # a duplicate issuer, scopes without openid: refused on the form, nothing written
    bad = hub.post("/sso/providers/new/", {**NEW, "slug": "okta2", "bound_unit": org.france.pk})
    assert bad.status_code == 400 and "exists already" in bad.content.decode()
    bad = hub.post("/sso/providers/new/", {**NEW, "slug": "okta3", "issuer": "https://x.example",
                                            "scopes": "email", "bound_unit": org.france.pk})
    assert bad.status_code == 400 and IdentityProvider.objects.count() == 1

    # editing: the secret is kept when left empty, the slug and bound unit cannot change
    edit = {k: v for k, v in NEW.items() if k not in ("slug", "client_secret")}
    response = hub.post(f"/sso/providers/{p.pk}/edit/", {**edit, "name": "Okta (Acme)", "client_secret": "",
                                                          "slug": "hijack", "bound_unit": org.hub.pk})
    assert response.status_code == 302
    p.refresh_from_db()
    assert (p.name, p.slug, p.bound_unit, p.client_secret) == ("Okta (Acme)", "okta", org.france,
                                                                NEW["client_secret"])
    assert AuditEvent.objects.get(action="sso.provider.update").changes["name"] == ["Okta", "Okta (Acme)"]

    # disable: no button on the login page, the start page is a 404; enable again
    hub.post(f"/sso/providers/{p.pk}/toggle/", {"active": "0"})
    p.refresh_from_db()
    assert not p.is_active
    anonymous = client_for(org.users.nobody)
    anonymous.logout()
    assert "Okta" not in anonymous.get("/accounts/login/").content.decode()
    assert anonymous.get("/sso/okta/start/").status_code == 404
    hub.post(f"/sso/providers/{p.pk}/toggle/", {"active": "1"})
    p.refresh_from_db()
    assert p.is_active and "Sign in with Okta (Acme)" in anonymous.get("/accounts/login/").content.decode()

    # delete: a confirmation page first (GET deletes nothing), then POST
    confirm = hub.get(f"/sso/providers/{p.pk}/delete/")
    assert confirm.status_code == 200 and "keep their accounts" in confirm.content.decode()
    assert IdentityProvider.objects.filter(pk=p.pk).exists()
    assert hub.post(f"/sso/providers/{p.pk}/delete/")["Location"] == "/sso/providers/"
    assert not IdentityProvider.objects.filter(pk=p.pk).exists()
    assert AuditEvent.objects.filter(action="sso.provider.delete", actor=org.users.hub_admin).count() == 1


def test_deleting_a_provider_keeps_its_people(org, provider, client_for):
    from dandelion.sso import services

    user = services.sign_in(provider=provider, claims=claims(groups=["es-agents"]))
    client_for(org.users.hub_admin).post(f"/sso/providers/{provider.pk}/delete/")
    user.refresh_from_db()
    assert user.is_active and user.memberships.filter(is_active=True).count() == 1
    assert not ExternalIdentity.objects.exists() and not ClaimRule.objects.exists()


def test_rules_are_added_edited_turned_off_and_removed_with_htmx(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    htmx = {"HTTP_HX_REQUEST": "true"}
    url = f"/sso/providers/{provider.pk}/"
    added = hub.post(url, {"claim": "groups", "value": "es-cm", "unit": org.spain.pk,
                           "role": Role.COMMUNITY_MANAGER}, **htmx)
    body = added.content.decode()
    assert added.status_code == 200 and body.startswith('<div id="sso-rules">') and "<html" not in body
    assert "es-cm" in body and "Rule added." in body
    rule = ClaimRule.objects.get(value="es-cm")

    refused = hub.post(url, {"claim": "groups", "value": "fr", "unit": org.france.pk, "role": Role.ANALYST}, **htmx)
    assert refused.status_code == 400 and "cannot grant roles on France" in refused.content.decode()
    assert "<html" not in refused.content.decode() and not ClaimRule.objects.filter(value="fr").exists()

    # edit: the same subtree check; a good change is saved and audited
    edit = f"/sso/rules/{rule.pk}/edit/"
    bad = hub.post(edit, {"claim": "groups", "value": "es-cm", "unit": org.france.pk, "role": Role.ANALYST,
                          "is_active": "on"})
    assert bad.status_code == 400 and "cannot grant roles on France" in bad.content.decode()
    rule.refresh_from_db()
    assert rule.unit == org.spain
    assert hub.post(edit, {"claim": "roles", "value": "es-cm", "unit": org.spain.pk, "role": Role.ANALYST,
                           "is_active": "on"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.claim, rule.role) == ("roles", Role.ANALYST)
    assert AuditEvent.objects.get(action="sso.rule.update").changes["role"] == [Role.COMMUNITY_MANAGER,
                                                                                 Role.ANALYST]

    # off: it grants nothing at sign-in
    toggled = hub.post(f"/sso/rules/{rule.pk}/toggle/", **htmx)
    assert toggled.status_code == 200 and "Rule turned off" in toggled.content.decode()
    rule.refresh_from_db()
    assert not rule.is_active

    removed = hub.post(f"/sso/rules/{rule.pk}/delete/", **htmx)
    assert removed.status_code == 200 and "es-cm" not in removed.content.decode()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="sso.rule.", object_id=str(rule.pk))
            .order_by("id")] == ["sso.rule.create", "sso.rule.update", "sso.rule.update", "sso.rule.delete"]


def test_the_scim_token_is_shown_once(org, provider, client_for):
    hub = client_for(org.users.hub_admin)
    hub.post(f"/sso/providers/{provider.pk}/scim-token/")
    first = hub.get(f"/sso/providers/{provider.pk}/")
    assert 'id="scim-token">scim_' in first.content.decode() and first["Cache-Control"] == "no-store"
    assert 'id="scim-token"' not in hub.get(f"/sso/providers/{provider.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="sso.provider.scim_token", actor=org.users.hub_admin).count() == 1


def test_local_passwords_switched_off_per_unit(org, client_for, client):
    hub = client_for(org.users.hub_admin)
    assert password_login(client, "esagent") and password_login(client, "fragent")
    hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "0", "confirm": "1"})
    assert LocalPasswordPolicy.objects.get().unit == org.spain
    assert not password_login(client, "esagent") and not password_login(client, "esadmin")
    assert password_login(client, "fragent") and password_login(client, "euadmin")  # above Spain: not concerned
    assert "Spain" in hub.get("/sso/providers/").content.decode()
    hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "0", "confirm": "1"})  # again: nothing more written
    hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "1"})
    assert not LocalPasswordPolicy.objects.exists() and password_login(client, "esagent")
    assert list(AuditEvent.objects.filter(action__startswith="sso.local_passwords").order_by("id")
                .values_list("action", flat=True)) == ["sso.local_passwords.off", "sso.local_passwords.on"]


def test_superusers_keep_their_password_in_a_switched_off_unit(org, client_for, client):
    org.users.es_admin.is_superuser = True
    org.users.es_admin.save()
    client_for(org.users.hub_admin).post("/sso/local-passwords/", {"unit": org.europe.pk, "allowed": "0",
                                                                   "confirm": "1"})
    assert password_login(client, "esadmin") and not password_login(client, "esagent")


def test_the_password_switch_from_a_units_page(org, provider, client_for, client):
    """The hub switches local passwords off from the organisation tree's unit page (confirmed), sees it there and on
    the sub-units' pages, and allows them again; nobody else sees the panel or may post the switch."""
    hub = client_for(org.users.hub_admin)
    page = hub.get(org.spain.get_absolute_url()).content.decode()
    assert 'id="unit-password-switch"' in page and "Agency" in page  # the provider bound to Spain covers it
    assert 'id="unit-password-switch"' not in client_for(org.users.es_admin).get(
        org.spain.get_absolute_url()).content.decode()
    back = f"{org.spain.get_absolute_url()}#sign-in"
    # unconfirmed: nothing changes, the page says why
    response = hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "0", "next": back})
    assert response.status_code == 302 and response["Location"] == back and not LocalPasswordPolicy.objects.exists()
    response = hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "0", "confirm": "1",
                                                  "next": back})
    assert response["Location"] == back and LocalPasswordPolicy.objects.get().unit == org.spain
    assert not password_login(client, "esagent")
    page = hub.get(org.spain.get_absolute_url()).content.decode()
    assert "switched off here" in page and "Allow local passwords again" in page
    # an outside "next" is not followed
    response = hub.post("/sso/local-passwords/", {"unit": org.spain.pk, "allowed": "1",
                                                  "next": "https://evil.example/"})
    assert response["Location"] == "/sso/providers/" and not LocalPasswordPolicy.objects.exists()
    hub.post("/sso/local-passwords/", {"unit": org.europe.pk, "allowed": "0", "confirm": "1"})
    page = hub.get(org.spain.get_absolute_url()).content.decode()
    assert "switched off by Europe" in page and 'id="unit-password-switch"' not in page
    # others: 403 whatever they send
    assert client_for(org.users.es_admin).post("/sso/local-passwords/", {
        "unit": org.spain.pk, "allowed": "1", "confirm": "1"}).status_code == 403
