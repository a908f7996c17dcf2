"""In real Chromium, through a REAL OpenID provider's own login and consent pages (npm's oidc-provider): a person
signs in for the first time and lands in her unit's inbox with the role her group maps to; the agency's provider
cannot be mapped into the group's subtree, and its person lands in the agency's unit only."""

from __future__ import annotations

import pytest

from dandelion.orgs.choices import Role
from dandelion.orgs.models import Membership
from dandelion.sso.models import ExternalIdentity
from tests.browser.conftest import login, shot
from tests.sso.conftest import oidc_servers, providers  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _through_provider(page, provider_name: str, person: str, shot_name: str) -> None:
    page.goto("/accounts/login/")
    shot(page, "sso-login-page")
    page.click(f"text=Sign in with {provider_name}")
    page.wait_for_selector("input[name=login]")
    shot(page, f"{shot_name}-provider-login")
    page.fill("input[name=login]", person)
    page.fill("input[name=password]", "any password")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    if "/interaction/" in page.url:  # the provider's consent screen
        page.click("button[type=submit]")
    page.wait_for_url("**/inbox/**")
    page.wait_for_load_state("networkidle")


def test_first_sign_in_through_the_provider_lands_in_the_units_inbox(page, org, providers, live_server):
    _through_provider(page, "Group IdP", "alice", "sso-alice")
    assert page.url == f"{live_server.url}/inbox/"
    shot(page, "sso-alice-inbox")
    alice = ExternalIdentity.objects.get(provider=providers.group).user
    assert list(Membership.objects.filter(user=alice, is_active=True).values_list("unit__name", "role")) == [
        ("France", Role.HELPER_AGENT)]
    body = page.inner_text("body")
    assert "Alice Martin" in body and "Helper agent" in body and "FR helpers" in body


def test_the_agency_cannot_be_mapped_into_the_groups_subtree(page, org, providers):
    login(page, "hubadmin")
    page.goto(f"/sso/providers/{providers.agency.pk}/")
    page.fill("#id_value", "fr-helpers")
    page.select_option("#id_unit", label="France")
    page.select_option("#id_role", value=Role.COMMUNITY_MANAGER)
    page.click("button:has-text('Add the rule')")
    page.wait_for_load_state("networkidle")
    assert "cannot grant roles on France" in page.inner_text("body")
    shot(page, "sso-rule-refused")
    page.context.clear_cookies()
    _through_provider(page, "Agency IdP", "victor", "sso-victor")
    victor = ExternalIdentity.objects.get(provider=providers.agency).user
    assert set(Membership.objects.filter(user=victor, is_active=True).values_list("unit__name", flat=True)) == {
        "ModCo"}
