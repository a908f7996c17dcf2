"""The rule violations the publishing services raise."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError


class InvalidPost(DandelionError):
    """The post's input is wrong (too long for a network, no account, a time in the past or in a DST gap...)."""


class InvalidTransition(ConflictError):
    """The post is not in a state that allows this action."""

    code = "invalid_transition"


class GuidelineBlocked(DandelionError):
    """A blocking guideline check failed; ``results`` hold every check's outcome."""

    code = "guideline_blocked"

    def __init__(self, message: str, *, results=(), field: str | None = None):
        super().__init__(message, field=field)
        self.results = list(results)


class NotAnApprover(DandelionError):
    """The actor may not approve the post's current step (wrong role, own post...)."""

    status_code = 403
    code = "not_an_approver"


class InvalidRule(DandelionError):
    """A guideline rule, workflow or pause is malformed."""
