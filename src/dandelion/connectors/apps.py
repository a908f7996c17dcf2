from dandelion.core import plugins


class ConnectorsConfig(plugins.DandelionAppConfig):
    name = "dandelion.connectors"
    label = "connectors"
    verbose_name = "Connectors"
    audit_filter = False  # no models of its own

    def ready(self) -> None:
        """Import the connector plugins (``settings.DANDELION_CONNECTOR_PLUGINS`` overrides ``registry.PLUGINS``)."""
        from django.conf import settings

        from dandelion.connectors import registry

        registry.load_plugins(getattr(settings, "DANDELION_CONNECTOR_PLUGINS", None))
