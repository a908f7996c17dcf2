from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class WebhooksConfig(plugins.DandelionAppConfig):
    name = "dandelion.webhooks"
    label = "webhooks"
    verbose_name = "Outgoing webhooks"
    nav = (plugins.NavEntry(_("Webhooks"), "webhooks:subscription-list", order=90),)
    role_grants = {"spoke_admin": ("webhooks.*",)}
    api_routes = (
        plugins.ApiRoute("webhooks", "dandelion.webhooks.api.views.WebhookSubscriptionViewSet", "webhooksubscription"),
        plugins.ApiRoute("webhook-deliveries", "dandelion.webhooks.api.views.WebhookDeliveryViewSet",
                         "webhookdelivery"),
    )

    def retention_policies(self):
        from dandelion.core.retention import Policy

        # finished deliveries are the log an admin reads when a receiver misbehaves; work to do is never deleted
        return (Policy(name="webhooks.deliveries", label="finished outgoing webhook deliveries",
                       model="webhooks.WebhookDelivery", age_field="finished_at",
                       where={"status__in": ["succeeded", "failed"]},
                       setting="DANDELION_RETAIN_WEBHOOK_DELIVERIES_DAYS", default_days=30),)

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.webhooks.services import queue_deliveries

        subscribe("webhooks", queue_deliveries)
