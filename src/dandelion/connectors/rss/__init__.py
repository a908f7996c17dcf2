"""The RSS/Atom feed connector (key ``rss``, network ``rss``). See docs/connectors/rss.md."""

from dandelion.connectors.registry import NetworkSpec, register_network
from dandelion.connectors.rss.connector import RssConnector

NETWORK = register_network(NetworkSpec("rss", "RSS/Atom feed", "rss", "{handle}", "#F26522"))

__all__ = ["NETWORK", "RssConnector"]
