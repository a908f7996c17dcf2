"""YouTube connector plugin: the ``youtube`` connector (the network itself is in ``connectors.networks``)."""

from dandelion.connectors.youtube.connector import YouTubeConnector

__all__ = ["YouTubeConnector"]
