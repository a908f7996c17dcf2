"""The post-mortem of an incident: its figures (from the stored timestamps, never typed in) and its Markdown.

* **time to detect**: from the first mention of the spike's firing window (``spike_started_at``) to the alert
  (``detected_at``); none for an incident opened by hand;
* **time to open**: from the alert to the room (``opened_at``);
* **time to respond**: from the room's opening to the first thing a person did in it (``first_response_at``);
* **time to close**: from the opening to ``closed_at``.

The export (``?format=html`` on the post-mortem page) is one self-contained HTML document: the figures, the volume
chart drawn as SVG on the server (:func:`volume_chart`, no script), the playbook's checklist with who ticked what
when, the stakeholder updates, the actions and the whole timeline; its print stylesheet makes "print to PDF" the PDF.
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


def actions(incident) -> list:
    """The log's actions and decisions, oldest first."""
    return list(incident.log.filter(kind__in=("action", "decision")).order_by("at", "pk"))


CHART_W, CHART_H = 640, 160


def volume_chart(incident) -> dict[str, Any]:
    """The spike's mentions per interval as SVG bars (``x``, ``y``, ``w``, ``h`` in a CHART_W × CHART_H box) with
    the peak and the first and last labels; no bar when no query is linked."""
    from dandelion.crisis.timeline import series

    data = series(incident)
    counts = data["counts"]
    peak = max(counts, default=0)
    step = CHART_W / max(len(counts), 1)
    bars = [] if not peak else [
        {"x": round(i * step, 2), "w": round(max(step - 1, 0.5), 2), "h": round(CHART_H * c / peak, 2),
         "y": round(CHART_H - CHART_H * c / peak, 2), "count": c, "at": data["labels"][i]}
        for i, c in enumerate(counts) if c]
    return {"width": CHART_W, "height": CHART_H, "bars": bars, "peak": peak, "total": sum(counts),
            "interval_minutes": data["interval_minutes"], "start": data["labels"][0] if data["labels"] else "",
            "end": data["labels"][-1] if data["labels"] else ""}


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
    checklist = list(incident.checklist.select_related("done_by").order_by("position"))
    if checklist:
        done = sum(1 for item in checklist if item.done_at)
        lines += ["", (f"## Playbook: {_md(incident.playbook.name) if incident.playbook_id else '—'} "
                      f"({done}/{len(checklist)} done)"), ""]
        lines += [f"- [{'x' if item.done_at else ' '}] {_md(item.title)} ({item.owner_role}"
                  + (f", due {item.due_at:%H:%M}" if item.due_at else "")
                  + (f"; done {item.done_at:%H:%M} by {item.done_by.get_username() if item.done_by_id else '—'}"
                     if item.done_at else "") + ")" for item in checklist]
    updates = list(incident.stakeholder_updates.order_by("sent_at", "pk"))
    if updates:
        lines += ["", "## Stakeholder updates", ""]
        lines += [f"- {u.sent_at:%Y-%m-%d %H:%M} to {len(u.recipients)} recipient(s): {_md(u.subject)}"
                  for u in updates]
    actions = [e for e in log if e.kind in ("action", "decision")]
    lines += ["", "## Actions and decisions", ""]
    lines += [f"- {e.at:%H:%M} {_md(e.actor_repr)} ({e.kind}): {_md(e.text)}" for e in actions] or ["—"]
    if incident.holding_statement:
        lines += ["", "## Holding statement", "", incident.holding_statement]
    return "\n".join(lines) + "\n"


def render_pdf(incident, log: Sequence) -> bytes:
    """The post-mortem as a PDF (``core.pdf``): the same sections as the Markdown, the spike's volume as a chart."""
    from dandelion.core.pdf import PdfDocument
    from dandelion.crisis.timeline import series

    f = figures(incident)
    closed = f"{incident.closed_at:%Y-%m-%d %H:%M} UTC" if incident.closed_at else "—"
    doc = PdfDocument(title=f"Post-mortem: {incident.title}",
                      subtitle=f"{incident.unit.name} · severity {incident.severity}/10 · opened "
                               f"{incident.opened_at:%Y-%m-%d %H:%M} UTC · closed {closed}")
    doc.paragraph(f"PR owner: {incident.owner.get_username() if incident.owner_id else '—'}; source: "
                  f"{incident.get_source_display()}")
    doc.heading("What happened", level=2).paragraph(incident.summary or "—")
    doc.heading("Response times", level=2).table(["measure", "value"], [
        ["time to detect (first mention of the spike → alert)", _fmt(f["time_to_detect_minutes"])],
        ["time to open the room (alert → room)", _fmt(f["time_to_open_minutes"])],
        ["time to respond (room → first action of a person)", _fmt(f["time_to_respond_minutes"])],
        ["time to close", _fmt(f["time_to_close_minutes"])]])
    data = series(incident)
    if data["counts"]:
        doc.bar_chart(f"Mentions per {data['interval_minutes']} minutes", labels=data["labels"],
                      series={"mentions": data["counts"]})
    doc.heading("Timeline", level=2).table(["when (UTC)", "who", "what"],
                                           [[f"{e.at:%Y-%m-%d %H:%M}", e.actor_repr, e.text] for e in log])
    checklist = list(incident.checklist.select_related("done_by").order_by("position"))
    if checklist:
        doc.heading(f"Playbook: {incident.playbook.name if incident.playbook_id else '—'}", level=2).table(
            ["task", "owner", "done"],
            [[item.title, item.owner_role,
              f"{item.done_at:%H:%M} by {item.done_by.get_username() if item.done_by_id else '—'}"
              if item.done_at else "—"] for item in checklist])
    updates = list(incident.stakeholder_updates.order_by("sent_at", "pk"))
    if updates:
        doc.heading("Stakeholder updates", level=2).table(
            ["sent (UTC)", "recipients", "subject"],
            [[f"{u.sent_at:%Y-%m-%d %H:%M}", len(u.recipients), u.subject] for u in updates])
    return doc.render()
