"""What replay readers yield, and helpers they share."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from dandelion.connectors.base import InboundEvent
from dandelion.connectors.errors import PayloadError
from dandelion.connectors.validation import validate_event

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[4]


class ReplayError(ValueError):
    """A replay source cannot be opened or read (unknown format, missing file, malformed row)."""


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One event of a replayed stream.

    ``account_handle`` is the account the event belongs to, '@'-prefixed as in the account registry (None when the
    source does not say: the caller picks one). ``delay_s`` is the time since the previous record in the source's own
    clock (0 for the first), so a caller can replay at any speed-up.
    """

    event: InboundEvent
    account_handle: str | None
    delay_s: float


def datasets_dir() -> Path:
    """Where the shared datasets live: ``$DANDELION_DATASETS`` or ``<repo>/../shared/datasets``."""
    return Path(os.environ.get("DANDELION_DATASETS") or REPO_ROOT.parent / "shared" / "datasets")


def require_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or a ``ReplayError`` that says where datasets are looked for."""
    resolved = Path(path)
    if not resolved.exists():
        raise ReplayError(
            f"replay source {resolved} does not exist (datasets are read from $DANDELION_DATASETS or "
            f"<repo>/../shared/datasets; see its README.md)"
        )
    return resolved


def with_delays(events: Iterable[tuple[InboundEvent, str | None]]) -> Iterator[ReplayRecord]:
    """Wrap time-ordered ``(event, account_handle)`` pairs into records whose delay is the gap to the previous one.

    Every event goes through the shared validator (``connectors/validation.py``); a row the inbox could not store
    (an over-long id, a date outside 1970-2100, broken Unicode) is skipped with a warning naming it."""
    previous: dt.datetime | None = None
    for n, (event, handle) in enumerate(events):
        try:
            event = validate_event(event)
        except PayloadError as exc:
            log.warning("replay: record %d (%s) skipped: %s", n, getattr(event, "external_id", "?")[:40], exc)
            continue
        delay = 0.0 if previous is None else max(0.0, (event.created_at - previous).total_seconds())
        previous = event.created_at
        yield ReplayRecord(event=event, account_handle=handle, delay_s=delay)


def play(
    records: Iterable[ReplayRecord],
    *,
    speedup: float = 1.0,
    retime: bool = True,
    max_delay_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Iterator[ReplayRecord]:
    """Pace ``records`` in real time: wait ``delay_s / speedup`` (capped at ``max_delay_s``) before each.

    With ``retime`` the events' ``created_at`` become the wall-clock time they are played at, so a demo inbox looks
    live. ``speedup=float('inf')`` plays without waiting.
    """
    if speedup <= 0:
        raise ValueError("speedup must be positive")
    for record in records:
        wait = record.delay_s / speedup
        if max_delay_s is not None:
            wait = min(wait, max_delay_s)
        if wait > 0:
            sleep(wait)
        if retime:
            record = replace(record, event=replace(record.event, created_at=now()))
        yield record
