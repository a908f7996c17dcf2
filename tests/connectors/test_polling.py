"""The polling machinery: the cursor adapter for connectors without one (fake, replay), claims across workers,
the poll state services (permissions, audit)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import fake, registry
from dandelion.connectors.base import AccountRef, PollResult, poll_with_cursor
from dandelion.core.exceptions import PermissionDeniedError

T0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def test_since_cursor_adapter_for_the_fake_connector():
    fake.reset()
    ref = AccountRef(id=42, network="facebook", external_id="x", handle="@x", connector="fake")
    fake.FakeConnector.queue_inbound(42, [fake.make_event("a", created_at=T0),
                                         fake.make_event("b", created_at=T0 + dt.timedelta(minutes=1))])
    first = poll_with_cursor(registry.get("fake"), ref, None)
    assert [e.text for e in first.events] == ["a", "b"]
    assert first.cursor == {"since": (T0 + dt.timedelta(minutes=1)).isoformat()}
    fake.FakeConnector.queue_inbound(42, [fake.make_event("old", created_at=T0),
                                          fake.make_event("c", created_at=T0 + dt.timedelta(minutes=2))])
    second = poll_with_cursor(registry.get("fake"), ref, dict(first.cursor))
    assert [e.text for e in second.events] == ["c"]
    empty = poll_with_cursor(registry.get("fake"), ref, dict(second.cursor))
    assert list(empty.events) == [] and empty.cursor == second.cursor  # nothing new: the cursor stays
    assert isinstance(empty, PollResult) and not empty.more


def test_replay_connector_still_polls_through_the_adapter():
    ref = AccountRef(id=1, network="x", external_id="r", handle="@brand_en", connector="replay",
                     config={"format": "demo", "batch_size": 5})
    result = poll_with_cursor(registry.get("replay"), ref, None)
    assert 5 <= len(result.events) and result.cursor["since"]
    nxt = poll_with_cursor(registry.get("replay"), ref, dict(result.cursor))
    assert all(e.created_at > max(x.created_at for x in result.events) for e in nxt.events)


def test_only_connectors_with_an_interval_are_polled_automatically():
    from dandelion.inbox.polling import polling_connector_keys

    assert set(polling_connector_keys()) >= {"email", "rss"}
    assert not {"fake", "replay", "generic", "sandbox"} & set(polling_connector_keys())


@pytest.mark.django_db
def test_claims_are_exclusive_and_leases_expire(inbox):
    from dandelion.assets.services import claim_poll

    account = inbox.fr_account
    now = timezone.now()
    lease = dt.timedelta(minutes=5)
    assert claim_poll(account.pk, now=now, lease=lease)
    assert not claim_poll(account.pk, now=now + dt.timedelta(minutes=1), lease=lease)  # another worker
    assert claim_poll(account.pk, now=now + dt.timedelta(minutes=6), lease=lease)  # the first one died


@pytest.mark.django_db
def test_poll_account_with_the_fake_connector_stores_and_advances(inbox):
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Message
    from dandelion.inbox.polling import poll_account

    account = inbox.fr_account  # on the fake connector
    fake.FakeConnector.queue_inbound(account.pk, [fake.make_event("Bonjour, ma commande ?", external_id="p1",
                                                                  created_at=T0)])
    outcome = poll_account(account.pk)
    assert outcome.events == 1 and not outcome.error
    process_pending_deliveries.call()
    assert Message.objects.filter(external_id="p1").exists()
    account.refresh_from_db()
    assert account.poll_state == {"since": T0.isoformat()} and account.last_polled_at is not None
    fake.FakeConnector.fail_next(1, retry_after=600)
    failed = poll_account(account.pk)
    account.refresh_from_db()
    assert failed.error and account.poll_failures == 1 and account.last_error == ""  # one blip: not on health
    assert account.next_poll_at >= timezone.now() + dt.timedelta(seconds=590)  # Retry-After honoured
    assert account.poll_state == {"since": T0.isoformat()}


@pytest.mark.django_db
def test_a_connector_bug_is_one_accounts_problem(inbox, monkeypatch):
    from dandelion.inbox.polling import poll_due_accounts

    def broken(self, account, since):
        raise RuntimeError("bug")

    monkeypatch.setattr(fake.FakeConnector, "poll", broken)
    for account in (inbox.fr_account, inbox.es_account):
        account.next_poll_at = None
        account.save(update_fields=["next_poll_at"])
    summary = poll_due_accounts(keys=["fake"])
    assert summary.as_dict()["failed"] == 2 and summary.as_dict()["accounts"] == 2


@pytest.mark.django_db
def test_reset_poll_state_is_permission_checked_and_audited(inbox):
    from dandelion.assets.services import reset_poll_state
    from dandelion.core.models import AuditEvent

    account = inbox.fr_account
    type(account).objects.filter(pk=account.pk).update(poll_state={"last_uid": 9}, poll_failures=3)
    account.refresh_from_db()
    for outsider in (inbox.users.es_admin, inbox.users.fr_agent, inbox.users.nobody):
        with pytest.raises(PermissionDeniedError):
            reset_poll_state(account, actor=outsider)
    reset_poll_state(account, actor=inbox.users.fr_admin)  # the spoke's own admin may
    type(account).objects.filter(pk=account.pk).update(poll_state={"last_uid": 9}, poll_failures=3)
    account.refresh_from_db()
    reset_poll_state(account, actor=inbox.users.hub_admin)
    account.refresh_from_db()
    assert account.poll_state == {} and account.poll_failures == 0 and account.next_poll_at is None
    assert AuditEvent.objects.filter(action="assets.account.reset_poll_state").count() == 2
