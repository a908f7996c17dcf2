"""Meta connector plugins on the Graph API: ``facebook`` (Pages) and ``instagram`` (business accounts)."""

from __future__ import annotations

from dandelion.connectors.meta.facebook import FacebookConnector
from dandelion.connectors.meta.instagram import InstagramConnector

__all__ = ["FacebookConnector", "InstagramConnector"]
