"""``{% notification_bell %}``: the header bell with the unread count (one COUNT on the indexed column)."""

from django import template

register = template.Library()


@register.inclusion_tag("notifications/partials/_bell.html", takes_context=True)
def notification_bell(context):
    from dandelion.notifications.services import unread_count

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"hidden": True}
    return {"unread_count": unread_count(user)}
