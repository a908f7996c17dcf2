"""The network catalogue: metadata of the networks Dandelion knows, with no API code.

This module and ``connectors/<network>/`` are the only places allowed to name a network (conventions, habit 6).
Real API connectors arrive in a later issue; until then every network defaults to the ``generic`` webhook connector,
which any bridge (or the network's own webhook relay) can post to.
"""

from __future__ import annotations

from dandelion.connectors.registry import NetworkSpec, register_network

CATALOGUE: tuple[NetworkSpec, ...] = (
    NetworkSpec("facebook", "Facebook", "generic", "https://www.facebook.com/{handle}", "#1877F2"),
    NetworkSpec("instagram", "Instagram", "generic", "https://www.instagram.com/{handle}/", "#E4405F"),
    NetworkSpec("x", "X (Twitter)", "generic", "https://x.com/{handle}", "#000000"),
    NetworkSpec("linkedin", "LinkedIn", "generic", "https://www.linkedin.com/company/{handle}/", "#0A66C2"),
    NetworkSpec("youtube", "YouTube", "generic", "https://www.youtube.com/@{handle}", "#FF0000"),
    NetworkSpec("tiktok", "TikTok", "generic", "https://www.tiktok.com/@{handle}", "#010101"),
    NetworkSpec("webhook", "Other (webhook)", "generic", "{handle}", "#6B7280"),
)

for _spec in CATALOGUE:
    register_network(_spec)
