"""Navigation for the base template: the installed apps' entries (``AppConfig.nav``), filtered for the user."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from dandelion.core.permissions import get_grants, has_perm, is_hub_admin, is_team_scoped_only
from dandelion.core.plugins import navigation_entries


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    team_only = is_team_scoped_only(user)
    items = []
    for entry in navigation_entries():
        if team_only and not entry.team_scoped:
            continue
        if entry.perm and not has_perm(user, entry.perm):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "active": False})
    # the one item whose address is the longest prefix of the page's (/inbox/deliveries/ is not also the inbox)
    matching = [item for item in items if request.path.startswith(item["url"]) and item["url"] != "/"]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    grants = get_grants(user)
    return {
        "nav_items": items,
        "user_grants": grants,
        "user_is_hub_admin": is_hub_admin(user),
        "user_is_team_scoped": team_only,
    }
