"""Meta's webhooks through Dandelion's own endpoint (``/hooks/<account-id>/``): the subscription verification
(``GET``), a signed ``feed`` delivery stored and processed into a conversation, a forged one refused. Verified
against recorded payloads shaped like Meta's documentation, not the live network."""

from __future__ import annotations

import pytest
from tests.connectors.meta_helpers import APP_SECRET, fixture, meta_signed

from dandelion.inbox.models import Conversation, InboundDelivery, Message

pytestmark = pytest.mark.django_db

PAGE = "1234567890"


@pytest.fixture
def page_account(org):
    account = org.fr_account
    account.connector = "facebook"
    account.external_id = PAGE
    account.set_credentials({"page_access_token": "EAApage", "app_secret": APP_SECRET})
    account.set_webhook_secret("verify-me")
    account.save()
    return account


def test_subscription_verification_echoes_the_challenge(client, page_account):
    url = f"/hooks/{page_account.pk}/"
    ok = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    )
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    assert (
        client.get(
            url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
        ).status_code
        == 403
    )


def test_get_on_an_account_without_a_handshake_is_405(client, org):
    assert client.get(f"/hooks/{org.es_account.pk}/").status_code == 405


def test_signed_comment_becomes_a_conversation(client, page_account):
    from dandelion.inbox.jobs import process_pending_deliveries

    body, headers = meta_signed(fixture("facebook", "webhook_feed_comment.json"))
    response = client.post(
        f"/hooks/{page_account.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=headers["X-Hub-Signature-256"],
    )
    assert response.status_code == 202, response.content
    process_pending_deliveries.call()
    assert InboundDelivery.objects.get(pk=response.json()["delivery"]).state == "done"
    message = Message.objects.get(account=page_account, external_id="111_222")
    assert message.kind == "comment" and Conversation.objects.filter(pk=message.conversation_id).exists()


def test_forged_delivery_is_refused(client, page_account):
    body, _ = meta_signed(fixture("facebook", "webhook_feed_comment.json"), secret="forged")
    response = client.post(
        f"/hooks/{page_account.pk}/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
    )
    assert response.status_code == 403
    assert not InboundDelivery.objects.exists()
