"""LinkedIn connector plugin: the ``linkedin`` connector for organisation pages (the network itself is in
``connectors.networks``)."""

from dandelion.connectors.linkedin.connector import LinkedInConnector

__all__ = ["LinkedInConnector"]
