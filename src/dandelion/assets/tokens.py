"""The assets side of the connectors' token write-back (``connectors/tokens.py``): the ``TokenStore`` an
``AccountRef`` carries, writing refreshed tokens into the account's encrypted credentials as the system actor."""

from __future__ import annotations

from dataclasses import dataclass

from dandelion.connectors.tokens import RefreshedCredentials


@dataclass(frozen=True, slots=True)
class AccountTokenStore:
    """Stores the tokens a connector refreshed for account ``account_id`` (see ``assets.services``)."""

    account_id: int

    def save(self, refreshed: RefreshedCredentials) -> bool:
        from dandelion.assets.services import store_refreshed_credentials

        return store_refreshed_credentials(self.account_id, values=refreshed.values, expires_at=refreshed.expires_at,
                                           based_on=refreshed.based_on)

    def revoked(self, error: str, *, based_on: int) -> bool:
        from dandelion.assets.services import record_refresh_refused

        return record_refresh_refused(self.account_id, error=error, based_on=based_on)
