"""The inbox's seam with the connectors: an account's ``AccountRef``, its connector, its capabilities.

No network is named here (conventions, habit 6): the registry says which connector serves an account and what it
can do. Also the (de)serialisation of ``InboundEvent`` for ``InboundDelivery.payload``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, InboundAuthor, InboundEvent
from dandelion.connectors.errors import UnknownConnector

#: Largest webhook body accepted, when the connectors do not say otherwise.
DEFAULT_MAX_BODY_BYTES = 256 * 1024


def max_body_bytes() -> int:
    try:
        from dandelion.connectors.generic import webhook

        return int(getattr(webhook, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    except ImportError:  # pragma: no cover - connectors without a generic module
        return DEFAULT_MAX_BODY_BYTES


def account_ref(account, *, with_secrets: bool = True) -> AccountRef:
    """The plain description of ``account`` that connectors work with (secrets decrypted only when asked, with the
    store that writes the tokens a connector refreshes back into the account's credentials)."""
    from dandelion.assets.tokens import AccountTokenStore

    credentials: dict[str, Any] = {}
    secret = ""
    store = None
    if with_secrets:
        credentials = account.credentials if account.has_credentials else {}
        secret = account.webhook_secret if account.webhook_secret_encrypted else ""
        store = AccountTokenStore(account.pk) if account.pk else None
    return AccountRef(
        id=account.pk,
        network=account.network,
        external_id=account.external_id,
        handle=account.handle,
        credentials=credentials,
        config=dict(account.connector_config or {}),
        webhook_secret=secret,
        connector=account.connector or "",
        credentials_version=account.credentials_version or 0,
        token_store=store,
    )


def connector_for(account):
    """The connector instance serving ``account`` (``UnknownConnector`` when none is registered)."""
    return registry.connector_for(account_ref(account, with_secrets=False))


def supports(account, capability: str) -> bool:
    """Does the account's connector offer ``capability`` for this account's config?"""
    try:
        connector = connector_for(account)
    except UnknownConnector:
        return False
    return connector.supports(capability, account.connector_config or {})


def supports_author_action(account, action: str) -> bool:
    """Does the account's connector offer the author action ``action`` (``mute_author``, ``report_author``)?"""
    from dandelion.connectors.base import supports_author_action as offers

    try:
        connector = connector_for(account)
    except UnknownConnector:
        return False
    return offers(connector, action)


def author_actions(account) -> dict[str, bool]:
    """``{"mute_author": bool, "report_author": bool}`` for the account's connector (for the conversation view)."""
    return {action: supports_author_action(account, action) for action in ("mute_author", "report_author")}


# --- InboundEvent <-> JSON ----------------------------------------------------------------------------------------


def event_to_dict(event: InboundEvent) -> dict[str, Any]:
    a = event.author
    return {
        "id": event.external_id,
        "kind": event.kind,
        "text": event.text,
        "created_at": event.created_at.isoformat(),
        "author": {"id": a.external_id, "name": a.name, "handle": a.handle, "followers": a.followers,
                   "language": a.language, "country": a.country},
        "in_reply_to": event.in_reply_to,
        "from_account": event.from_account,
    }


def event_from_dict(data: dict[str, Any]) -> InboundEvent:
    a = data.get("author") or {}
    created = dt.datetime.fromisoformat(data["created_at"])
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return InboundEvent(
        external_id=str(data["id"]),
        kind=data.get("kind") or "comment",
        text=data.get("text") or "",
        created_at=created,
        author=InboundAuthor(
            external_id=str(a.get("id") or ""), name=a.get("name") or "", handle=a.get("handle") or "",
            followers=a.get("followers"), language=a.get("language"), country=a.get("country"),
        ),
        in_reply_to=data.get("in_reply_to") or None,
        from_account=bool(data.get("from_account")),
    )
