"""Rule violations raised by the account registry's services (mapped to JSON 4xx by the API handler)."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError, PermissionDeniedError

__all__ = [
    "AccountArchived",
    "AccountNotArchived",
    "AssetsError",
    "DuplicateAccount",
    "InvalidAccountData",
    "PermissionDeniedError",
]


class AssetsError(DandelionError):
    """Base class of the registry's rule violations (HTTP 400)."""


class InvalidAccountData(AssetsError):
    """A value the registry does not accept (unknown network or connector, inactive owner, ...)."""


class DuplicateAccount(ConflictError):
    """Another account already has this network and external id (HTTP 409)."""

    code = "duplicate_account"

    def __init__(self, network: str, external_id: str):
        super().__init__(
            f"An account on {network} with external id {external_id!r} is already registered.", field="external_id"
        )


class AccountArchived(ConflictError):
    """The account is archived: restore it first (HTTP 409)."""

    code = "account_archived"

    def __init__(self, message: str = "The account is archived; restore it first."):
        super().__init__(message)


class AccountNotArchived(ConflictError):
    code = "account_not_archived"

    def __init__(self, message: str = "The account is not archived."):
        super().__init__(message)
