"""Rule violations of the webhooks services (turned into 4xx answers by views and the API)."""

from dandelion.core.exceptions import ConflictError, DandelionError


class WebhookError(DandelionError):
    code = "webhook_invalid"


class InvalidTarget(WebhookError):
    """The URL is not an http(s) address Dandelion may call."""

    code = "webhook_invalid_target"


class UnknownEventType(WebhookError):
    code = "webhook_unknown_event_type"


class NotRedeliverable(ConflictError):
    code = "webhook_not_redeliverable"
