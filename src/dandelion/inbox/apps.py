from django.utils.translation import gettext_lazy as _

from dandelion.core import plugins


class InboxConfig(plugins.DandelionAppConfig):
    name = "dandelion.inbox"
    label = "inbox"
    verbose_name = "Inbox"
    nav = (
        plugins.NavEntry(_("Inbox"), "inbox:queue", order=10, team_scoped=True),
        plugins.NavEntry(_("Metrics"), "inbox:metrics", order=70),
        plugins.NavEntry(_("Deliveries"), "inbox:deliveries", order=80),
    )
    role_grants = {
        "spoke_admin": ("inbox.*",),
        "community_manager": ("inbox.*",),
        "helper_agent": ("inbox.*",),
        "external_moderator": (
            "inbox.view_*",
            "inbox.reply_conversation",
            "inbox.change_conversation",
            "inbox.assign_conversation",
            "inbox.moderate_conversation",
            "inbox.add_message",
            "inbox.view_cannedresponse",
        ),
        "pr_manager": ("inbox.*",),
    }
    api_routes = (
        plugins.ApiRoute("conversations", "dandelion.inbox.api.views.ConversationViewSet", "conversation"),
        plugins.ApiRoute("canned-responses", "dandelion.inbox.api.views.CannedResponseViewSet", "cannedresponse"),
        plugins.ApiRoute("metrics/inbox", "dandelion.inbox.api.views.InboxMetricsViewSet", "inbox-metrics"),
        plugins.ApiRoute("inbound-deliveries", "dandelion.inbox.api.views.InboundDeliveryViewSet", "inbounddelivery"),
    )
    extra_urls = (("hooks/", "dandelion.inbox.hooks"),)
    demo_seed = "dandelion.inbox.demo.seed"
    demo_after = ("orgs",)

    def retention_policies(self):
        from dandelion.core.retention import Policy

        return (
            # processed webhook bodies: their events are stored as messages, the body is only evidence for
            # debugging; the age counts from when processing ended (a delivery retried late keeps its full time)
            Policy(name="inbox.deliveries", label="processed webhook deliveries", model="inbox.InboundDelivery",
                   age_field="processed_at", where={"state": "done"},
                   setting="DANDELION_RETAIN_DELIVERIES_DAYS", default_days=14),
            # deliveries that failed for good: kept longer, for an operator to inspect and replay
            Policy(name="inbox.failed_deliveries", label="failed webhook deliveries",
                   model="inbox.InboundDelivery", age_field="processed_at", where={"state": "failed"},
                   setting="DANDELION_RETAIN_FAILED_DELIVERIES_DAYS", default_days=90),
        )
