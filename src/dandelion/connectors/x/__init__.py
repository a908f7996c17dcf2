"""X connector plugin (X API v2 through tweepy): registers the ``x`` connector (see ``connector``)."""

from __future__ import annotations

from dandelion.connectors.x.connector import XConnector

__all__ = ["XConnector"]
