"""The account registry's domain events (declared here, emitted by ``assets.services``)."""

from __future__ import annotations

from typing import Any

from dandelion.core.events import Event, register_type

CHANGED = register_type(
    "account.changed", "Account changed", subject_type="assets.socialaccount",
    description="A social account was updated, transferred, archived or restored, or its credentials replaced.",
    example={"account": {"id": 5, "network": "facebook", "handle": "@brand_fr", "status": "active",
                         "owner_unit_id": 4, "owner_id": 12, "url": "/assets/accounts/5/"},
             "change": "update", "fields": ["display_name"]},
)


def account_changed(account, *, actor, change: str, fields=(), **data: Any) -> Event:
    """``account.changed`` for ``account`` (``change``: update, transfer, archive, restore, credentials)."""
    return Event.create(CHANGED.name, unit=account.owner_unit_id, subject=account, actor=actor, data={
        "account": {"id": account.pk, "network": account.network, "handle": account.handle,
                    "status": account.status, "owner_unit_id": account.owner_unit_id, "owner_id": account.owner_id,
                    "url": account.get_absolute_url()},
        "change": change, "fields": sorted(fields), **data})
