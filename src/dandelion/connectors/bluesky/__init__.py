"""Bluesky (AT Protocol) connector plugin: registers the ``bluesky`` network and connector (see ``connector``)."""

from dandelion.connectors.bluesky.connector import BlueskyConnector
from dandelion.connectors.registry import NetworkSpec, register_network

register_network(NetworkSpec("bluesky", "Bluesky", "bluesky", "https://bsky.app/profile/{handle}", "#1185FE"))

__all__ = ["BlueskyConnector"]
