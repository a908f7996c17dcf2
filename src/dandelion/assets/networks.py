"""The registry's view of the connectors' catalogue. No network is named here: everything comes from
``dandelion.connectors.registry`` (imported lazily, so the assets app loads without it)."""

from __future__ import annotations

from dandelion.assets.exceptions import InvalidAccountData


def _registry():
    from dandelion.connectors import registry

    return registry


def network_specs() -> dict:
    """``{key: NetworkSpec}`` in the catalogue's order."""
    return {spec.key: spec for spec in _registry().networks()}


def network_choices() -> list[tuple[str, str]]:
    return [(key, spec.label) for key, spec in network_specs().items()]


def network_label(key: str) -> str:
    spec = network_specs().get(key)
    return spec.label if spec else key


def is_connector(key: str) -> bool:
    try:
        return _registry().get(key) is not None
    except (KeyError, LookupError, ValueError):
        return False


def validate_network(network: str) -> None:
    if network not in network_specs():
        known = ", ".join(network_specs())
        raise InvalidAccountData(f"Unknown network {network!r} (known: {known}).", field="network")


def resolve_connector(network: str, connector: str | None) -> str:
    """The connector key to store: the given one if registered, else the network's default connector."""
    validate_network(network)
    if not connector:
        return network_specs()[network].default_connector
    if not is_connector(connector):
        raise InvalidAccountData(f"Unknown connector {connector!r}.", field="connector")
    return connector

