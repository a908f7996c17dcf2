"""Rule violations raised by the crisis room's services (mapped to 4xx by the API handler and the views)."""

from dandelion.core.exceptions import ConflictError, DandelionError


class CrisisError(DandelionError):
    """A crisis rule was broken (a transition that does not exist, an owner who may not act on the unit...)."""


class IncidentClosed(ConflictError):
    """The incident is closed: its room is read-only (HTTP 409)."""

    code = "incident_closed"
