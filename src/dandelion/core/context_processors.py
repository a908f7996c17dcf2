"""Navigation for the base template: the installed apps' entries (``AppConfig.nav``), filtered for the user.

A middleware that confines a login to a few pages (an invited guest's gathering) sets
``request.restricted_navigation`` to the ``(label, url)`` pairs that login may open: the sidebar then lists those
only, without the notification bell, the roles or the profile link (which that login could not open)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from dandelion.core.permissions import get_grants, has_perm, is_hub_admin, is_team_scoped_only
from dandelion.core.plugins import navigation_entries


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    restricted = getattr(request, "restricted_navigation", None)
    if restricted is not None:
        return {
            "nav_items": [{"label": label, "url": url, "active": request.path == url} for label, url in restricted],
            "nav_restricted": True,
            "user_grants": (),
            "user_is_hub_admin": False,
            "user_is_team_scoped": True,
        }
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
