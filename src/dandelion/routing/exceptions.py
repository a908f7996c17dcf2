"""Errors raised by routing services (subclasses of :class:`dandelion.core.exceptions.DandelionError`)."""

from __future__ import annotations

from dandelion.core.exceptions import DandelionError


class RoutingError(DandelionError):
    """Base class for routing rule violations."""


class RuleValidationError(RoutingError):
    """A rule's conditions or actions are not valid; ``errors`` lists ``{"path": ..., "message": ...}``."""

    code = "invalid_rule"

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        text = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
        super().__init__(f"Invalid rule: {text}", field=errors[0]["path"].split(".")[0] if errors else None)


class CalendarError(RoutingError):
    """A business calendar is malformed (e.g. no opening hours at all)."""

    code = "invalid_calendar"


class SlaPolicyConflict(RoutingError):
    """A policy for this team and priority already exists."""

    status_code = 409
    code = "conflict"
