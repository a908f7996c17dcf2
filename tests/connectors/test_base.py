"""The dataclasses, errors and config schema that cross the connector seam."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    ConfigField,
    Connector,
    InboundAuthor,
    InboundEvent,
    OutboundReply,
    SentMessage,
)
from dandelion.connectors.errors import (
    ConfigError,
    ConnectorError,
    PayloadError,
    PayloadTooLarge,
    SignatureError,
)

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def event(**overrides):
    fields = {
        "external_id": "e1",
        "kind": "comment",
        "text": "hi",
        "created_at": NOW,
        "author": InboundAuthor(external_id="a1"),
    }
    return InboundEvent(**(fields | overrides))


def test_event_shape_and_defaults():
    e = event()
    assert [f.name for f in dataclasses.fields(InboundEvent)] == [
        "external_id",
        "kind",
        "text",
        "created_at",
        "author",
        "in_reply_to",
        "from_account",
        "raw",
        "attachments",
    ]
    assert e.in_reply_to is None and e.from_account is False and dict(e.raw) == {} and e.attachments == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.text = "changed"  # type: ignore[misc]


def test_event_rejects_naive_datetime_unknown_kind_and_empty_id():
    with pytest.raises(ValueError, match="timezone-aware"):
        event(created_at=dt.datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="kind"):
        event(kind="story")
    with pytest.raises(ValueError, match="external_id"):
        event(external_id="")


def test_account_ref_keeps_secrets_out_of_repr():
    ref = AccountRef(
        id=1,
        network="x",
        external_id="1",
        handle="@b",
        credentials={"token": "TOPSECRET"},
        webhook_secret="HOOKSECRET",
    )
    assert "TOPSECRET" not in repr(ref) and "HOOKSECRET" not in repr(ref)
    assert ref.credentials["token"] == "TOPSECRET"


def test_outbound_dm_needs_a_recipient_and_sent_message_needs_aware_time():
    with pytest.raises(ValueError):
        OutboundReply(text="hi", kind="dm")
    assert OutboundReply(text="hi", kind="dm", recipient_external_id="u1").recipient_external_id == "u1"
    with pytest.raises(ValueError):
        SentMessage(external_id="m", sent_at=dt.datetime(2025, 1, 1))


def test_errors_carry_retry_semantics_and_http_status():
    transient = ConnectorError("busy", retry_after=3.0)
    assert (transient.permanent, transient.retry_after) == (False, 3.0)
    err = PayloadError("required", "author.id")
    assert str(err) == "author.id: required" and err.permanent and err.http_status == 400
    assert isinstance(err, ConnectorError)
    assert PayloadTooLarge("too big").http_status == 413
    assert SignatureError("no header", missing=True).http_status == 401
    assert SignatureError("bad").http_status == 403


class Sample(Connector):
    key = "sample"
    label = "Sample"
    capabilities = frozenset({"reply"})
    config_schema = {
        "url": (str, True, "Where to post."),
        "timeout": (float, False, "Seconds.", 5.0),
        "verbose": ConfigField(bool, False, "Chatty logs."),
    }


def test_config_schema_is_normalised_and_validated():
    assert Sample.config_schema["url"] == ConfigField(str, True, "Where to post.")
    assert Sample.capabilities == {Capability.REPLY}
    connector = Sample()
    assert connector.validate_config({"url": "https://x", "timeout": 2}) == {
        "url": "https://x",
        "timeout": 2.0,
    }
    assert connector.validate_config({"url": "https://x"})["timeout"] == 5.0
    with pytest.raises(ConfigError) as info:
        connector.validate_config({"timeout": "slow", "verbose": 1, "extra": True})
    assert info.value.errors == {
        "url": "required",
        "timeout": "must be of type float, not str",
        "verbose": "must be of type bool, not int",
        "extra": "unknown field",
    }
    assert "url: required" in str(info.value)


def test_bad_declarations_fail_at_class_creation():
    with pytest.raises(ValueError):
        type("Bad", (Connector,), {"capabilities": frozenset({"teleport"})})
    with pytest.raises(TypeError):
        type("Bad", (Connector,), {"config_schema": {"when": (dt.datetime, False, "")}})
