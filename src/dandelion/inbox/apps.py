from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "dandelion.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from dandelion.core.retention import Policy, register

        # processed webhook bodies: their events are stored as messages, the body is only evidence for debugging;
        # the age counts from when processing ended (a delivery retried and processed late keeps its full time)
        register(Policy(name="inbox.deliveries", label="processed webhook deliveries", model="inbox.InboundDelivery",
                        age_field="processed_at", where={"state": "done"},
                        setting="DANDELION_RETAIN_DELIVERIES_DAYS", default_days=14))
        # deliveries that failed for good: kept longer, for an operator to inspect and replay
        register(Policy(name="inbox.failed_deliveries", label="failed webhook deliveries",
                        model="inbox.InboundDelivery", age_field="processed_at", where={"state": "failed"},
                        setting="DANDELION_RETAIN_FAILED_DELIVERIES_DAYS", default_days=90))
