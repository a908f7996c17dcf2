from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "dandelion.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.core.retention import Policy, register
        from dandelion.webhooks.services import queue_deliveries

        subscribe("webhooks", queue_deliveries)
        # finished deliveries are the log an admin reads when a receiver misbehaves; work to do is never deleted
        register(Policy(name="webhooks.deliveries", label="finished outgoing webhook deliveries",
                        model="webhooks.WebhookDelivery", age_field="finished_at",
                        where={"status__in": ["succeeded", "failed"]},
                        setting="DANDELION_RETAIN_WEBHOOK_DELIVERIES_DAYS", default_days=30))
