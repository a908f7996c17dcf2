from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds for people: "45 s", "12 min", "3.5 h", "2.1 d"; "—" for none."""
    if seconds is None or seconds == "":
        return "—"
    s = float(seconds)
    if s < 60:
        return _("%(n)d s") % {"n": round(s)}
    if s < 3600:
        return _("%(n)d min") % {"n": round(s / 60)}
    if s < 86400:
        return _("%(n).1f h") % {"n": s / 3600}
    return _("%(n).1f d") % {"n": s / 86400}


@register.filter
def percent(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f} %"


@register.filter
def measure(value, name: str) -> str:
    """A headline value formatted for its measure."""
    if name.endswith("_s"):
        return duration(value)
    if name.endswith(("rate", "share")):
        return percent(value)
    return "—" if value is None else f"{value:,}".replace(",", " ")


@register.filter
def signed_change(value) -> str:
    if value is None:
        return ""
    return f"{'+' if value > 0 else ''}{float(value) * 100:.0f} %"
