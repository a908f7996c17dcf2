from dandelion.core import plugins


class NotificationsConfig(plugins.DandelionAppConfig):
    name = "dandelion.notifications"
    label = "notifications"
    verbose_name = "Notifications"
    audit_filter = False  # notifications are per person; what they tell of is audited where it happened

    def retention_policies(self):
        from dandelion.core.retention import Policy

        # read notifications are kept a while as a history, then go; unread ones are never deleted
        return (Policy(name="notifications.read", label="read notifications", model="notifications.Notification",
                       age_field="read_at", where={"read_at__isnull": False},
                       setting="DANDELION_RETAIN_READ_NOTIFICATIONS_DAYS", default_days=90),
                # the digest's claims matter only for the day they claim: a month is kept as a record
                Policy(name="notifications.digest_claims", label="e-mail digest claims",
                       model="notifications.DigestSent", age_field="sent_at", where={},
                       setting="DANDELION_RETAIN_DIGEST_CLAIMS_DAYS", default_days=30))

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.notifications.services import notify_for_events

        subscribe("notifications", notify_for_events)
