"""Where connectors and networks are registered and looked up.

Two catalogues:

* **connectors** (``register`` / ``get`` / ``all_connectors`` / ``has_capability`` / ``connector_for``): the plugins
  that talk to a network or a system, keyed by ``Connector.key``;
* **networks** (``register_network`` / ``networks`` / ``get_network``): the metadata of each social network
  (label, colour, profile URL, default connector), used for the account registry's choices.

Plugins register themselves when imported. ``PLUGINS`` lists the ``dandelion.connectors.<name>`` modules to import;
``load_plugins`` imports them (``ConnectorsConfig.ready`` calls it with ``settings.DANDELION_CONNECTOR_PLUGINS`` when
set) and every lookup calls it first, so plain-Python callers need no set-up.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from dandelion.connectors.base import PROTOCOLS, AccountRef, Connector
from dandelion.connectors.errors import UnknownConnector

PLUGINS: tuple[str, ...] = ("networks", "generic", "fake", "replay", "sandbox", "email", "rss", "bluesky", "mastodon",
                         "meta", "x", "website")
"""Modules under ``dandelion.connectors`` imported to register plugins (override: DANDELION_CONNECTOR_PLUGINS)."""

_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

_lock = threading.RLock()
_connectors: dict[str, Connector] = {}
_networks: dict[str, NetworkSpec] = {}
_loaded: set[str] = set()

C = TypeVar("C", bound=type[Connector])


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A social network as the account registry shows it. ``profile_url_template`` holds ``{handle}``."""

    key: str
    label: str
    default_connector: str
    profile_url_template: str
    color: str

    def __post_init__(self) -> None:
        if not _KEY_RE.match(self.key):
            raise ValueError(f"network key {self.key!r} must be a lowercase slug (max 40)")
        if "{handle}" not in self.profile_url_template:
            raise ValueError(f"network {self.key}: profile_url_template must contain '{{handle}}'")
        if not _COLOR_RE.match(self.color):
            raise ValueError(f"network {self.key}: color must look like '#1877f2', got {self.color!r}")

    def profile_url(self, handle: str) -> str:
        """The public profile URL for ``handle`` (a leading '@' is dropped)."""
        return self.profile_url_template.format(handle=handle.lstrip("@"))


# --- plugin discovery --------------------------------------------------------------------------------------------


def load_plugins(names: Iterable[str] | None = None) -> None:
    """Import ``dandelion.connectors.<name>`` for each name (default ``PLUGINS``); idempotent.

    A dotted name containing a '.' beyond the package (``"acme_connectors.teams"``) is imported as given, so third
    parties can ship plugins outside this package.
    """
    for name in PLUGINS if names is None else names:
        module = name if "." in name else f"dandelion.connectors.{name}"
        with _lock:
            if module in _loaded:
                continue
            importlib.import_module(module)
            _loaded.add(module)


def _ensure_loaded() -> None:
    if not _loaded:
        load_plugins()


# --- connectors --------------------------------------------------------------------------------------------------


def register(cls: C) -> C:
    """Class decorator: register a ``Connector`` subclass under its ``key``.

    Checks that the key is a slug, the label is set, and that every declared capability is backed by the methods of
    its Protocol (so ``has_capability`` can be trusted). Registering a second class under a taken key is an error;
    re-registering the same class (a module re-import) is not.
    """
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{cls!r} is not a Connector subclass")
    if not _KEY_RE.match(cls.key or ""):
        raise ValueError(f"{cls.__name__}.key {cls.key!r} must be a lowercase slug (max 40)")
    if not cls.label:
        raise ValueError(f"{cls.__name__}.label must be set")
    instance = cls()
    for capability in cls.capabilities:
        protocol = PROTOCOLS[capability]
        if not isinstance(instance, protocol):
            raise TypeError(
                f"{cls.__name__} declares {capability!r} but does not implement {protocol.__name__}"
            )
    with _lock:
        current = _connectors.get(cls.key)
        if current is not None and type(current).__qualname__ != cls.__qualname__:
            raise ValueError(f"connector key {cls.key!r} is already taken by {type(current).__name__}")
        _connectors[cls.key] = instance
    return cls


def unregister(key: str) -> None:
    """Remove a connector (tests registering throw-away connectors clean up with this)."""
    with _lock:
        _connectors.pop(key, None)


def get(key: str) -> Connector:
    """The connector registered under ``key`` (one shared, stateless instance); ``UnknownConnector`` otherwise."""
    _ensure_loaded()
    try:
        return _connectors[key]
    except KeyError:
        raise UnknownConnector(
            f"no connector registered under {key!r}; known: {sorted(_connectors)}"
        ) from None


def all_connectors() -> list[Connector]:
    """Every registered connector, sorted by key."""
    _ensure_loaded()
    return [_connectors[k] for k in sorted(_connectors)]


def has_capability(key: str, capability: str, config: Mapping[str, Any] | None = None) -> bool:
    """True when connector ``key`` exists and offers ``capability`` (for an account with ``config``, if given)."""
    _ensure_loaded()
    connector = _connectors.get(key)
    return connector is not None and connector.supports(capability, config)


def connector_key_for(account: AccountRef) -> str:
    """The account's connector key, falling back to its network's default connector."""
    if account.connector:
        return account.connector
    return get_network(account.network).default_connector


def connector_for(account: AccountRef) -> Connector:
    """The connector instance serving ``account``: the one call domain code needs (it never names a network)."""
    return get(connector_key_for(account))


# --- networks ----------------------------------------------------------------------------------------------------


def register_network(spec: NetworkSpec) -> NetworkSpec:
    """Add a network to the catalogue (same spec twice is fine; a different spec under a taken key is not)."""
    with _lock:
        current = _networks.get(spec.key)
        if current is not None and current != spec:
            raise ValueError(f"network {spec.key!r} is already registered as {current!r}")
        _networks[spec.key] = spec
    return spec


def networks() -> list[NetworkSpec]:
    """Every registered network, sorted by label (for choice lists)."""
    _ensure_loaded()
    return sorted(_networks.values(), key=lambda s: s.label.lower())


def get_network(key: str) -> NetworkSpec:
    """The network registered under ``key``; ``UnknownConnector`` (a ``LookupError``) otherwise."""
    _ensure_loaded()
    try:
        return _networks[key]
    except KeyError:
        raise UnknownConnector(f"no network registered under {key!r}; known: {sorted(_networks)}") from None


def network_choices() -> list[tuple[str, str]]:
    """``[(key, label), ...]`` for a form or model field's choices."""
    return [(spec.key, spec.label) for spec in networks()]
