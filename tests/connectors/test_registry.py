"""Registry: connectors, capabilities, the network catalogue, plugin loading."""

from __future__ import annotations

import pytest

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, Capability, Connector
from dandelion.connectors.errors import UnknownConnector
from dandelion.connectors.registry import NetworkSpec

DEMO_NETWORKS = {"facebook", "instagram", "x", "linkedin", "youtube", "tiktok"}
#: Connector folders serving several networks of one company (``meta/``: Facebook Pages and Instagram).
NETWORK_FAMILIES = {"meta"}


def test_builtin_connectors_are_registered_with_their_capabilities():
    keys = {c.key for c in registry.all_connectors()}
    assert {"generic", "fake", "replay"} <= keys
    assert registry.get("fake").capabilities == frozenset(Capability)
    assert registry.has_capability("generic", "inbound")
    assert registry.has_capability("replay", "poll")
    assert not registry.has_capability("replay", "reply")
    assert not registry.has_capability("nope", "inbound")


def test_generic_reply_capability_depends_on_config():
    assert registry.has_capability("generic", "reply", {"reply_webhook_url": "https://hooks.example/reply"})
    assert not registry.has_capability("generic", "reply", {})


def test_get_unknown_key_raises_a_lookup_error_listing_known_keys():
    with pytest.raises(UnknownConnector, match="generic"):
        registry.get("myspace")
    assert issubclass(UnknownConnector, LookupError)


def test_register_checks_declared_capabilities_are_implemented():
    class Liar(Connector):
        key = "liar"
        label = "Liar"
        capabilities = frozenset({Capability.REPLY})

    with pytest.raises(TypeError, match="ReplyConnector"):
        registry.register(Liar)
    with pytest.raises(UnknownConnector):
        registry.get("liar")


def test_register_refuses_a_taken_key_and_bad_keys():
    class Impostor(Connector):
        key = "generic"
        label = "Impostor"

    with pytest.raises(ValueError, match="already taken"):
        registry.register(Impostor)
    assert type(registry.get("generic")).__name__ == "GenericConnector"

    class BadKey(Connector):
        key = "Has Spaces"
        label = "Bad"

    with pytest.raises(ValueError, match="slug"):
        registry.register(BadKey)


def test_register_and_unregister_a_plugin():
    @registry.register
    class Echo(Connector):
        key = "echo-test"
        label = "Echo"

    try:
        assert isinstance(registry.get("echo-test"), Echo)
        assert registry.get("echo-test") is registry.get("echo-test")  # one shared instance
    finally:
        registry.unregister("echo-test")


def test_network_catalogue_covers_the_demo_networks():
    specs = {s.key: s for s in registry.networks()}
    assert DEMO_NETWORKS <= set(specs)
    for key in DEMO_NETWORKS:  # each has a connector: its own API connector, or the generic webhook
        default = registry.get(specs[key].default_connector)
        assert default.key in (key, "generic")
        assert registry.has_capability(default.key, "inbound" if default.key == "generic" else "poll")
    assert registry.get_network("instagram").profile_url("@brand_es") == "https://www.instagram.com/brand_es/"
    assert ("x", "X (Twitter)") in registry.network_choices()
    with pytest.raises(UnknownConnector):
        registry.get_network("friendster")


def test_network_spec_validation_and_conflicts():
    with pytest.raises(ValueError, match="handle"):
        NetworkSpec("mastodon", "Mastodon", "generic", "https://mastodon.social/", "#6364FF")
    with pytest.raises(ValueError, match="color"):
        NetworkSpec("mastodon", "Mastodon", "generic", "https://mastodon.social/@{handle}", "purple")
    with pytest.raises(ValueError, match="already registered"):
        registry.register_network(NetworkSpec("x", "Twitter", "generic", "https://x.com/{handle}", "#000000"))


def test_connector_for_uses_the_account_connector_or_the_network_default():
    ref = AccountRef(id=1, network="tiktok", external_id="t1", handle="@b")
    assert registry.connector_for(ref).key == "generic"
    assert (
        registry.connector_for(
            AccountRef(id=1, network="tiktok", external_id="t1", handle="@b", connector="fake")
        ).key
        == "fake"
    )


def test_load_plugins_is_idempotent_and_reports_missing_modules():
    registry.load_plugins()
    registry.load_plugins(["fake"])
    with pytest.raises(ModuleNotFoundError):
        registry.load_plugins(["does_not_exist"])


def test_no_code_outside_the_catalogue_and_network_folders_names_a_network():
    """Habit 6, enforced: network names appear only in networks.py (and later connectors/<network>/)."""
    import re
    from pathlib import Path

    root = Path(registry.__file__).parent
    pattern = re.compile(r"[\"'](facebook|instagram|linkedin|youtube|tiktok|twitter)[\"']", re.IGNORECASE)
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "networks.py"
        and p.relative_to(root).parts[0] not in DEMO_NETWORKS | NETWORK_FAMILIES
        and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
