"""The rule violations the community services raise (the API and views turn them into 4xx answers)."""

from dandelion.core.exceptions import ConflictError, DandelionError


class InvalidCommunityData(DandelionError):
    """Input that breaks a rule of the community app (capacity below 1, an event ending before it starts...)."""


class EmptySearchQuery(DandelionError):
    """A search with nothing to look for once stop words and operators are taken out."""

    code = "empty_query"


class AlreadyRegistered(ConflictError):
    """The person already holds a place (or a waiting-list position) for the gathering."""


class EnablementRequired(DandelionError):
    """The person's role on the unit requires a certification or the current guidelines' acknowledgement first."""

    status_code = 403
    code = "enablement_required"

    def __init__(self, message: str, *, path_url: str = "", field: str | None = None):
        super().__init__(message, field=field)
        self.path_url = path_url
