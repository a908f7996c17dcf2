"""Outgoing webhooks against a real receiver on 127.0.0.1: signature, retries with backoff, timeouts, disabling,
filtering by type and subtree, idempotency, the refusal of private targets."""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from django.utils import timezone

from dandelion.assets import services as assets
from dandelion.core.models import AuditEvent
from dandelion.webhooks import delivery, services
from dandelion.webhooks.choices import DeliveryStatus, SubscriptionState
from dandelion.webhooks.exceptions import InvalidTarget
from dandelion.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def change_fr_account(org, capture, name="Nouveau nom"):
    with capture(execute=True):
        assets.update_account(org.fr_account, actor=org.users.fr_admin, display_name=name)


def later(row, seconds=1):
    row.refresh_from_db()
    return row.next_attempt_at + dt.timedelta(seconds=seconds)


def test_signed_delivery_reaches_the_receiver(org, receiver, make_subscription, django_capture_on_commit_callbacks):
    sub, secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    row = WebhookDelivery.objects.get(subscription=sub)
    assert row.status == DeliveryStatus.PENDING and row.event_type == "account.changed"

    result = services.process_due()
    assert (result.attempted, result.succeeded) == (1, 1)
    [got] = receiver.requests
    assert got.path == "/hooks/dandelion?x=1"
    headers = got.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-dandelion-event"] == "account.changed"
    assert headers["x-dandelion-delivery"] == str(row.pk)
    assert delivery.verify(secret, got.body, headers["x-dandelion-timestamp"], headers["x-dandelion-signature"])
    # the documented recipe, by hand
    import hashlib
    import hmac
    expected = hmac.new(secret.encode(), headers["x-dandelion-timestamp"].encode() + b"." + got.body,
                        hashlib.sha256).hexdigest()
    assert headers["x-dandelion-signature"] == f"v1={expected}"
    assert not delivery.verify("whsec_wrong", got.body, headers["x-dandelion-timestamp"],
                               headers["x-dandelion-signature"])
    assert not delivery.verify(secret, got.body + b" ", headers["x-dandelion-timestamp"],
                               headers["x-dandelion-signature"])
    body = json.loads(got.body)
    assert body["type"] == "account.changed" and body["id"] == row.event_id
    assert body["unit"]["id"] == org.france.pk and body["unit"]["path"] == org.france.path
    assert body["subject"] == {"type": "assets.socialaccount", "id": str(org.fr_account.pk)}
    assert body["actor"]["name"] == "fradmin"
    assert body["data"]["change"] == "update" and body["data"]["fields"] == ["display_name"]
    assert "webhook_secret" not in got.body.decode() and "credentials" not in body["data"]["account"]

    row.refresh_from_db()
    assert row.status == DeliveryStatus.SUCCEEDED and row.attempts == 1 and row.response_code == 200
    assert row.response_body == "ok" and row.finished_at is not None and row.duration_ms is not None
    sub.refresh_from_db()
    assert sub.last_success_at is not None and sub.consecutive_failures == 0


def test_old_timestamps_are_refused_by_the_recipe():
    body = b'{"a":1}'
    ts = "1700000000"
    signature = delivery.sign("s", ts, body)
    assert delivery.verify("s", body, ts, signature, now=1700000100)
    assert not delivery.verify("s", body, ts, signature, now=1700000000 + 301)
    assert not delivery.verify("s", body, "not-a-number", signature)


def test_retries_on_500_then_succeeds(org, receiver, make_subscription, django_capture_on_commit_callbacks):
    receiver.answer((500, 0, b"boom"))
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    row = WebhookDelivery.objects.get(subscription=sub)

    before = timezone.now()
    assert services.process_due().failed == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.response_code == 500 and row.response_body == "boom" and row.error == "HTTP 500"
    # first retry after 30 s with equal jitter: between 15 and 30 s
    assert before + dt.timedelta(seconds=14) <= row.next_attempt_at <= timezone.now() + dt.timedelta(seconds=31)
    assert services.process_due().attempted == 0  # not due yet

    assert services.process_due(now=later(row)).succeeded == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SUCCEEDED and row.attempts == 2 and row.response_code == 200
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same bytes on every attempt
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0


def test_timeout_is_a_failure_retried_later(org, receiver, make_subscription, settings,
                                            django_capture_on_commit_callbacks):
    settings.DANDELION_WEBHOOK_TIMEOUT = 0.3
    receiver.answer((200, 1.0))
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    assert services.process_due().failed == 1
    row = WebhookDelivery.objects.get(subscription=sub)
    assert row.status == DeliveryStatus.PENDING and row.response_code is None
    assert row.error.startswith("Timed out") and row.next_attempt_at > timezone.now()
    assert services.process_due(now=later(row)).succeeded == 1


def test_gives_up_after_max_attempts(org, receiver, make_subscription, settings,
                                     django_capture_on_commit_callbacks):
    settings.DANDELION_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answer(500, 502, 503)
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    row = WebhookDelivery.objects.get(subscription=sub)
    now = timezone.now()
    for _ in range(3):
        services.process_due(now=now)
        row.refresh_from_db()
        now = (row.next_attempt_at or now) + dt.timedelta(seconds=1)
    assert row.status == DeliveryStatus.FAILED and row.attempts == 3 and row.response_code == 503
    assert row.next_attempt_at is None and row.finished_at is not None
    assert services.process_due(now=now + dt.timedelta(days=1)).attempted == 0


def test_disabled_after_repeated_failures_and_re_enabled(org, receiver, make_subscription, settings, client_for,
                                                         django_capture_on_commit_callbacks):
    settings.DANDELION_WEBHOOK_DISABLE_AFTER = 3
    receiver.answer(500, 500, 500)
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks, "one")
    change_fr_account(org, django_capture_on_commit_callbacks, "two")
    now = timezone.now()
    services.process_due(now=now)  # two failures
    sub.refresh_from_db()
    assert sub.is_active and sub.consecutive_failures == 2
    services.process_due(now=now + dt.timedelta(hours=1))  # the third in a row
    sub.refresh_from_db()
    assert sub.state == SubscriptionState.DISABLED
    assert sub.disabled_reason == "3 failed attempts in a row (last: HTTP 500)."
    assert not WebhookDelivery.objects.filter(subscription=sub, status=DeliveryStatus.PENDING).exists()
    assert WebhookDelivery.objects.filter(subscription=sub, error__startswith="Not sent").count() == 1
    assert AuditEvent.objects.filter(action="webhooks.subscription.disable", actor__isnull=True).count() == 1
    # disabled: new events are not queued, and the UI says so with the reason
    change_fr_account(org, django_capture_on_commit_callbacks, "three")
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 2
    page = client_for(org.users.fr_admin).get(sub.get_absolute_url()).content.decode()
    assert 'data-state="disabled"' in page and "3 failed attempts in a row" in page and "Re-enable" in page
    listing = client_for(org.users.fr_admin).get("/webhooks/").content.decode()
    assert 'data-state="disabled"' in listing

    response = client_for(org.users.fr_admin).post(f"/webhooks/{sub.pk}/enable/")
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.is_active and sub.consecutive_failures == 0 and sub.disabled_reason == ""
    change_fr_account(org, django_capture_on_commit_callbacks, "four")
    assert services.process_due(now=now + dt.timedelta(hours=2)).succeeded == 1


def test_410_gone_disables_at_once(org, receiver, make_subscription, django_capture_on_commit_callbacks):
    receiver.answer(410)
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    services.process_due()
    sub.refresh_from_db()
    row = WebhookDelivery.objects.get(subscription=sub)
    assert sub.state == SubscriptionState.DISABLED and "410" in sub.disabled_reason
    assert row.status == DeliveryStatus.FAILED


def test_redirects_are_not_followed(org, receiver, make_subscription, django_capture_on_commit_callbacks):
    receiver.answer(302)
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    change_fr_account(org, django_capture_on_commit_callbacks)
    services.process_due()
    row = WebhookDelivery.objects.get(subscription=sub)
    assert row.status == DeliveryStatus.PENDING and "redirects are not followed" in row.error


def test_filtering_by_type_and_subtree(org, receiver, make_subscription, django_capture_on_commit_callbacks):
    make_subscription(url=receiver.url, unit=org.france, types=["account.changed"], name="fr")
    make_subscription(url=receiver.url, unit=org.spain, types=["account.changed"], name="es")
    make_subscription(url=receiver.url, unit=org.europe, types=["account.changed"], name="eu")
    make_subscription(url=receiver.url, unit=org.hub, types=["conversation.assigned"], name="hub")
    change_fr_account(org, django_capture_on_commit_callbacks)
    assert set(WebhookDelivery.objects.values_list("subscription__name", flat=True)) == {"fr", "eu"}
    services.process_due()
    assert len(receiver.requests) == 2
    assert {json.loads(r.body)["unit"]["id"] for r in receiver.requests} == {org.france.pk}


def test_handling_a_batch_twice_queues_once(org, receiver, make_subscription):
    from dandelion.assets.events import account_changed
    from dandelion.core.events import dispatch

    sub, _ = make_subscription(url=receiver.url, types=["account.changed"])
    event = account_changed(org.fr_account, actor=org.users.fr_admin, change="update", fields=["notes"])
    dispatch([event])
    dispatch([event])
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 1
    row = WebhookDelivery.objects.get()
    now = timezone.now()
    assert services.claim(row.pk, now) and not services.claim(row.pk, now)  # one worker wins


def test_stale_claims_are_released(org, receiver, make_subscription):
    from dandelion.assets.events import account_changed
    from dandelion.core.events import dispatch

    make_subscription(url=receiver.url, types=["account.changed"])
    dispatch([account_changed(org.fr_account, actor=None, change="update")])
    row = WebhookDelivery.objects.get()
    long_ago = timezone.now() - dt.timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.SENDING, claimed_at=long_ago)
    result = services.process_due()
    assert result.released == 1 and result.succeeded == 1


def test_test_event_and_redelivery(org, receiver, make_subscription):
    sub, _secret = make_subscription(url=receiver.url, types=["account.changed"])
    test_row = services.send_test_event(sub, actor=org.users.fr_admin)
    services.process_due()
    [got] = receiver.requests
    assert json.loads(got.body)["type"] == "webhook.test"
    test_row.refresh_from_db()
    assert test_row.status == DeliveryStatus.SUCCEEDED
    again = services.redeliver(test_row, actor=org.users.fr_admin)
    assert again.redelivery_of_id == test_row.pk and again.event_id == test_row.event_id
    services.process_due()
    assert len(receiver.requests) == 2 and receiver.requests[1].body == got.body
    assert receiver.requests[1].headers["x-dandelion-delivery"] == str(again.pk)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost:9000/", "http://db.internal/",
    "http://100.64.0.1/", "http://0.0.0.0/", "ftp://example.org/", "javascript:alert(1)", "https://user:pw@example.org/",
    "https:///nohost", "",
])
def test_dangerous_targets_are_refused(settings, url):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(InvalidTarget):
        delivery.check_url(url)


def test_public_targets_are_accepted(settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    assert delivery.check_url(" https://hooks.example.org/dandelion?k=1 ") == "https://hooks.example.org/dandelion?k=1"
    assert delivery.check_url("http://93.184.215.14:8080/x") == "http://93.184.215.14:8080/x"


def test_private_target_refused_at_send_time(org, receiver, make_subscription, settings):
    """A subscription made while private targets were allowed is refused once they are not (no retry)."""
    sub, _ = make_subscription(url=receiver.url, types=["account.changed"])
    row = services.send_test_event(sub, actor=org.users.hub_admin)
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    services.process_due()
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and "public addresses" in row.error
    assert receiver.requests == []


def test_create_refuses_private_targets_in_production(org, settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(InvalidTarget):
        services.create_subscription(actor=org.users.hub_admin, unit=org.hub, name="x",
                                     url="http://169.254.169.254/", event_types=["account.changed"])


def test_backoff_grows_with_jitter_and_a_cap(settings):
    settings.DANDELION_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.DANDELION_WEBHOOK_RETRY_MAX_SECONDS = 3600
    rng = random.Random(4)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (5, 480), (10, 3600), (30, 3600)]:
        delays = [delivery.retry_delay(attempts, rng=rng) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len({round(d, 3) for d in delays}) > 1  # jittered


def test_retention_deletes_old_finished_deliveries_only(org, receiver, make_subscription):
    from dandelion.core.retention import purge

    sub, _ = make_subscription(url=receiver.url, types=["account.changed"])
    old = timezone.now() - dt.timedelta(days=31)
    done = WebhookDelivery.objects.create(subscription=sub, event_id="a", event_type="account.changed", payload={},
                                          status=DeliveryStatus.SUCCEEDED, finished_at=old)
    failed = WebhookDelivery.objects.create(subscription=sub, event_id="b", event_type="account.changed",
                                            payload={}, status=DeliveryStatus.FAILED, finished_at=old)
    recent = WebhookDelivery.objects.create(subscription=sub, event_id="c", event_type="account.changed",
                                            payload={}, status=DeliveryStatus.SUCCEEDED, finished_at=timezone.now())
    pending = WebhookDelivery.objects.create(subscription=sub, event_id="d", event_type="account.changed",
                                             payload={}, status=DeliveryStatus.PENDING, next_attempt_at=old)
    [outcome] = purge(only=["webhooks.deliveries"])
    assert outcome.deleted == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert not WebhookDelivery.objects.filter(pk__in=[done.pk, failed.pk]).exists()
