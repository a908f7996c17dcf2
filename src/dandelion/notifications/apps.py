from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dandelion.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from dandelion.core.events import subscribe
        from dandelion.core.retention import Policy, register
        from dandelion.notifications.services import notify_for_events

        subscribe("notifications", notify_for_events)
        # read notifications are kept a while as a history, then go; unread ones are never deleted
        register(Policy(name="notifications.read", label="read notifications", model="notifications.Notification",
                        age_field="read_at", where={"read_at__isnull": False},
                        setting="DANDELION_RETAIN_READ_NOTIFICATIONS_DAYS", default_days=90))
