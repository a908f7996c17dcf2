"""Connectors: the plugins between Dandelion and the networks (pure Python; see docs/development/adding-a-connector.md).

* ``base``: capability Protocols, the dataclasses that cross them, ``Connector``;
* ``errors``: ``ConnectorError(permanent, retry_after)``, ``PayloadError``, ``SignatureError``, ``ConfigError``;
* ``registry``: ``get(key)``, ``connector_for(account)``, ``has_capability``, the network catalogue;
* ``generic``: the documented webhook format; ``fake``: in-memory, for tests and demos; ``replay``: datasets and
  demo traffic as inbound events.
"""
