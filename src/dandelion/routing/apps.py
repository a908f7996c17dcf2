from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "dandelion.routing"
    label = "routing"
    verbose_name = "Routing"
