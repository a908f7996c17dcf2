"""One webhook URL per Meta app (``/hooks/app/<app-id>/``): the signature checked with the app secret, each entry
handed to the Page it concerns, unknown Pages logged and acknowledged, the per-account URLs still working. Verified
against recorded payloads shaped like Meta's documentation, not the live network."""

from __future__ import annotations

import copy
import logging

import pytest
from tests.connectors.meta_helpers import APP_SECRET, fixture, meta_signed
from tests.factories import SocialAccountFactory

from dandelion.inbox.models import InboundDelivery, Message

pytestmark = pytest.mark.django_db

APP = "42"
PAGE_FR, PAGE_ES, UNKNOWN = "1234567890", "5550001111", "9990009999"


def page(org, external_id: str, unit, *, app_id: str = APP):
    account = SocialAccountFactory(network="facebook", connector="facebook", external_id=external_id, owner_unit=unit,
                                   connector_config={"app_id": app_id})
    account.set_credentials({"page_access_token": f"EAA{external_id}", "app_secret": APP_SECRET})
    account.set_webhook_secret("verify-me")
    account.save()
    return account


def entry(page_id: str, comment_id: str) -> dict:
    item = copy.deepcopy(fixture("facebook", "webhook_feed_comment.json")["entry"][0])
    item["id"] = page_id
    item["changes"][0]["value"].update(comment_id=comment_id, post_id=f"{page_id}_111", parent_id=f"{page_id}_111")
    return item


def post(client, payload, *, secret=APP_SECRET, app=APP):
    body, headers = meta_signed(payload, secret=secret)
    return client.post(f"/hooks/app/{app}/", data=body, content_type="application/json",
                       HTTP_X_HUB_SIGNATURE_256=headers["X-Hub-Signature-256"])


def test_one_delivery_for_two_pages_and_an_unknown_one(client, org, caplog):
    fr, es = page(org, PAGE_FR, org.france), page(org, PAGE_ES, org.spain)
    payload = {"object": "page", "entry": [entry(PAGE_FR, "111_1"), entry(UNKNOWN, "999_1"), entry(PAGE_ES, "555_1")]}
    with caplog.at_level(logging.WARNING, logger="dandelion.inbox.hooks"):
        response = post(client, payload)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["accepted"] == 2 and answer["unknown"] == [UNKNOWN] and len(answer["deliveries"]) == 2
    assert UNKNOWN in caplog.text
    deliveries = InboundDelivery.objects.filter(pk__in=answer["deliveries"])
    assert {d.account_id for d in deliveries} == {fr.pk, es.pk}

    from dandelion.inbox.jobs import process_pending_deliveries

    process_pending_deliveries.call()
    assert Message.objects.get(external_id="111_1").account_id == fr.pk
    assert Message.objects.get(external_id="555_1").account_id == es.pk
    assert not Message.objects.filter(external_id="999_1").exists()


def test_a_forged_or_unsigned_delivery_is_refused_and_nothing_stored(client, org):
    page(org, PAGE_FR, org.france)
    payload = {"object": "page", "entry": [entry(PAGE_FR, "111_1")]}
    assert post(client, payload, secret="forged").status_code == 403
    unsigned = client.post(f"/hooks/app/{APP}/", data=b'{"object": "page", "entry": []}',
                           content_type="application/json")
    assert unsigned.status_code == 401
    assert not InboundDelivery.objects.exists()


def test_unknown_app_malformed_body_and_archived_accounts(client, org):
    assert post(client, {"object": "page", "entry": []}, app="777").status_code == 404
    account = page(org, PAGE_FR, org.france)
    malformed = post(client, {"object": "page", "entry": [{"time": 1}]})
    assert malformed.status_code == 400 and malformed.json()["field"] == "entry[0].id"
    from dandelion.assets.services import archive_account

    archive_account(account, actor=org.users.hub_admin)
    assert post(client, {"object": "page", "entry": [entry(PAGE_FR, "111_1")]}).status_code == 404


def test_subscription_verification_on_the_app_url(client, org):
    page(org, PAGE_FR, org.france)
    url = f"/hooks/app/{APP}/"
    ok = client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    assert client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"}
                      ).status_code == 403


def test_the_per_account_url_keeps_working(client, org):
    fr = page(org, PAGE_FR, org.france)
    body, headers = meta_signed({"object": "page", "entry": [entry(PAGE_FR, "111_7")]})
    response = client.post(f"/hooks/{fr.pk}/", data=body, content_type="application/json",
                           HTTP_X_HUB_SIGNATURE_256=headers["X-Hub-Signature-256"])
    assert response.status_code == 202 and response.json()["accepted"] == 1
