"""Rule violations raised by ``sso.services`` and refusals of a sign-in."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError, NotFoundError, PermissionDeniedError

__all__ = ["ConflictError", "DandelionError", "InvalidRule", "NotFoundError", "PermissionDeniedError",
           "SignInRefused"]


class InvalidRule(DandelionError):
    """A claim rule that would grant a role outside its provider's subtree, or an impossible role."""

    code = "invalid_rule"


class SignInRefused(DandelionError):
    """A sign-in refused: a bad token (issuer, audience, nonce, signature, expiry), a bad state, no role."""

    status_code = 403
    code = "sign_in_refused"

    def __init__(self, message: str, *, reason: str, status: int = 403):
        super().__init__(message)
        self.reason = reason
        self.status_code = status
