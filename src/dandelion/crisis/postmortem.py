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
from dataclasses import dataclass
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


# --- one section model, two renderings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Step:
    """A line of the playbook's checklist as the post-mortem tells it."""

    done: bool
    title: str
    owner_role: str
    due: str  # "HH:MM" or ""
    done_by: str  # "HH:MM by someone" or ""


@dataclass(frozen=True)
class Chart:
    title: str
    labels: tuple[str, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True)
class Section:
    """One section of the post-mortem: a title and its blocks (text, ``label: value`` facts, bullets, a table,
    checklist steps, a chart). :func:`sections` builds them once; :func:`render_markdown` and :func:`render_pdf`
    only lay them out, so both always tell the same post-mortem."""

    title: str
    text: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    bullets: tuple[str, ...] = ()
    table: Table | None = None
    steps: tuple[Step, ...] = ()
    chart: Chart | None = None


def _at(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return f"{value:{fmt}}" if value else ""


def sections(incident, log: Sequence) -> list[Section]:
    """The post-mortem of ``incident`` (its ``log`` lines oldest first) as sections, in reading order."""
    from dandelion.crisis.timeline import series

    f = figures(incident)
    spike = (f"began {_at(incident.spike_started_at)} UTC; detected {_at(incident.detected_at)} UTC"
             if incident.spike_started_at and incident.detected_at else "— (opened by hand)")
    out = [Section("", facts=(
        ("Unit", f"{incident.unit.name} (and below)"),
        ("Severity", f"{incident.severity}/10; source: {incident.get_source_display()}"),
        ("PR owner", incident.owner.get_username() if incident.owner_id else "—"),
        ("Opened", f"{_at(incident.opened_at)} UTC"),
        ("Closed", f"{_at(incident.closed_at)} UTC" if incident.closed_at else "—"),
        ("Spike", spike),
        ("Conversations routed to PR", str(incident.routed_conversations.count())),
    )),
        Section("What happened", text=(incident.summary or "—",)),
        Section("Response times", table=Table(("measure", "value"), (
            ("time to detect (first mention of the spike → alert)", _fmt(f["time_to_detect_minutes"])),
            ("time to open the room (alert → room)", _fmt(f["time_to_open_minutes"])),
            ("time to respond (room → first action of a person)", _fmt(f["time_to_respond_minutes"])),
            ("time to close", _fmt(f["time_to_close_minutes"])))))]
    data = series(incident)
    if data["counts"]:
        out.append(Section("Volume", chart=Chart(f"Mentions per {data['interval_minutes']} minutes",
                                                 tuple(data["labels"]), tuple(data["counts"]))))
    out.append(Section("Timeline", table=Table(("when (UTC)", "who", "what"), tuple(
        (_at(e.at), e.actor_repr, e.text) for e in log))))
    checklist = list(incident.checklist.select_related("done_by").order_by("position"))
    if checklist:
        done = sum(1 for item in checklist if item.done_at)
        out.append(Section(
            f"Playbook: {incident.playbook.name if incident.playbook_id else '—'} ({done}/{len(checklist)} done)",
            steps=tuple(Step(done=item.done_at is not None, title=item.title, owner_role=item.owner_role,
                             due=_at(item.due_at, "%H:%M"),
                             done_by=(f"{_at(item.done_at, '%H:%M')} by "
                                      f"{item.done_by.get_username() if item.done_by_id else '—'}"
                                      if item.done_at else ""))
                        for item in checklist)))
    updates = list(incident.stakeholder_updates.order_by("sent_at", "pk"))
    if updates:
        out.append(Section("Stakeholder updates", table=Table(("sent (UTC)", "recipients", "subject"), tuple(
            (_at(u.sent_at), str(len(u.recipients)), u.subject) for u in updates))))
    acts = [e for e in log if e.kind in ("action", "decision")]
    out.append(Section("Actions and decisions",
                       bullets=tuple(f"{_at(e.at, '%H:%M')} {e.actor_repr} ({e.kind}): {e.text}" for e in acts)))
    if incident.holding_statement:
        translations = sorted((incident.statement_translations or {}).items())
        out.append(Section("Holding statement", text=(incident.holding_statement,),
                           facts=tuple((language, text) for language, text in translations)))
    return out


def render_markdown(incident, log: Sequence) -> str:
    """The post-mortem as Markdown (stored on the incident when it closes)."""
    lines = [f"# Post-mortem: {_md(incident.title)}"]
    for section in sections(incident, log):
        lines.append("")
        if section.title:
            lines += [f"## {_md(section.title)}", ""]
        lines += [text for text in section.text]
        if section.text and section.facts:
            lines.append("")
        lines += [f"- {label}: {_md(value)}" for label, value in section.facts]
        if section.chart is not None:
            counts = section.chart.counts
            lines.append(f"{section.chart.title}: {sum(counts)} in all, at most {max(counts)} in one interval "
                         f"({section.chart.labels[0]} → {section.chart.labels[-1]}).")
        if section.table is not None:
            lines += ["| " + " | ".join(section.table.columns) + " |", "|" + "---|" * len(section.table.columns)]
            lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in section.table.rows]
        lines += [f"- [{'x' if s.done else ' '}] {_md(s.title)} ({s.owner_role}"
                  + (f", due {s.due}" if s.due else "") + (f"; done {s.done_by}" if s.done_by else "") + ")"
                  for s in section.steps]
        if section.title == "Actions and decisions" or section.bullets:
            lines += [f"- {_md(b)}" for b in section.bullets] or ["—"]
    return "\n".join(lines) + "\n"


def render_pdf(incident, log: Sequence) -> bytes:
    """The post-mortem as a PDF (``core.pdf``): the same sections as the Markdown, the spike's volume as a chart."""
    from dandelion.core.pdf import PdfDocument

    doc = PdfDocument(title=f"Post-mortem: {incident.title}",
                      subtitle=f"{incident.unit.name} · severity {incident.severity}/10")
    for section in sections(incident, log):
        if section.title:
            doc.heading(section.title, level=2)
        for text in section.text:
            doc.paragraph(text)
        for label, value in section.facts:
            doc.paragraph(f"{label}: {value}")
        if section.chart is not None:
            doc.bar_chart(section.chart.title, labels=list(section.chart.labels),
                          series={"mentions": list(section.chart.counts)})
        if section.table is not None:
            doc.table(list(section.table.columns), [list(row) for row in section.table.rows])
        if section.steps:
            doc.table(["task", "owner", "due", "done"],
                      [[s.title, s.owner_role, s.due or "—", s.done_by or "—"] for s in section.steps])
        if section.title == "Actions and decisions" or section.bullets:
            for bullet in section.bullets or ("—",):
                doc.paragraph(bullet)
    return doc.render()
