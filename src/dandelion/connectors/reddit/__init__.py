"""Reddit connector plugin: registers the ``reddit`` network and connector (see ``connector``)."""

from dandelion.connectors.reddit.connector import RedditConnector
from dandelion.connectors.registry import NetworkSpec, register_network

register_network(
    NetworkSpec("reddit", "Reddit", "reddit", "https://www.reddit.com/user/{handle}/", "#FF4500")
)

__all__ = ["RedditConnector"]
