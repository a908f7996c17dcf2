"""Rule violations raised by the websites' services."""

from __future__ import annotations

from django.utils.translation import gettext as _

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
        super().__init__(_("The hostname %(host)s is already used by another website.") % {"host": hostname},
                         field="hostname")
        self.hostname = hostname


class UnknownTemplate(NotFoundError):
    """No active site template has this name (HTTP 404)."""

    code = "unknown_template"

    def __init__(self, name: str, known: list[str]):
        choices = ", ".join(known) or _("none: create one in the admin")
        super().__init__(_("There is no active site template named %(name)s (templates: %(choices)s).")
                         % {"name": repr(name), "choices": choices}, field="template")
        self.name = name
