"""The sandbox connector: generic webhooks in; replies and moderation accepted, logged, never sent."""

import json

import pytest

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, Capability, OutboundReply
from dandelion.connectors.errors import SignatureError
from dandelion.connectors.generic import sign


def _account():
    return AccountRef(id=7, network="x", external_id="sb-1", handle="@demo", credentials={}, config={},
                      webhook_secret="s3cret", connector="sandbox")


def test_registered_with_reply_and_moderation():
    connector = registry.get("sandbox")
    assert {Capability.INBOUND, Capability.REPLY, Capability.MODERATION} <= set(connector.capabilities)


def test_reply_is_accepted_with_a_stable_id_and_logged(caplog):
    connector = registry.get("sandbox")
    reply = OutboundReply(text="Bonjour !", in_reply_to="m-1", idempotency_key="msg-42")
    with caplog.at_level("INFO", logger="dandelion.connectors.sandbox"):
        first = connector.send_reply(_account(), reply)
        again = connector.send_reply(_account(), reply)
    assert first.external_id == again.external_id and first.external_id.startswith("sandbox-")
    assert "sandbox reply on @demo" in caplog.text and "Bonjour" not in caplog.text  # no message text in logs


def test_moderation_and_signed_webhooks():
    connector = registry.get("sandbox")
    assert connector.hide(_account(), "m-1").action == "hide"
    body = json.dumps({"events": [{"id": "e1", "kind": "comment", "text": "hi", "created_at": "2026-11-22T10:00:00Z",
                                   "author": {"id": "a1", "name": "A"}}]}).encode()
    events = connector.parse_webhook(_account(), body, {"X-Dandelion-Signature": sign(body, "s3cret")})
    assert [e.external_id for e in events] == ["e1"]
    with pytest.raises(SignatureError):
        connector.parse_webhook(_account(), body, {"X-Dandelion-Signature": sign(body, "wrong")})
