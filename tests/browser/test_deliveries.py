"""In real Chromium: a spoke admin finds a delivery that failed for good from the account's page, retries it, and
the customer's message is then processed."""

import pytest
from django.utils import timezone

from dandelion.inbox import jobs
from dandelion.inbox.connect import event_from_dict
from dandelion.inbox.models import InboundDelivery, Message
from dandelion.inbox.services import store_delivery
from tests.browser.conftest import login, settled, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_spoke_admin_retries_a_failed_delivery(page, org):
    event = event_from_dict({"id": "lost-42", "kind": "comment", "text": "Bonjour, mon colis n'est jamais arrivé",
                             "created_at": timezone.now().isoformat(),
                             "author": {"id": "u-42", "name": "Camille Client", "language": "fr"}})
    delivery = store_delivery(org.fr_account, [event], body=b"{}", enqueue=False)
    InboundDelivery.objects.filter(pk=delivery.pk).update(
        state="failed", attempts=jobs.MAX_ATTEMPTS, error="RuntimeError: routing calendar unreadable")

    login(page, "fradmin")
    page.goto(f"/assets/accounts/{org.fr_account.pk}/")
    page.click("text=waiting and failed webhook deliveries")
    page.wait_for_load_state("networkidle")
    row = page.locator(f"tr[data-delivery='{delivery.pk}']")
    assert "routing calendar unreadable" in row.inner_text() and "Failed" in row.inner_text()
    shot(page, "deliveries-failed")
    # the state filter refreshes the table in place
    page.select_option("select[name=state]", "done")
    settled(page)
    assert page.locator(f"tr[data-delivery='{delivery.pk}']").count() == 0
    page.select_option("select[name=state]", "failed")
    settled(page)
    assert page.locator(f"tr[data-delivery='{delivery.pk}']").count() == 1

    page.click("button[data-action=retry]")
    page.wait_for_load_state("networkidle")
    assert "1 failed delivery queued for processing again" in page.inner_text("body")
    assert InboundDelivery.objects.get(pk=delivery.pk).state == "pending"
    jobs.process_pending_deliveries.call()  # the worker
    page.goto(f"/inbox/deliveries/?account={org.fr_account.pk}&state=done")
    assert "Done" in page.locator(f"tr[data-delivery='{delivery.pk}']").inner_text()
    shot(page, "deliveries-retried")
    assert Message.objects.filter(external_id="lost-42").exists()
