"""In real Chromium, under the Content Security Policy: the login, password-reset, lockout, app and admin pages
and the API browsers run without a single CSP violation (the ``page`` fixture fails on any), HTMX works, and a
locked-out login shows its page."""

import pytest
from django.test import override_settings

from tests.browser.conftest import login, settled, shot
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _violations(page) -> list[str]:
    return page.evaluate("window.__csp || []")


def _watch(page) -> None:
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def test_pages_run_under_the_csp(page, org):
    _watch(page)
    page.goto("/accounts/login/")
    assert page.locator("text=Forgot your password?").is_visible()
    page.goto("/accounts/password-reset/")
    page.fill("input[name=login]", "fradmin")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "If an account matches" in page.inner_text("body")
    assert _violations(page) == []
    login(page, "hubadmin")
    for path in ("/", "/orgs/", f"/orgs/units/{org.france.pk}/", "/orgs/teams/", "/orgs/members/",
                 "/assets/accounts/", "/inbox/", "/routing/"):
        response = page.goto(path)
        assert response.status < 500, path
        assert "default-src 'self'" in response.headers.get("content-security-policy", ""), path
        page.wait_for_load_state("networkidle")
        assert _violations(page) == [], path
    # HTMX still swaps under the policy (its indicator styles come from dandelion.css, not an injected <style>)
    page.goto("/orgs/members/")
    settled(page)
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("document.querySelectorAll('head style').length") == 0
    shot(page, "csp-members")


def test_api_docs_and_admin_under_the_csp(page, org):
    _watch(page)
    UserFactory(username="root", is_staff=True, is_superuser=True)
    login(page, "root")
    page.goto("/admin/")
    page.wait_for_load_state("networkidle")
    assert "Site administration" in page.inner_text("body")
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    page.goto("/api/redoc/")
    page.wait_for_selector("redoc, #redoc-container, .api-content", state="attached", timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert _violations(page) == []


def test_locked_out_login_shows_the_lockout_page(page, org):
    _watch(page)
    with override_settings(AXES_FAILURE_LIMIT=3):
        for i in range(3):
            login(page, "fragent", f"wrong-{i}")
        login(page, "fragent")
    body = page.inner_text("body")
    assert "Too many failed logins" in body and "minutes" in body
    assert _violations(page) == []
    shot(page, "login-locked-out")
