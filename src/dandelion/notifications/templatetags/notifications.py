"""``{% notification_bell %}``: the header bell. It renders without a query; the unread count is fetched by HTMX
right after the page loads (and every minute, and after each mark-read), so no page pays for it in its own
rendering and the pinned query counts of the pages stay what they are."""

from django import template

register = template.Library()


@register.inclusion_tag("notifications/partials/_bell.html", takes_context=True)
def notification_bell(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"hidden": True}
    return {"unread_count": None, "lazy": True}
