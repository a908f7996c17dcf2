"""iCalendar (RFC 5545) feeds of gatherings, written with the ``icalendar`` library."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vText

from dandelion.community.models import Gathering

PRODID = "-//Dandelion//Community gatherings//EN"


def _uid(gathering: Gathering) -> str:
    host = (getattr(settings, "ALLOWED_HOSTS", None) or ["dandelion.local"])[0].lstrip(".") or "dandelion.local"
    if host == "*":
        host = "dandelion.local"
    return f"gathering-{gathering.pk}@{host}"


def calendar_for(gatherings: Iterable[Gathering], *, name: str, base_url: str = "") -> bytes:
    """One VCALENDAR with a VEVENT per gathering (cancelled ones marked CANCELLED so calendars drop them)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    now = timezone.now()
    for g in gatherings:
        ev = Event()
        ev.add("uid", _uid(g))
        ev.add("dtstamp", now)
        ev.add("dtstart", g.starts_at)
        ev.add("dtend", g.ends_at)
        ev.add("summary", g.title)
        description = g.description or ""
        if g.online_url:
            description = f"{description}\n\n{g.online_url}".strip()
        if description:
            ev.add("description", description)
        if g.place:
            ev["location"] = vText(g.place)
        elif g.online_url:
            ev["location"] = vText(g.online_url)
        if base_url:
            ev.add("url", base_url.rstrip("/") + g.get_absolute_url())
        ev.add("status", "CANCELLED" if g.is_cancelled else "CONFIRMED")
        ev.add("last-modified", g.updated_at)
        cal.add_component(ev)
    return cal.to_ical()
