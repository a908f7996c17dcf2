"""In real Chromium: a hub admin and a spoke admin log in and walk the organisation and the account registry."""

import pytest

from tests.browser.conftest import login, shot, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hub_admin_walks_tree_and_registry(page, org):
    login(page, "hubadmin")
    page.goto("/orgs/")
    tree = page.content()
    for name in ("Group hub", "Europe", "France", "Spain", "ModCo"):
        assert name in tree
    shot(page, "hub-org-tree")
    page.click("text=France")
    page.wait_for_load_state("networkidle")
    assert "France" in page.inner_text("h1")
    page.goto("/assets/accounts/")
    body = page.inner_text("body")
    assert "@brand_fr" in body and "@brand_es" in body
    page.fill("input[name=q]", "brand_es")
    page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    wait_for(page, "!document.body.innerText.includes('@brand_fr')")
    assert "@brand_es" in page.inner_text("body")
    page.click("a:has-text('@brand_es')")
    page.wait_for_load_state("networkidle")
    detail = page.inner_text("body")
    assert "Spain" in detail and "test-webhook-secret" not in detail
    shot(page, "hub-account-detail")


def test_spoke_admin_sees_only_own_subtree(page, org):
    login(page, "fradmin")
    page.goto("/assets/accounts/")
    body = page.inner_text("body")
    assert "@brand_fr" in body and "@brand_es" not in body
    shot(page, "spoke-registry")
    page.goto("/orgs/")
    tree = page.inner_text("main")
    assert "France" in tree and "Spain" not in tree
    resp = page.goto(f"/assets/accounts/{org.es_account.pk}/")
    assert resp.status == 404


def test_spoke_admin_registers_an_account(page, org):
    login(page, "fradmin")
    page.goto("/assets/accounts/new/")
    page.select_option("select[name=network]", "instagram")
    page.fill("input[name=handle]", "@brand_fr_insta")
    page.fill("input[name=external_id]", "ig-fr-1")
    unit = page.locator("select[name=owner_unit]")
    if unit.count():
        unit.select_option(str(org.france.pk))
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "@brand_fr_insta" in page.inner_text("body")
    shot(page, "spoke-account-created")
