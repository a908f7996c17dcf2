"""The network catalogue: metadata of the networks Dandelion knows, with no API code.

This module and ``connectors/<network>/`` are the only places allowed to name a network (conventions, habit 6).
A network without an API connector of its own defaults to the ``generic`` webhook connector, which any bridge (or the
network's own webhook relay) can post to. The default applies to accounts connected or registered from now on: an
account keeps the connector it was registered with (Facebook, Instagram and X defaulted to ``generic`` before their
Graph API / API v2 connectors; accounts registered then still use it, see assets migration 0006); ``API_CONNECTORS`` lists the ``connectors/<network>/`` plugins imported
with this catalogue (so that ``registry.PLUGINS`` names no network).
"""

from __future__ import annotations

from dandelion.connectors.registry import NetworkSpec, load_plugins, register_network
from dandelion.connectors.text_limits import TextRule, register_text_rule

CATALOGUE: tuple[NetworkSpec, ...] = (
    NetworkSpec("facebook", "Facebook", "facebook", "https://www.facebook.com/{handle}", "#1877F2"),
    NetworkSpec("instagram", "Instagram", "instagram", "https://www.instagram.com/{handle}/", "#E4405F"),
    NetworkSpec("x", "X (Twitter)", "x", "https://x.com/{handle}", "#000000"),
    NetworkSpec("linkedin", "LinkedIn", "linkedin", "https://www.linkedin.com/company/{handle}/", "#0A66C2"),
    NetworkSpec("youtube", "YouTube", "youtube", "https://www.youtube.com/@{handle}", "#FF0000"),
    NetworkSpec("tiktok", "TikTok", "generic", "https://www.tiktok.com/@{handle}", "#010101"),
    NetworkSpec("webhook", "Other (webhook)", "generic", "{handle}", "#6B7280"),
)

for _spec in CATALOGUE:
    register_network(_spec)

#: How each network counts a post's length (``text_limits``): its documented limit and counting method.
TEXT_RULES: dict[str, TextRule] = {
    "x": TextRule(280, "weighted", url_length=23),
    "bluesky": TextRule(300, "graphemes"),
    "mastodon": TextRule(500, "chars", url_length=23),
    "threads": TextRule(500, "chars"),
    "facebook": TextRule(63206, "chars"),
    "instagram": TextRule(2200, "chars"),
    "linkedin": TextRule(3000, "chars"),
    "tiktok": TextRule(2200, "chars"),
    "youtube": TextRule(5000, "chars"),
}

for _network, _rule in TEXT_RULES.items():
    register_text_rule(_network, _rule)

#: API connector plugins (``connectors/<network>/``) of networks in this catalogue, imported with it.
API_CONNECTORS: tuple[str, ...] = ("youtube", "reddit", "linkedin")

load_plugins(API_CONNECTORS)
