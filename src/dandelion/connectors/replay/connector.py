"""The ``replay`` connector: an inbound-only account fed from a replay source instead of a network.

Account config: ``{"format": "demo" | "twcs" | "xlmt" | "crisislex", "path": optional, "seed": optional,
"batch_size": optional}``. ``poll(account, since)`` returns the next records strictly after ``since`` (from the start
when None), at most ``batch_size`` of them but never splitting a group of records with the same timestamp, so the
caller can use the last ``created_at`` as its cursor. Records addressed to another account handle are skipped (the
demo generator is told to address this account only). Timestamps are the source's; use ``replay.play`` for live
pacing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from dandelion.connectors.base import AccountRef, Capability, ConfigField, Connector, InboundEvent
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.registry import register
from dandelion.connectors.replay.records import ReplayError, ReplayRecord
from dandelion.connectors.replay.sources import FORMATS, open_replay
from dandelion.connectors.validation import partition_events

log = logging.getLogger(__name__)

DEMO_SCAN_LIMIT = 100_000  # the demo stream is endless: never scan further than this for one poll


@register
class ReplayConnector(Connector):
    """Feeds an account from a dataset or the demo generator (inbound only: poll)."""

    key = "replay"
    label = "Replay (datasets and demo traffic)"
    capabilities = frozenset({Capability.POLL})
    config_schema: ClassVar[Mapping[str, ConfigField]] = {
        "format": ConfigField(str, True, f"One of: {', '.join(FORMATS)}."),
        "path": ConfigField(str, False, "Dataset file or folder (default: the shared datasets folder)."),
        "seed": ConfigField(int, False, "Seed of the demo generator / xlmt shuffle.", 0),
        "batch_size": ConfigField(int, False, "Most events returned by one poll.", 100),
    }

    def validate_config(self, config: Any) -> dict[str, Any]:
        clean = super().validate_config(config)
        if clean["format"] not in FORMATS:
            raise ConfigError({"format": f"must be one of {', '.join(FORMATS)}"})
        if clean["batch_size"] < 1:
            raise ConfigError({"batch_size": "must be at least 1"})
        return clean

    def _records(self, account: AccountRef, config: dict[str, Any]) -> Iterator[ReplayRecord]:
        fmt = config["format"]
        try:
            if fmt == "demo":
                return open_replay("demo", seed=config["seed"], accounts=[account.handle])
            options = {"seed": config["seed"]} if fmt == "xlmt" else {}
            return open_replay(fmt, config.get("path"), **options)
        except ReplayError as exc:
            raise ConnectorError(str(exc), permanent=True) from exc

    def poll(self, account: AccountRef, since: dt.datetime | None) -> list[InboundEvent]:
        config = self.validate_config(account.config)
        limit = config["batch_size"]
        records = self._records(account, config)
        if config["format"] == "demo":
            records = itertools.islice(records, DEMO_SCAN_LIMIT)
        out: list[InboundEvent] = []
        for record in records:
            event = record.event
            if since is not None and event.created_at <= since:
                continue
            if len(out) >= limit and event.created_at != out[-1].created_at:
                break
            if record.account_handle not in (None, account.handle):
                continue
            out.append(event)
        good, bad = partition_events(out)  # the shared gate: a record the inbox could not store is left out
        for index, error in bad:
            log.warning("replay account %s: event %s skipped: %s", account.id, out[index].external_id[:40], error)
        return good
