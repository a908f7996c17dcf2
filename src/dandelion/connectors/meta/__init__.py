"""Meta connector plugins on the Graph API: ``facebook`` (Pages) and ``instagram`` (business accounts)."""

from __future__ import annotations

from dandelion.connectors.meta.facebook import FacebookConnector

__all__ = ["FacebookConnector"]
