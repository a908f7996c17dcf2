"""The ``generic`` connector: the documented webhook format in, an optional reply webhook out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, ClassVar

from dandelion.connectors.base import (
    AccountRef,
    Capability,
    ConfigField,
    Connector,
    InboundEvent,
    OutboundReply,
    SentMessage,
    utcnow,
)
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.generic import outbound, webhook
from dandelion.connectors.registry import register


@register
class GenericConnector(Connector):
    """Any system can post events in the generic webhook format; replies go to ``reply_webhook_url`` when set.

    Without ``reply_webhook_url`` the connector has only the ``inbound`` capability for that account.
    """

    key = "generic"
    label = "Generic webhook"
    capabilities = frozenset({Capability.INBOUND, Capability.REPLY})
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "reply_webhook_url": ConfigField(
            str, False, "http(s) URL that receives replies as signed JSON POSTs."
        ),
        "reply_timeout_s": ConfigField(float, False, "Seconds to wait for the reply webhook.", 10.0),
    }

    def capabilities_for(self, config: Mapping[str, Any] | None = None) -> frozenset[str]:
        if config is not None and not config.get("reply_webhook_url"):
            return self.capabilities - {Capability.REPLY}
        return self.capabilities

    def validate_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        clean = super().validate_config(config)
        url = clean.get("reply_webhook_url")
        if url and not url.startswith(("https://", "http://")):
            raise ConfigError({"reply_webhook_url": "must start with https:// or http://"})
        if clean["reply_timeout_s"] <= 0:
            raise ConfigError({"reply_timeout_s": "must be positive"})
        return clean

    def parse_webhook(
        self, account: AccountRef, body: bytes, headers: Mapping[str, str]
    ) -> list[InboundEvent]:
        return webhook.parse_delivery(body, headers, account.webhook_secret)

    def send_reply(self, account: AccountRef, reply: OutboundReply) -> SentMessage:
        """POST the reply to the account's ``reply_webhook_url``; the hook may answer ``{"id": "<its id>"}``."""
        config = self.validate_config(account.config)
        url = config.get("reply_webhook_url")
        if not url:
            raise ConnectorError(
                "this account has no reply_webhook_url: it cannot send replies", permanent=True
            )
        payload = {
            "type": "reply",
            "account": {"id": account.id, "external_id": account.external_id, "handle": account.handle},
            "reply": {
                "kind": reply.kind,
                "text": reply.text,
                "in_reply_to": reply.in_reply_to,
                "recipient_id": reply.recipient_external_id,
                "idempotency_key": reply.idempotency_key,
            },
        }
        answer = outbound.post_signed_json(
            url, payload, secret=account.webhook_secret, timeout=config["reply_timeout_s"]
        )
        remote_id = answer.get("id") if isinstance(answer, dict) else None
        external_id = str(remote_id) if isinstance(remote_id, (str, int)) and str(remote_id) else None
        return SentMessage(external_id=external_id or f"generic-{uuid.uuid4().hex}", sent_at=utcnow())
