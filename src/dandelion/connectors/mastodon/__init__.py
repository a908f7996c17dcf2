"""Mastodon connector plugin: registers the ``mastodon`` network and connector (see ``connector``)."""

from __future__ import annotations

from dataclasses import dataclass

from dandelion.connectors.mastodon.connector import MastodonConnector
from dandelion.connectors.registry import NetworkSpec, register_network


@dataclass(frozen=True, slots=True)
class FediverseNetworkSpec(NetworkSpec):
    """A federated network: a handle is ``user@instance``, its profile lives on its own instance."""

    def profile_url(self, handle: str) -> str:
        user, _, instance = handle.lstrip("@").partition("@")
        return f"https://{instance}/@{user}" if instance else super(FediverseNetworkSpec, self).profile_url(handle)


register_network(FediverseNetworkSpec("mastodon", "Mastodon", "mastodon", "https://mastodon.social/@{handle}",
                                      "#6364FF"))

__all__ = ["MastodonConnector"]
