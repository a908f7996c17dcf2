from django import template

from dandelion.routing.durations import format_duration

register = template.Library()


@register.filter
def duration(seconds):
    """SLA targets as people read them: ``172800`` → ``2d``."""
    return format_duration(seconds) or "—"
