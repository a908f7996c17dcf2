"""The ``website`` connector (key and network ``website``): the comments of a Dandelion website's blog, as a
network of their own in the unified inbox. See docs/websites.md (Expert blogs)."""

from dandelion.connectors.registry import NetworkSpec, register_network
from dandelion.connectors.website.connector import WebsiteConnector

NETWORK = register_network(
    NetworkSpec("website", "Website comments", "website", "https://{handle}/", "#2E7D32")
)

__all__ = ["NETWORK", "WebsiteConnector"]
