"""Errors raised by connectors, shaped so that callers know what to do next.

``ConnectorError.permanent`` says whether retrying can help (Healthchecks' ``TransportError(permanent=...)``);
``retry_after`` is the delay the remote side asked for, in seconds, when it said so. The two inbound errors carry
the HTTP status the webhook view should answer with, so the view never has to guess.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """A connector operation failed.

    ``permanent=False`` (the default) means "try again later", ideally after ``retry_after`` seconds;
    ``permanent=True`` means retrying the same call will fail the same way (bad credentials, rejected content...).
    """

    http_status: int = 502

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, permanent={self.permanent!r}, "
            f"retry_after={self.retry_after!r})"
        )


class PayloadError(ConnectorError):
    """An inbound delivery is malformed. ``path`` locates the offending field (``"events[2].author.id"``).

    ``str(error)`` reads ``"<path>: <message>"`` so it can be returned to the sender as is (HTTP 400).
    """

    http_status = 400

    def __init__(self, message: str, path: str = "body") -> None:
        super().__init__(message, permanent=True)
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class PayloadTooLarge(PayloadError):
    """An inbound delivery is larger than the connector accepts (HTTP 413)."""

    http_status = 413


class SignatureError(ConnectorError):
    """An inbound delivery is unsigned (HTTP 401) or its signature does not match (HTTP 403)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message, permanent=True)
        self.missing = missing
        self.http_status = 401 if missing else 403


class ConfigError(ConnectorError):
    """An account's connector configuration does not match the connector's ``config_schema``.

    ``errors`` maps each offending field to a human-readable message (ready for a form's ``add_error``).
    """

    http_status = 400

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        message = "; ".join(f"{field}: {msg}" for field, msg in sorted(self.errors.items()))
        super().__init__(f"invalid connector config: {message}", permanent=True)


class UnknownConnector(LookupError):
    """No connector (or network) is registered under this key."""
