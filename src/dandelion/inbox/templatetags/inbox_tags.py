"""Template helpers of the inbox: SLA countdown badges and understanding chips."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

WARN_SECONDS = 15 * 60


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def sla_state(due, now=None) -> tuple[str, str]:
    """``(css class, label)`` of an SLA due time: time left, or how long ago it was breached."""
    if due is None:
        return "muted", "no SLA"
    left = (due - (now or timezone.now())).total_seconds()
    if left < 0:
        return "sla-breached", f"breached {_duration(left)} ago"
    return ("sla-warn" if left < WARN_SECONDS else "sla-ok"), f"{_duration(left)} left"


@register.simple_tag
def sla_badge(conversation):
    if conversation.status == "resolved" or not conversation.needs_reply:
        due = conversation.sla_due_at if conversation.status != "resolved" else None
        if due is None:
            return mark_safe('<span class="muted small">—</span>')  # noqa: S308 - a constant
    css, label = sla_state(conversation.sla_due_at)
    iso = conversation.sla_due_at.isoformat() if conversation.sla_due_at else ""
    return format_html('<span class="sla {}" data-due="{}" title="{}">{}</span>', css, iso, iso, label)


@register.filter
def score_chip(value, threshold=0.5):
    """'bad' chip class when a 0..1 score passes the threshold."""
    try:
        return "bad" if float(value) >= float(threshold) else ""
    except (TypeError, ValueError):
        return ""


@register.filter
def sentiment_class(value):
    return {"negative": "bad", "positive": "ok"}.get(value or "", "")


@register.filter
def pct(value):
    if value is None:
        return "—"
    return f"{value * 100:.1f} %"


@register.filter
def human_seconds(value):
    if value is None:
        return "—"
    return _duration(value)
