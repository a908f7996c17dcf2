"""In real Chromium: the hub admin adds an identity provider and a claim rule through the hub's pages (the rule
form is HTMX: only the rules block is swapped), then a person signs in through that provider (a REAL OpenID
provider, npm's oidc-provider) and gets exactly what the rule gives. Someone else sees no "Sign-in" entry."""

from __future__ import annotations

import pytest

from dandelion.core.models import AuditEvent
from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.sso.models import ClaimRule, IdentityProvider
from tests.browser.conftest import login, settled, shot
from tests.sso.conftest import SECRET, oidc_servers  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_hub_admin_adds_a_provider_and_a_rule_then_a_person_signs_in_through_it(page, org, oidc_servers,
                                                                                       live_server):
    login(page, "hubadmin")
    page.click("nav >> text=Sign-in")
    page.wait_for_url("**/sso/providers/")
    page.click("text=Add a provider")
    page.fill("#id_name", "Group IdP")
    page.fill("#id_slug", "group")
    page.fill("#id_issuer", oidc_servers.group)
    page.fill("#id_client_id", "dandelion-group")
    page.fill("#id_client_secret", SECRET)
    page.fill("#id_scopes", "openid email profile groups")
    page.select_option("#id_bound_unit", label="Europe")
    shot(page, "sso-admin-provider-form")
    page.click("#provider-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    provider = IdentityProvider.objects.get(slug="group")
    assert page.url == f"{live_server.url}/sso/providers/{provider.pk}/"
    assert page.inner_text("#redirect-uri") == f"{live_server.url}/sso/group/callback/"
    assert provider.client_secret == SECRET and SECRET not in page.content()

    # a rule outside Europe is refused in place (HTMX swaps the rules block, the page stays)
    page.fill("#id_value", "fr-helpers")
    page.select_option("#id_unit", label="ModCo")
    page.select_option("#id_role", value=Role.HELPER_AGENT)
    page.click("#rule-add button[type=submit]")
    settled(page)
    assert "cannot grant roles on ModCo" in page.inner_text("#sso-rules")
    # then the right one
    page.select_option("#id_unit", label="France")
    page.select_option("#id_team", label="FR helpers (France)")
    page.click("#rule-add button[type=submit]")
    settled(page)
    assert "Rule added." in page.inner_text("#sso-rules")
    assert "fr-helpers" in page.inner_text("#rule-table") and "Helper agent" in page.inner_text("#rule-table")
    assert page.url == f"{live_server.url}/sso/providers/{provider.pk}/"  # swapped in place, not reloaded
    shot(page, "sso-admin-rule-added")
    rule = ClaimRule.objects.get(provider=provider)
    assert (rule.claim, rule.value, rule.unit, rule.team, rule.role) == (
        "groups", "fr-helpers", org.france, org.fr_team, Role.HELPER_AGENT)
    assert {"sso.provider.create", "sso.rule.create"} <= set(
        AuditEvent.objects.filter(actor=org.users.hub_admin).values_list("action", flat=True))

    page.click("text=Identity providers")
    page.wait_for_load_state("networkidle")
    assert "Group IdP" in page.inner_text("#provider-table")
    shot(page, "sso-admin-provider-list")

    # the provider's button is on the login page; alice signs in through it and gets what the rule gives
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.click("text=Sign in with Group IdP")
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", "alice")
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/interaction/" in page.url:  # the provider's consent screen
        page.click("button[type=submit]")
    page.wait_for_url("**/inbox/**")
    alice = provider.identities.get().user
    assert list(Membership.objects.filter(user=alice, is_active=True).values_list("unit", "role", "team")) == [
        (org.france.pk, Role.HELPER_AGENT, org.fr_team.pk)]
    # she is no hub admin: no "Sign-in" entry in her navigation, and the page is refused
    assert "Sign-in" not in page.inner_text("nav")
    response = page.goto("/sso/providers/")
    assert response.status == 403
