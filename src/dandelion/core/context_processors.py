"""Navigation for the base template, built from the user's grants."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse

from dandelion.core.permissions import get_grants, is_hub_admin, is_team_scoped_only

NAV = (
    # (label, url name, visible to team-scoped people only-their-queue?)
    ("Inbox", "inbox:queue", True),
    ("Organisation", "orgs:tree", False),
    ("Accounts", "assets:account-list", False),
    ("Routing", "routing:rule-list", False),
    ("Guidelines", "orgs:guideline-list", True),
    ("Audit log", "core:audit-list", False),
    ("Metrics", "inbox:metrics", False),
    ("Deliveries", "inbox:deliveries", False),
    ("Webhooks", "webhooks:subscription-list", False),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    team_only = is_team_scoped_only(user)
    items: list[dict[str, Any]] = []
    for label, name, for_team_scoped in NAV:
        if team_only and not for_team_scoped:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "active": False})
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
