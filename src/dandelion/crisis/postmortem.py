"""The post-mortem of an incident: its figures (from the stored timestamps, never typed in) and its Markdown.

* **time to detect**: from the first mention of the spike's firing window (``spike_started_at``) to the alert
  (``detected_at``); none for an incident opened by hand;
* **time to open**: from the alert to the room (``opened_at``);
* **time to respond**: from the room's opening to the first thing a person did in it (``first_response_at``);
* **time to close**: from the opening to ``closed_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any


def _minutes(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0) / 60, 1)


def figures(incident) -> dict[str, Any]:
    return {
        "time_to_detect_minutes": _minutes(incident.spike_started_at, incident.detected_at),
        "time_to_open_minutes": _minutes(incident.detected_at, incident.opened_at)
        if incident.spike_started_at else None,
        "time_to_respond_minutes": _minutes(incident.opened_at, incident.first_response_at),
        "time_to_close_minutes": _minutes(incident.opened_at, incident.closed_at),
    }


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:g} min"
    return f"{value / 60:.1f} h"


def _md(text: str) -> str:
    return text.replace("\r", "").replace("\n", " ").replace("|", "\\|")


def render_markdown(incident, log: Sequence) -> str:
    f = figures(incident)
    lines = [
        f"# Post-mortem: {_md(incident.title)}",
        "",
        f"- Unit: {_md(incident.unit.name)} (and below)",
        f"- Severity: {incident.severity}/10; source: {incident.get_source_display()}",
        f"- PR owner: {incident.owner.get_username() if incident.owner_id else '—'}",
        f"- Opened: {incident.opened_at:%Y-%m-%d %H:%M} UTC",
        f"- Closed: {incident.closed_at:%Y-%m-%d %H:%M} UTC" if incident.closed_at else "- Closed: —",
        f"- Spike began: {incident.spike_started_at:%Y-%m-%d %H:%M} UTC; detected: "
        f"{incident.detected_at:%Y-%m-%d %H:%M} UTC" if incident.spike_started_at and incident.detected_at
        else "- Spike: — (opened by hand)",
        "",
        "## What happened",
        "",
        incident.summary or "—",
        "",
        "## Response times",
        "",
        "| measure | value |",
        "|---|---|",
        f"| time to detect (first mention of the spike → alert) | {_fmt(f['time_to_detect_minutes'])} |",
        f"| time to open the room (alert → room) | {_fmt(f['time_to_open_minutes'])} |",
        f"| time to respond (room → first action of a person) | {_fmt(f['time_to_respond_minutes'])} |",
        f"| time to close | {_fmt(f['time_to_close_minutes'])} |",
        "",
    ]
    lines += ["## Timeline", "", "| when (UTC) | who | what |", "|---|---|---|"]
    lines += [f"| {e.at:%Y-%m-%d %H:%M} | {_md(e.actor_repr)} | {_md(e.text)} |" for e in log]
    actions = [e for e in log if e.kind in ("action", "decision")]
    lines += ["", "## Actions and decisions", ""]
    lines += [f"- {e.at:%H:%M} {_md(e.actor_repr)} ({e.kind}): {_md(e.text)}" for e in actions] or ["—"]
    if incident.holding_statement:
        lines += ["", "## Holding statement", "", incident.holding_statement]
    return "\n".join(lines) + "\n"
