from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "dandelion.inbox"
    label = "inbox"
    verbose_name = "Inbox"
