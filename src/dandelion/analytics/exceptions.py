"""The analytics services' rule violations (mapped to 400/403/409 once, by the API and the views)."""

from dandelion.core.exceptions import ConflictError, DandelionError


class BadPeriod(DandelionError):
    """A malformed date, an inverted range or a period too long."""


class StoryStateError(ConflictError):
    """A story asked to move where its state does not allow (feature a draft, edit a featured story)."""
