"""The fake connector: records, ids, scripted failures, polling."""

from __future__ import annotations

import datetime as dt

import pytest

from dandelion.connectors import fake, registry
from dandelion.connectors.base import (
    AccountMetrics,
    InboundConnector,
    MetricsConnector,
    ModerationConnector,
    OutboundPost,
    OutboundReply,
    PollingConnector,
    PublishingConnector,
    ReplyConnector,
)
from dandelion.connectors.errors import ConnectorError


@pytest.fixture
def connector():
    return registry.get("fake")


def test_implements_every_protocol(connector):
    for protocol in (
        InboundConnector,
        PollingConnector,
        ReplyConnector,
        ModerationConnector,
        MetricsConnector,
        PublishingConnector,
    ):
        assert isinstance(connector, protocol)


def test_replies_and_moderation_are_recorded_with_generated_ids(connector, account):
    first = connector.send_reply(account, OutboundReply(text="Hello", in_reply_to="c-1"))
    second = connector.send_reply(account, OutboundReply(text="Again", in_reply_to="c-1"))
    assert (first.external_id, second.external_id) == ("fake-1", "fake-2")
    connector.hide(account, "c-1")
    connector.ban_author(account, "u-9")
    assert [r.reply.text for r in fake.STORE.replies] == ["Hello", "Again"]
    assert [(m.result.action, m.result.target_external_id) for m in fake.STORE.moderation] == [
        ("hide", "c-1"),
        ("ban_author", "u-9"),
    ]
    assert fake.STORE.replies[0].account_id == account.id
    published = connector.publish(account, OutboundPost(text="New post"))
    assert fake.STORE.published[0].sent == published


def test_reset_clears_in_place_and_restarts_ids(connector, account):
    store = fake.STORE
    connector.send_reply(account, OutboundReply(text="x", in_reply_to="c"))
    fake.FakeConnector.fail_next(2)
    fake.reset()
    assert store is fake.STORE and store.replies == [] and store.failures == []
    assert connector.send_reply(account, OutboundReply(text="y", in_reply_to="c")).external_id == "fake-1"


def test_fail_next_scripts_transient_then_permanent_failures(connector, account):
    fake.FakeConnector.fail_next(2, permanent=False, retry_after=1.5)
    fake.FakeConnector.fail_next(1, permanent=True, retry_after=None, message="token revoked")
    reply = OutboundReply(text="hi", in_reply_to="c")
    for _ in range(2):
        with pytest.raises(ConnectorError) as info:
            connector.send_reply(account, reply)
        assert (info.value.permanent, info.value.retry_after) == (False, 1.5)
    with pytest.raises(ConnectorError, match="token revoked") as info:
        connector.delete(account, "c")
    assert info.value.permanent is True
    assert connector.send_reply(account, reply).external_id == "fake-1"  # failures used up
    assert fake.STORE.replies and not fake.STORE.moderation  # failed calls recorded nothing
    assert fake.STORE.calls == ["send_reply", "send_reply", "delete", "send_reply"]


def test_poll_returns_queued_events_after_since(connector, account):
    t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    events = [fake.make_event(f"m{i}", created_at=t0 + dt.timedelta(minutes=i)) for i in range(3)]
    fake.FakeConnector.queue_inbound(account.id, reversed(events))
    assert [e.text for e in connector.poll(account, t0)] == ["m1", "m2"]
    assert connector.poll(account, None) == []  # queue drained


def test_metrics_default_and_scripted(connector, account):
    assert connector.fetch_metrics(account).followers == 1000 + account.id
    scripted = AccountMetrics(collected_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), followers=5)
    fake.FakeConnector.set_metrics(account.id, scripted)
    assert connector.fetch_metrics(account) == scripted


def test_webhook_uses_the_generic_format(connector, account, signed):
    body, headers = signed(
        {
            "id": "f1",
            "kind": "dm",
            "text": "hey",
            "created_at": "2025-01-01T00:00:00Z",
            "author": {"id": "u1"},
        }
    )
    [event] = connector.parse_webhook(account, body, headers)
    assert event.kind == "dm"


def test_make_event_defaults():
    event = fake.make_event("Bonjour", kind="mention", language="fr")
    assert event.kind == "mention" and event.author.language == "fr" and event.created_at.tzinfo is not None
    assert event.external_id.startswith("fake-")
