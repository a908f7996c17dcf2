from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "dandelion.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from dandelion.core.memo import watch_config

        # the inbound pipeline keeps what it reads of these across batches (core.memo.config_memoized)
        watch_config(*(self.get_model(name) for name in ("RoutingRule", "SlaPolicy", "BusinessCalendar", "Holiday")))
