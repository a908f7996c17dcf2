"""Errors that services raise for rule violations; the API and views turn them into 4xx answers."""


class DandelionError(Exception):
    """Base class for rule violations raised by services (maps to HTTP 400)."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDeniedError(DandelionError):
    """The actor lacks the permission for this action on this object's unit (HTTP 403)."""

    status_code = 403
    code = "permission_denied"


class NotFoundError(DandelionError):
    """The object the action names does not exist (or is not visible to the actor) (HTTP 404)."""

    status_code = 404
    code = "not_found"


class ConflictError(DandelionError):
    """The action conflicts with the current state, e.g. a duplicate (HTTP 409)."""

    status_code = 409
    code = "conflict"


class AppendOnlyError(DandelionError):
    """Audit rows are never changed or deleted."""

    code = "append_only"
