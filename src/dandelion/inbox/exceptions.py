"""Rule violations raised by inbox services; the API and views turn them into 4xx answers."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError


class InboxError(DandelionError):
    """Base class of inbox rule violations (HTTP 400)."""


class InvalidTransition(InboxError):
    """The conversation is not in a state that allows this action (e.g. resolving a resolved conversation)."""

    code = "invalid_transition"


class ReasonRequired(InboxError):
    """A handover (or take-over) needs a reason the next person can read."""

    code = "reason_required"

    def __init__(self, message: str = "A reason is required.", *, field: str | None = "reason"):
        super().__init__(message, field=field)


class CapabilityMissing(InboxError):
    """The account's connector cannot do this (no reply / moderation capability)."""

    code = "capability_missing"


class ReplyCollision(ConflictError):
    """Someone else replied since the agent loaded the conversation; resend with ``confirm_collision``."""

    code = "collision"

    def __init__(self, *, who: str, seconds_ago: int, message_id: int | None = None):
        self.who = who
        self.seconds_ago = max(0, int(seconds_ago))
        self.message_id = message_id
        super().__init__(f"{who} replied {_ago(self.seconds_ago)} — send anyway?", field="confirm_collision")


def _ago(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


class EmptyMessage(InboxError):
    code = "empty"

    def __init__(self, message: str = "The message is empty.", *, field: str | None = "text"):
        super().__init__(message, field=field)


class UnsentReply(ConflictError):
    """The last reply to the customer failed to send: resolving now would leave them unanswered; resend with
    ``confirm_unsent_reply``."""

    code = "unsent_reply"

    def __init__(self, message: str = "The last reply failed to send: the customer has had no answer. Resolve anyway?",
                 *, field: str | None = "confirm_unsent_reply"):
        super().__init__(message, field=field)
