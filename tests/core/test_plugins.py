"""Apps plug themselves in: installing an app (INSTALLED_APPS, nothing else) adds its navigation, grants, API routes,
HTML urls and demo seed; the central lists are gone."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from dandelion.core import plugins
from dandelion.core.context_processors import navigation
from dandelion.core.permissions import role_allows, role_grants
from tests.app_registry import installed_apps

PLUGGED = [*settings.INSTALLED_APPS, "tests.plugin_app"]


def installed():
    """The test app installed, with a root urlconf built for it."""
    return installed_apps(PLUGGED, ROOT_URLCONF="tests.plugin_app.root_urls")


def nav_labels(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return [str(item["label"]) for item in navigation(request)["nav_items"]]


def test_the_domain_apps_declare_the_navigation_in_order():
    assert [e.url_name for e in plugins.navigation_entries()] == [
        "inbox:queue", "orgs:tree", "assets:account-list", "routing:rule-list", "publishing:post-list",
        "orgs:guideline-list", "listening:query-list", "crisis:incident-list", "core:audit-list",
        "sites:site-list", "analytics:dashboard", "analytics:leaderboard", "analytics:story-list", "inbox:metrics",
        "community:home", "inbox:deliveries",
        "webhooks:subscription-list", "sso:provider-list"]


def test_role_grants_merge_the_base_and_the_apps_contributions():
    grants = role_grants()
    assert grants["hub_admin"] == ("*",)
    assert grants["spoke_admin"][:4] == ("*.view_*", "*.add_*", "*.change_*", "*.delete_*")
    assert {"assets.*", "inbox.*", "routing.*", "orgs.manage_members"} <= set(grants["spoke_admin"])
    assert role_allows("helper_agent", "inbox.reply_conversation")
    assert role_allows("helper_agent", "assets.view_socialaccount")
    assert not role_allows("helper_agent", "assets.change_socialaccount")
    assert role_allows("external_moderator", "inbox.moderate_conversation")
    assert not role_allows("external_moderator", "orgs.view_orgunit")
    assert role_allows("analyst", "orgs.acknowledge_guideline")  # common to every role
    assert not role_allows("no_such_role", "orgs.acknowledge_guideline")


def test_api_and_html_urls_come_from_the_app_configs():
    assert reverse("api:socialaccount-list") == "/api/v1/accounts/"
    assert reverse("api:routingrule-list") == "/api/v1/routing-rules/"
    assert reverse("core:audit-list") == "/audit/"
    assert reverse("inbox:queue") == "/inbox/"
    assert reverse("hooks:receive", args=[1]) == "/hooks/1/"  # an app's extra mount


def test_retention_policies_are_collected_from_the_apps():
    from dandelion.core.retention import policies

    names = {p.name for p in policies()}
    assert {"core.periodic_runs", "tasks.successful", "inbox.deliveries", "inbox.failed_deliveries"} <= names


def test_demo_seeds_run_after_their_dependencies():
    order = [label for label, _seed in plugins.demo_seeds()]
    assert order[0] == "orgs"
    assert set(order) == {"orgs", "assets", "routing", "inbox", "community", "sso", "publishing", "analytics",
                          "listening", "crisis", "sites"}
    assert order.index("sso") > order.index("assets")


@pytest.mark.django_db
def test_installing_an_app_adds_its_nav_grant_api_route_and_seed(org, client_for, api_for):
    analyst, moderator = org.users.analyst, org.users.moderator
    assert not role_allows("analyst", "plugin_app.launch_rocket")
    with pytest.raises(NoReverseMatch):
        reverse("plugin_app:index")

    with installed():
        # grants: the app's pattern for its role, merged with the base (hub_admin's "*" not repeated)
        assert role_allows("analyst", "plugin_app.launch_rocket")
        assert not role_allows("helper_agent", "plugin_app.launch_rocket")
        assert role_grants()["hub_admin"] == ("*",)
        # navigation: in its order, and shown to team-scoped people because it says so
        assert nav_labels(analyst)[:3] == ["Inbox", "Plugged", "Organisation"]
        assert nav_labels(moderator) == ["Inbox", "Plugged", "Guidelines"]
        # HTML urls and the API route
        assert reverse("plugin_app:index") == "/plugin_app/"
        assert client_for(analyst).get("/plugin_app/").content == b"plugged"
        response = api_for(analyst).get(reverse("api:plugged-list"))
        assert response.status_code == 200 and response.json() == {"plugged": True}
        assert reverse("api:socialaccount-list") == "/api/v1/accounts/"  # the others still there
        # the demo seed runs after the organisation's
        assert [label for label, _ in plugins.demo_seeds()][:1] == ["orgs"]
        assert "plugin_app" in {label for label, _ in plugins.demo_seeds()}

    # uninstalled: gone again
    assert not role_allows("analyst", "plugin_app.launch_rocket")
    assert "Plugged" not in nav_labels(analyst)
    assert "plugin_app" not in {label for label, _ in plugins.demo_seeds()}


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_audited_as_system():
    from dandelion.core.demo import seed_demo
    from dandelion.core.models import AuditEvent
    from tests.plugin_app import views

    views.SEEDED.clear()
    with installed():
        first = seed_demo()
    assert views.SEEDED == [sorted(first.units)] and "group" in views.SEEDED[0]  # ran after the organisation
    assert first.counts["plugged"] == 1
    second = seed_demo()
    assert {k: v for k, v in first.counts.items() if k != "plugged"} == second.counts
    assert first.counts["units"] >= 10 and first.counts["accounts"] > 30
    row = AuditEvent.objects.filter(action="core.demo.seed").latest("id")
    assert row.actor_id is None and row.actor_repr == "system"
    assert ("hana.hub", "hub admin", "group") in first.logins
