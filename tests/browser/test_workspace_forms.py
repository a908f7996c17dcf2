"""In real Chromium: forms that used to lose data or mislead (issue 16). Saving an empty credentials box asks for
an explicit confirmation instead of wiping them; the transfer's audit entry says from → to and the owner change;
the invite form preselects no role; the account form says which connectors cannot send replies."""

import pytest

from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def keys(settings):
    from cryptography.fernet import Fernet

    settings.DANDELION_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


def test_empty_credentials_box_does_not_wipe_them_without_confirmation(page, org, keys):
    from dandelion.assets import services

    account = org.fr_account
    services.set_account_credentials(account, credentials={"token": "s3cret", "app_id": "42"}, expires_at=None,
                                     actor=org.users.fr_admin)
    login(page, "fradmin")
    page.goto(account.get_absolute_url())
    page.click("button:has-text('Save credentials')")
    page.wait_for_load_state("networkidle")
    assert "would delete the 2 stored credentials" in page.inner_text("main")
    shot(page, "workspace-credentials-confirm")
    account.refresh_from_db()
    assert sorted(account.credentials_keys) == ["app_id", "token"]
    # explicit confirmation: then, and only then, they go
    page.check("input[name=confirm_clear]")
    page.click("button:has-text('Save credentials')")
    page.wait_for_load_state("networkidle")
    assert "deleted" in page.inner_text(".messages")
    account.refresh_from_db()
    assert not account.has_credentials


def test_transfer_audit_entry_says_from_to_and_the_owner_change(page, org):
    account = org.fr_account
    login(page, "fradmin")
    page.goto(f"/assets/accounts/{account.pk}/transfer/")
    page.select_option("#id_to_unit", label=org.france.name)
    page.select_option("#id_new_owner", value=str(org.users.fr_cm.pk))
    page.fill("#id_reason", "Community manager takes it over")
    page.click("button:has-text('Transfer')")
    page.wait_for_load_state("networkidle")
    assert "Owner of" in page.inner_text(".messages")
    from dandelion.core.models import AuditEvent

    entry = AuditEvent.objects.filter(action="assets.account.transfer").latest("id")
    assert f"from {org.france.name} to {org.france.name}" not in entry.summary
    assert f"unit {org.france.name} unchanged" in entry.summary
    assert "owner" in entry.summary and "→ frcm" in entry.summary
    page.context.clear_cookies()
    login(page, "hubadmin")
    page.goto(f"/audit/{entry.pk}/")
    assert "→ frcm" in page.inner_text("main")
    shot(page, "workspace-transfer-audit")


def test_invite_form_preselects_no_role(page, org):
    login(page, "hubadmin")
    page.goto(f"/orgs/units/{org.france.pk}/members/invite/")
    assert page.eval_on_selector("#id_role", "el => el.value") == ""
    assert "Hub admin" not in page.eval_on_selector("#id_role", "el => el.options[el.selectedIndex].text")
    page.fill("#id_username", "newbie")
    page.fill("#id_email", "newbie@example.com")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "This field is required" in page.inner_text("main")  # no role chosen: refused, nothing granted
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newbie").exists()


def test_account_form_says_which_connectors_cannot_reply(page, org):
    login(page, "fradmin")
    page.goto("/assets/accounts/new/")
    labels = page.eval_on_selector_all("#id_connector option", "els => els.map(e => e.textContent)")
    assert any("cannot send replies" in label for label in labels)
    assert any("sends replies only once configured" in label for label in labels)
    page.goto(f"/assets/accounts/{org.fr_account.pk}/edit/")
    page.select_option("#id_connector", value="generic")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "cannot send replies" in page.inner_text(".messages")
    shot(page, "workspace-account-cannot-reply")
