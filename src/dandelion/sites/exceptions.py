"""Rule violations raised by the websites' services."""

from __future__ import annotations

from dandelion.core.exceptions import ConflictError, DandelionError, NotFoundError, PermissionDeniedError

__all__ = ["HostnameTaken", "InvalidSiteData", "PermissionDeniedError", "SitesError", "UnknownTemplate"]


class SitesError(DandelionError):
    """Base class of the websites' rule violations (HTTP 400)."""


class InvalidSiteData(SitesError):
    """A value the websites factory does not accept (a malformed hostname, an archived unit...)."""


class HostnameTaken(ConflictError):
    """Another website already answers on this hostname (HTTP 409)."""

    code = "hostname_taken"

    def __init__(self, hostname: str):
        super().__init__(f"The hostname {hostname} is already used by another website.", field="hostname")
        self.hostname = hostname


class UnknownTemplate(NotFoundError):
    """No active site template has this name (HTTP 404)."""

    code = "unknown_template"

    def __init__(self, name: str, known: list[str]):
        choices = ", ".join(known) or "none: create one in the admin"
        super().__init__(f"There is no active site template named {name!r} (templates: {choices}).",
                         field="template")
        self.name = name
